"""Text from data files: names without bidirectional controls, CSV cells no spreadsheet runs.

One rule each, shared by the engine (``nn.data`` reads names, ``nn.recipe`` writes a CSV) and the
app (``dashboard.common.text`` re-exports them), so every CSV the lab writes follows the same rule.
"""

from __future__ import annotations

import re

# Characters that reorder the text around them (Unicode's explicit bidirectional formatting
# characters and marks): in a name they make "gnp.exe" read as "exe.png".
BIDI_CONTROLS = frozenset(
    "\u061c"  # ARABIC LETTER MARK
    "\u200e\u200f"  # LEFT-TO-RIGHT MARK, RIGHT-TO-LEFT MARK
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
)
_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")

# A spreadsheet runs a cell that starts with one of these as a formula (tab and carriage return
# are stripped first by some). An apostrophe in front makes it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number such as -1.5 or +2e-3 is a number to a spreadsheet too, not a formula.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def strip_bidi(text: str) -> str:
    """``text`` without bidirectional control characters (``BIDI_CONTROLS``)."""
    return _BIDI.sub("", text)


def csv_safe_cell(value):
    """A string cell that a spreadsheet would run as a formula, with a leading apostrophe.

    Strings that start with one of ``FORMULA_STARTS`` get the apostrophe, unless they are a
    plain number (``"-1.5"`` stays as it is); so does a string that already starts with an
    apostrophe, which makes the rule reversible: a cell read back that starts with an
    apostrophe had one added (``csv_cell_text``). Anything that is not a string (a number, a
    missing value) is returned unchanged.
    """
    if not isinstance(value, str) or not value.startswith((*FORMULA_STARTS, "'")):
        return value
    if _NUMBER.fullmatch(value):
        return value
    return "'" + value


def csv_cell_text(cell: str) -> str:
    """The text ``csv_safe_cell`` was given, from the cell it wrote."""
    return cell[1:] if cell.startswith("'") else cell
