"""Streamlit-aware helpers shared by the pages: state, limits, widgets, charts, training loop.

Importing the package imports nothing heavy: ``dashboard.training`` and ``dashboard.charts`` work
without a running Streamlit server (the benchmarks call them directly).
"""
