"""Showing text that comes from users (CSV headers and cells, file names) safely."""

from __future__ import annotations

import string

# CommonMark lets a backslash escape any ASCII punctuation, so escaped text renders literally.
_PUNCTUATION = set(string.punctuation)


def md_escape(text, max_len: int = 200) -> str:
    """``text`` escaped for Streamlit markdown (labels, captions, messages), shortened."""
    text = " ".join(str(text).split())
    if len(text) > max_len:
        text = text[: max_len - 1] + "…"
    return "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in text)


def csv_safe_cell(value):
    """A string cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def sentence(message) -> str:
    """A message as a sentence: capital first letter, final full stop."""
    text = str(message).strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
