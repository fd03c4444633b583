"""Seeing inside a network: decision surface, weights diagram, backprop formulas; Inside page."""
