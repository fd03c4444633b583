"""dashboard.common.text and nn.text: names shown as plain text; one rule for CSV cells."""

from __future__ import annotations

import csv
import io
import re
import string

import pandas as pd
import pytest

import nn
from dashboard.common.text import WORD_JOINER, csv_cell_text, csv_safe_cell, display_name, md_escape
from dashboard.predict import results
from nn import recipe
from nn import text as nn_text
from nn.text import BIDI_CONTROLS, strip_bidi

# GitHub-flavoured autolink literals as Streamlit's Markdown finds them in text after escapes
# are resolved (mdast-util-gfm-autolink-literal, in Streamlit's frontend bundle); JavaScript's
# \w is ASCII-only, hence re.ASCII.
AUTOLINK_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.I | re.A)
AUTOLINK_EMAIL = re.compile(r"(?<![-.\w+])([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.A)
EMOJI = re.compile(r":[\w+-][\w_+-]*:", re.A)
ADDRESSES = [
    "https://127.0.0.1:8765/x",
    "see http://evil.example/a?b=c now",
    "HTTPS://EVIL.EXAMPLE",
    "www.evil.example",
    "visit WWW.Evil.Example today",
    "bob@evil.example",
    "![x](http://127.0.0.1:8765/pixel.png)",
    "[t](http://127.0.0.1:8765/a)",
    "SESSION EXPIRED - sign in again at https://evil.example",
    ":smile: and :material/home:",
]
BIDI = sorted(BIDI_CONTROLS)


def rendered(markdown: str) -> str:
    """The text CommonMark makes of escaped Markdown: each backslash escape resolved."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def visible(text: str) -> str:
    return text.replace(WORD_JOINER, "")


# ---- md_escape ----


def test_every_ascii_punctuation_character_is_escaped():
    escaped = md_escape(string.punctuation)
    assert visible(escaped) == "".join("\\" + ch for ch in string.punctuation)
    assert visible(rendered(escaped)) == string.punctuation


@pytest.mark.parametrize(
    "name",
    ["**bold**", "_em_", "<b>x</b>", "# heading", "1. item", "> quote", "`code`", "$x^2$", "| a |"],
)
def test_markdown_and_html_read_literally(name):
    escaped = md_escape(name)
    assert rendered(escaped) == name
    # no character that Markdown acts on is left bare
    assert not re.search(r"(?<!\\)[*_<>#`$|\[\]!]", escaped), escaped


@pytest.mark.parametrize("text", ADDRESSES)
def test_addresses_do_not_become_links_but_read_the_same(text):
    assert AUTOLINK_URL.search(text) or AUTOLINK_EMAIL.search(text) or EMOJI.search(text)
    shown = rendered(md_escape(text))
    assert visible(shown) == text
    assert not AUTOLINK_URL.search(shown), shown
    assert not AUTOLINK_EMAIL.search(shown), shown
    assert not EMOJI.search(shown), shown


def test_plain_words_and_numbers_get_no_joiner():
    for text in ("Iris-setosa", "petal width (cm)", "Hidden layers: 3", "1.5", "a . b"):
        assert WORD_JOINER not in md_escape(text)


def test_shortened_and_whitespace_collapsed():
    assert md_escape("a\n\tb   c") == "a b c"
    assert md_escape("x" * 500, max_len=10) == "x" * 9 + "…"
    # the limit counts what is read, not the escapes or joiners
    shown = visible(rendered(md_escape("https://" + "e" * 300, max_len=20)))
    assert shown == "https://" + "e" * 11 + "…"


@pytest.mark.parametrize("control", BIDI)
def test_bidirectional_controls_are_removed_from_shown_names(control):
    name = f"invoice{control}gnp.exe"
    assert display_name(name) == "invoicegnp.exe"
    assert rendered(md_escape(name)) == "invoicegnp.exe"
    assert strip_bidi(name) == "invoicegnp.exe"


def test_display_name_drops_other_control_characters_and_shortens():
    assert display_name("a\x00b\x1b[31mc\x7f") == "ab[31mc"
    assert display_name("  spaced\r\nname  ") == "spaced name"
    assert display_name("y" * 300, 200) == "y" * 199 + "…"
    assert display_name(3.5) == "3.5"
    assert display_name("Zürich שלום") == "Zürich שלום"  # only controls go


def test_the_bidi_set_is_the_one_asked_for():
    expected = {chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}
    assert set(BIDI_CONTROLS) == expected | {"\u200e", "\u200f", "\u061c"}


# ---- the CSV rule ----


@pytest.mark.parametrize(
    "cell",
    ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\tx", "\r=1", "-"],
)
def test_formula_looking_text_gets_an_apostrophe(cell):
    assert csv_safe_cell(cell) == "'" + cell
    assert csv_cell_text(csv_safe_cell(cell)) == cell


@pytest.mark.parametrize("cell", ["-1.5", "+2e-3", "-7", "-.5", "1e+16", "-0.0"])
def test_numbers_written_as_text_stay_numbers(cell):
    assert csv_safe_cell(cell) == cell
    assert csv_cell_text(csv_safe_cell(cell)) == cell


@pytest.mark.parametrize("value", [-1.5, 3, None, float("nan"), True])
def test_values_that_are_not_strings_are_untouched(value):
    assert csv_safe_cell(value) is value


def test_the_rule_can_be_undone_without_ambiguity():
    """A leading apostrophe is doubled too, so two names never write the same cell."""
    names = ["=a", "'=a", "''=a", "a", "'a", "-1", "'-1", "--1"]
    cells = [csv_safe_cell(n) for n in names]
    assert len(set(cells)) == len(names)
    assert [csv_cell_text(c) for c in cells] == names
    assert all(not c.startswith(("=", "+", "@", "\t", "\r")) for c in cells)


def test_dashboard_and_nn_share_one_rule():
    assert csv_safe_cell is nn_text.csv_safe_cell


def test_the_recipe_data_csv_follows_the_rule():
    X = [[-1.5, 2.0], [0.25, -3.0], [1.0, 1.0], [2.0, -0.5]]
    text, target = recipe.data_csv(X, [0, 1, 0, 1], ["=x", "-y"], ["@a", "+b"])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["'=x", "'-y", target]
    assert rows[1] == ["-1.5", "2.0", "'@a"]  # numbers as they are, the label prefixed
    assert rows[2] == ["0.25", "-3.0", "'+b"]


def test_batch_predictions_follow_the_rule_in_cells_and_column_names():
    dataset = nn.data.load_dataset("iris")
    net = nn.Network.from_config({"layers": [4, 3]})
    frame = pd.DataFrame(dataset.X[:3], columns=dataset.feature_names)
    frame["=note"] = ["=1+1", "-1.5", "fine"]
    out = results.batch_predict(net, frame, dataset)
    assert "'=note" in out.columns and "=note" not in out.columns
    assert list(out["'=note"]) == ["'=1+1", "-1.5", "fine"]
    assert out[dataset.feature_names[0]].dtype.kind == "f"  # numbers stay numbers
    assert all(not str(c).startswith(("=", "+", "-", "@")) for c in out.columns)
