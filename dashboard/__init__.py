"""The app's code behind the pages, one folder per feature.

Each folder holds its pure logic (plain Python, pandas, plotly; no Streamlit, testable without
a server) and one ``*_ui.py`` module with its widgets. Only ``*_ui.py`` modules and
``dashboard/state.py`` (the one owner of every session-state key) import Streamlit;
tests/test_layout.py checks it. Dependencies point one way: pages -> dashboard -> nn.

- ``common/``: names as text, the demo limits, the server's training slots, shared chart
  helpers; ``page_ui`` draws what every page shares (config, navigation, messages).
- ``data/``: the dataset catalogue, CSV uploads and splits; the Data page.
- ``architecture/``: architecture settings to network config; the Architecture page.
- ``training/``: the live training loop (``loop.Trainer``, ``loop.Status``); the Train page.
- ``predict/``: the network's answers, tables and model files; the Predict page.
- ``inside/``: decision surfaces, the weights diagram, backprop as formulas; the Inside page.
- ``compare/``: run records, seed studies, comparison charts, scikit-learn baselines; Compare.
- ``share/``: the URL codec and the recipe download; the share box.
"""
