"""A network's answers: single and batch predictions, test report, model files; Predict page."""
