"""Architecture settings to a network config and back (``build``); the Architecture page."""
