"""nn.data.load_table's choices and refusals, on small tables made here (the realistic tables
are tests/data/tables/, exercised in tests/test_tables.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nn import data

rng = np.random.default_rng(3)
N = 120


def csv(**cols) -> bytes:
    return pd.DataFrame(cols).to_csv(index=False).encode()


def base(**extra) -> bytes:
    y = rng.choice(["a", "b"], N)
    return csv(x=rng.normal(size=N), colour=rng.choice(["red", "blue"], N), label=y, **extra)


def test_roles_and_types_can_be_overridden_by_name():
    content = base(level=rng.integers(1, 4, N))
    ds = data.load_table(content)
    assert ds.feature_kinds() == {"x": "numeric", "colour": "categorical", "level": "numeric"}
    forced = data.load_table(content, types={"level": "categorical"}, roles={"x": "skip"})
    assert forced.feature_kinds() == {"colour": "categorical", "level": "categorical"}
    assert forced.categories["level"] == ["1", "2", "3"]
    as_target = data.load_table(content, roles={"colour": "target", "label": "feature"})
    assert as_target.class_names == ["blue", "red"]
    assert "label" in as_target.feature_names


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"roles": {"nope": "skip"}}, "no column 'nope'"),
        ({"roles": {"x": "maybe"}}, "unknown role or type: maybe"),
        ({"types": {"x": "date"}}, "unknown role or type: date"),
        ({"types": {"colour": "numeric"}}, "holds no numbers; make it categorical"),
        ({"roles": {"x": "skip", "colour": "skip"}}, "no feature column"),
        ({"missing": "guess"}, "'impute' or 'drop'"),
        ({"target": "x", "task": "classification"}, "classes in"),
    ],
)
def test_a_choice_that_cannot_work_says_why(kwargs, words):
    with pytest.raises(ValueError, match=words):
        data.load_table(base(), **kwargs)


def test_the_table_view_gives_labels_and_gaps_back():
    colour = rng.choice(["red", "blue"], N).astype(object)
    colour[:4] = None
    x = rng.normal(size=N)
    x[4:9] = np.nan
    ds = data.load_table(csv(x=x, colour=colour, label=rng.choice(["a", "b"], N)))
    assert ds.is_table
    table = ds.table()
    assert table["colour"].isna().sum() == 4 and table["x"].isna().sum() == 5
    assert set(table["colour"].dropna()) == {"red", "blue"}
    dropped = data.load_table(
        csv(x=x, colour=colour, label=rng.choice(["a", "b"], N)), missing="drop"
    )
    assert len(dropped.y) == N - 9 and "9 row(s) with a gap were dropped" in " ".join(dropped.notes)


def test_too_many_categories_are_skipped_with_a_note_and_numbers_in_text_become_gaps():
    many = [f"v{i % 60}" for i in range(N)]
    messy = [str(v) if i % 10 else "unknown" for i, v in enumerate(rng.normal(size=N))]
    content = csv(x=rng.normal(size=N), many=many, messy=messy, label=rng.choice(["a", "b"], N))
    ds = data.load_table(content, types={"many": "categorical", "messy": "numeric"})
    assert "many" not in ds.feature_names
    notes = " ".join(ds.notes)
    assert "many was skipped: 60 different values" in notes
    assert "12 value(s) of messy are not numbers: read as gaps" in notes
    assert np.isnan(ds.X[:, ds.feature_names.index("messy")]).sum() == 12


def test_a_numeric_only_table_is_the_plain_kind():
    ds = data.load_table(
        csv(a=rng.normal(size=N), b=rng.normal(size=N), label=rng.choice(["a", "b"], N))
    )
    assert not ds.is_table
    parts = data.split(ds, standardize=True)
    assert parts.preprocessor.numeric_only
    np.testing.assert_allclose(parts.preprocessor.inverse(parts.X_train), parts.raw_train)


def test_the_table_says_how_its_gaps_are_filled_unless_the_split_is_told():
    x = rng.normal(size=N)
    x[:10] = np.nan
    content = csv(x=x, colour=rng.choice(["red", "blue"], N), label=rng.choice(["a", "b"], N))
    plain = data.split(data.load_table(content), seed=0)
    assert "x (missing)" not in plain.preprocessor.input_names()
    ds = data.load_table(content, fill={"indicators": True, "numeric_fill": "mean"})
    parts = data.split(ds, seed=0)
    assert "x (missing)" in parts.preprocessor.input_names()
    train_x = ds.table(parts.raw_train)["x"]
    assert parts.preprocessor.column("x").fill == pytest.approx(train_x.mean())
    told = data.split(ds, seed=0, indicators=False)
    assert "x (missing)" not in told.preprocessor.input_names()
    with pytest.raises(ValueError, match="unknown fill choices: guess"):
        data.load_table(content, fill={"guess": 1})
