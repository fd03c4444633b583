"""Datasets: the catalogue, CSV uploads within the limits, splits (``datasets``); the Data page."""
