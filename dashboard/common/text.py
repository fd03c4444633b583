"""Showing text that comes from users (CSV headers and cells, class labels, file names, URL
values, names inside model files) safely, and the one rule for the CSV files the app writes.

Every such string goes through ``md_escape`` before an element that renders Markdown
(``st.metric`` values and labels, ``st.caption``, ``st.markdown``, message boxes, widget labels,
tab and expander titles), or is shown with ``st.text``/``st.dataframe``/plotly after
``display_name``.
"""

from __future__ import annotations

import re
import string
import unicodedata

from nn.text import BIDI_CONTROLS, csv_cell_text, csv_safe_cell, strip_bidi

__all__ = [
    "BIDI_CONTROLS",
    "WORD_JOINER",
    "csv_cell_text",
    "csv_safe_cell",
    "display_name",
    "md_escape",
    "sentence",
]

# CommonMark lets a backslash escape any ASCII punctuation, so escaped text renders literally.
_PUNCTUATION = set(string.punctuation)
# Escaping does not stop GitHub-flavoured autolinks: Streamlit's Markdown finds
# "https://...", "www.x.y" and "a@b.c" in the text after the escapes are resolved and makes
# them live links (checked in Chromium). An invisible word joiner breaks each match and reads
# the same: after a ":" that a letter, digit or "/" follows ("https:" + joiner + "//"; and
# ":name:" is then no emoji shortcode), between "www" and ".", and after "@".
WORD_JOINER = "\u2060"
_AUTOLINK_BREAKS = re.compile(r"(?<=:)(?=[\w/+-])|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)


def display_name(text, max_len: int | None = None) -> str:
    """A user-supplied name as it is shown anywhere: no bidirectional or other control
    characters, whitespace collapsed to single spaces, and at most ``max_len`` characters
    (shortened with "…")."""
    text = strip_bidi(str(text))
    text = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) != "Cc")
    text = " ".join(text.split())
    if max_len is not None and len(text) > max_len:
        text = text[: max(max_len - 1, 0)] + "…"
    return text


def md_escape(text, max_len: int = 200) -> str:
    """``text`` for Streamlit Markdown (labels, captions, metrics, messages): shown as
    ``display_name`` shows it, shortened to ``max_len``, every punctuation character
    backslash-escaped and no address turned into a link."""
    text = _AUTOLINK_BREAKS.sub(WORD_JOINER, display_name(text, max_len))
    return "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in text)


def sentence(message) -> str:
    """A message as a sentence: capital first letter, final full stop."""
    text = str(message).strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
