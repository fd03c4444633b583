"""Small helpers for widgets whose values must outlive the page they are drawn on."""

from __future__ import annotations

import streamlit as st

from dashboard.text import md_escape


def bind(key: str, value) -> None:
    """Give the widget ``key`` the value ``value`` unless it already has one.

    Streamlit drops a widget's value when its page is not shown; the app keeps the value in its
    own state and seeds the widget from it here, before the widget is drawn.
    """
    if key not in st.session_state:
        st.session_state[key] = value


def forget(prefix: str) -> None:
    """Drop every widget value whose key starts with ``prefix`` (they reseed from app state)."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]


def show_limit_messages(messages: list[str]) -> None:
    """Tell the user which values were clamped to the demo's limits."""
    for message in messages:
        st.warning(md_escape(message, max_len=400), icon=":material/block:")
