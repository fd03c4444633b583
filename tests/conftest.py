"""Shared fixtures."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
# Every app the tests open (AppTest sessions, and the servers of the browser tests, which inherit
# the environment) keeps its workspaces in a store of this test run, not in the repository's
# data/store; tests of the store itself give their servers their own.
os.environ.setdefault(
    "NN_LAB_STORE", f"sqlite:///{tempfile.mkdtemp(prefix='nnlab-test-store-')}/workspaces.sqlite"
)


@pytest.fixture
def clear_streamlit_caches():
    """Empty Streamlit's caches before and after a test (AppTest shares one process)."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def app(clear_streamlit_caches):
    """``app(page)`` opens the app on a page (e.g. "pages/3_Train.py") in a fresh session."""

    def open_page(page: str | None = None, timeout: float = 60) -> AppTest:
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=timeout)
        if page is not None:
            at.switch_page(page)
        return at.run()

    return open_page
