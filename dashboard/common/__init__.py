"""Shared by every feature: names as text, demo limits, training slots, charts, page frame."""
