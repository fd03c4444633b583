"""nn.columns: the first look at a table: each column's type, missing count and default role."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nn import columns as cols

N = 60
rng = np.random.default_rng(1)


def table(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols)


@pytest.mark.parametrize(
    ("values", "kind", "few"),
    [
        (rng.normal(size=N), cols.NUMERIC, False),
        (rng.integers(1, 4, N), cols.NUMERIC, True),  # a passenger class 1/2/3
        (rng.choice(["yes", "no"], N), cols.BOOLEAN, False),
        (rng.choice([True, False], N), cols.BOOLEAN, False),
        (rng.choice([0, 1], N), cols.BOOLEAN, False),
        (rng.choice(["Adelie", "Gentoo", "Chinstrap"], N), cols.CATEGORICAL, False),
        ([f"name {i}" for i in range(N)], cols.IDENTIFIER, False),
        (np.arange(1, N + 1), cols.IDENTIFIER, False),  # a running count
        ([f"word{i % 55}" for i in range(N)], cols.FREE_TEXT, False),
        (["same"] * N, cols.CONSTANT, False),
        ([np.nan] * N, cols.CONSTANT, False),
        ([str(v) for v in rng.normal(size=N)], cols.NUMERIC, False),  # numbers written as text
    ],
)
def test_each_kind_of_column_is_recognised(values, kind, few):
    found, reason, few_values = cols.detect("col", pd.Series(values))
    assert found == kind and few_values == few
    assert reason


def test_a_unique_float_measurement_is_not_an_id_but_a_unique_integer_named_id_is():
    assert cols.detect("bill_length", pd.Series(rng.normal(40, 5, N)))[0] == cols.NUMERIC
    shuffled = rng.permutation(np.arange(1000, 1000 + N))
    assert cols.detect("customer_id", pd.Series(shuffled))[0] == cols.IDENTIFIER
    assert cols.detect("zip", pd.Series(shuffled))[0] == cols.NUMERIC


def test_describe_counts_gaps_and_gives_default_roles():
    sex = rng.choice(["male", "female"], N).astype(object)
    sex[:5] = None
    frame = table(
        PassengerId=np.arange(1, N + 1),
        Survived=rng.integers(0, 2, N),
        Pclass=rng.integers(1, 4, N),
        Name=[f"Passenger {i}" for i in range(N)],
        Sex=sex,
        Age=np.where(rng.random(N) < 0.2, np.nan, rng.normal(30, 10, N)),
        Ship=["Titanic"] * N,
    )
    info = {c.name: c for c in cols.describe(frame)}
    assert info["Survived"].role == cols.TARGET
    assert "name says" in info["Survived"].reason
    assert [info[c].role for c in ("PassengerId", "Name", "Ship")] == [cols.SKIP] * 3
    assert [info[c].role for c in ("Pclass", "Sex", "Age")] == [cols.FEATURE] * 3
    assert info["Sex"].missing == 5 and info["Sex"].distinct == 2
    assert info["Age"].missing == int(frame["Age"].isna().sum()) > 0
    assert info["Pclass"].few_values
    assert len(info["Sex"].examples) == 2
    chosen = {c.name: c for c in cols.describe(frame, target="Sex")}
    assert chosen["Sex"].role == cols.TARGET and chosen["Survived"].role == cols.FEATURE


def test_the_words_of_a_name():
    assert cols.words("TargetClass") == ["target", "class"]
    assert cols.words("bill_length (mm)") == ["bill", "length", "mm"]


def test_a_column_that_is_the_target_in_disguise_is_flagged_and_ordinary_ones_are_not():
    y = rng.integers(0, 2, 300)
    frame = table(
        noise=rng.normal(size=300),
        code=np.where(y == 1, "Y", "N"),
        score=y * 3.0 + rng.normal(0, 0.01, 300),
        weak=y + rng.normal(0, 1.0, 300),
    )
    kinds = {"noise": "numeric", "code": "categorical", "score": "numeric", "weak": "numeric"}
    found = {leak.column for leak in cols.leaks(frame, y, kinds)}
    assert found == {"code", "score"}
    assert "code alone predicts the target 100% right" in cols.leaks(frame, y, kinds)[0].sentence()


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "digits"])
def test_no_false_alarm_on_the_bundled_sets(name):
    import nn.data

    ds = nn.data.load_dataset(name)
    parts = nn.data.split(ds, seed=0)
    assert cols.leaks(ds.table(parts.raw_train), parts.y_train, ds.feature_kinds()) == []


def test_an_unbalanced_target_is_not_judged():
    y = np.r_[np.zeros(290, int), np.ones(10, int)]
    frame = table(code=np.where(y == 1, "Y", "N"))
    assert cols.leaks(frame, y, {"code": "categorical"}) == []
