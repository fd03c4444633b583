"""The visitor's workspace kept on the server under a token in the address.

``backend``: the storage layer (SQLite or PostgreSQL, opaque items per workspace, size caps,
expiry, corruption recovery; no Streamlit). ``workspace``: the workspace to and from items.
``store_ui``: the session's workspace brought back, saved and forgotten, and the Home page's
box with the Forget button.
"""
