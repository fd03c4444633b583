"""Sharing: settings as URL parameters (``link``), the recipe download (``bundle``); share box."""
