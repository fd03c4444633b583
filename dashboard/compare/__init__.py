"""Comparing runs: records, seed studies, charts, settings diff, baselines; the Compare page."""
