"""nn.preprocess on tables: gaps, categories and scaling fitted on the training rows, applied
exactly as scikit-learn's ColumnTransformer applies the same fitted transformers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from nn.preprocess import MISSING, OTHER, Column, Preprocessor

N = 200
rng = np.random.default_rng(7)


def penguins(n: int = N, seed: int = 7) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "island": r.choice(["Biscoe", "Dream", "Torgersen"], n).astype(object),
            "bill_length": r.normal(44, 5, n),
            "body_mass": r.normal(4200, 800, n),
            "sex": r.choice(["male", "female"], n).astype(object),
        }
    )
    frame.loc[r.random(n) < 0.1, "bill_length"] = np.nan
    frame.loc[r.random(n) < 0.1, "sex"] = np.nan
    return frame


KINDS = {
    "island": "categorical",
    "bill_length": "numeric",
    "body_mass": "numeric",
    "sex": "categorical",
}


def reference(frame, numeric_fill="median", category_fill="category", indicators=False, scale=True):
    """scikit-learn's ColumnTransformer built as the module's docstring describes the steps."""
    parts = []
    for name, kind in KINDS.items():
        if kind == "numeric":
            steps = [("impute", SimpleImputer(strategy=numeric_fill))]
            steps += [("scale", StandardScaler())] if scale else []
            parts.append((f"num_{name}", Pipeline(steps), [name]))
            if indicators and frame[name].isna().any():
                parts.append((f"ind_{name}", MissingIndicator(features="all"), [name]))
        else:
            if category_fill == "category":
                imputer = SimpleImputer(strategy="constant", fill_value=MISSING)
            else:
                imputer = SimpleImputer(strategy="most_frequent")
            encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
            parts.append(
                (f"cat_{name}", Pipeline([("impute", imputer), ("onehot", encoder)]), [name])
            )
    return ColumnTransformer(parts, sparse_threshold=0).fit(frame)


@pytest.mark.parametrize("numeric_fill", ["median", "mean"])
@pytest.mark.parametrize("category_fill", ["category", "most_frequent"])
@pytest.mark.parametrize("indicators", [False, True])
def test_the_transform_equals_scikit_learns_column_transformer(
    numeric_fill, category_fill, indicators
):
    train, test = penguins(), penguins(80, seed=8)
    ours = Preprocessor.fit_table(
        train,
        KINDS,
        standardize=True,
        numeric_fill=numeric_fill,
        category_fill=category_fill,
        indicators=indicators,
    )
    theirs = reference(train, numeric_fill, category_fill, indicators)
    for rows in (train, test):
        np.testing.assert_allclose(ours.transform(rows), theirs.transform(rows), rtol=0, atol=1e-12)
    assert ours.n_inputs == theirs.transform(test).shape[1]


def test_a_category_never_seen_in_training_gives_all_zeros_and_is_reported():
    train = penguins()
    pre = Preprocessor.fit_table(train, KINDS)
    row = pd.DataFrame(
        [{"island": "Atlantis", "bill_length": 40.0, "body_mass": 4000, "sex": "male"}]
    )
    inputs = pre.transform(row)[0]
    names = pre.input_names()
    island = [i for i, n in enumerate(names) if n.startswith("island=")]
    assert np.all(inputs[island] == 0)
    assert inputs[names.index("sex=male")] == 1
    assert pre.unseen(row) == {"island": ["Atlantis"]}
    assert pre.unseen(train) == {}


def test_gaps_become_the_training_median_or_their_own_category():
    train = penguins()
    pre = Preprocessor.fit_table(train, KINDS, indicators=True)
    row = pd.DataFrame([{"island": "Dream", "bill_length": None, "body_mass": 4000, "sex": None}])
    inputs = pre.transform(row)[0]
    names = pre.input_names()
    assert inputs[names.index("bill_length")] == pytest.approx(train["bill_length"].median())
    assert inputs[names.index("bill_length (missing)")] == 1
    assert inputs[names.index(f"sex={MISSING}")] == 1
    assert "body_mass (missing)" not in names  # no gap in training: no indicator
    constant = Preprocessor.fit_table(
        train, KINDS, numeric_fill="constant", fill_values={"bill_length": -1.0}
    )
    assert constant.transform(row)[0][constant.input_names().index("bill_length")] == -1.0


def test_rows_in_any_column_order_with_extra_columns_and_as_plain_lists():
    train = penguins()
    pre = Preprocessor.fit_table(train, KINDS, standardize=True)
    shuffled = train[["sex", "body_mass", "island", "bill_length"]].assign(species="x")
    np.testing.assert_array_equal(pre.transform(shuffled), pre.transform(train))
    row = train.iloc[3]
    one = pre.transform([row[c] for c in KINDS])
    np.testing.assert_array_equal(one, pre.transform(train)[3])
    with pytest.raises(ValueError, match="missing column"):
        pre.transform(train.drop(columns="sex"))


def test_the_saved_form_is_json_and_round_trips():
    pre = Preprocessor.fit_table(penguins(), KINDS, standardize=True, indicators=True)
    text = json.dumps(pre.to_dict())
    back = Preprocessor.from_dict(json.loads(text))
    assert back == pre
    np.testing.assert_array_equal(back.transform(penguins(50, 9)), pre.transform(penguins(50, 9)))
    assert not back.numeric_only and back.n_inputs > back.n_features
    with pytest.raises(ValueError, match="numeric inputs"):
        back.inverse(np.zeros((1, back.n_features)))


def good_columns() -> list[dict]:
    return Preprocessor.fit_table(penguins(), KINDS, standardize=True).to_dict()["columns"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "text"}, "numeric or categorical"),
        ({"categories": []}, "list of text"),
        ({"categories": ["a", "a"]}, "distinct"),
        ({"categories": [f"c{i}" for i in range(51)]}, "distinct, at most 50"),
        ({"categories": [1, 2]}, "list of text"),
        ({"fill": 3}, "gap category"),
        ({"extra": 1}, "unknown fields"),
        ({"other": ["Atlantis"]}, "share the input"),
        ({"other": "Atlantis"}, "list of text"),
        ({"categories": ["Dream", OTHER], "other": ["Dream"]}, "share the input"),
    ],
)
def test_a_malformed_categorical_column_is_refused(change, message):
    columns = good_columns()
    columns[0] = {**columns[0], **change}
    with pytest.raises(ValueError, match=message):
        Preprocessor.from_dict({"format": "nn-lab-preprocessor/2", "columns": columns})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fill": float("nan")}, "finite number"),
        ({"scale": 0.0}, "positive"),
        ({"mean": None}, "mean and a scale"),
        ({"indicator": "yes"}, "true or false"),
        ({"fill": None, "indicator": True}, "no fill value"),
    ],
)
def test_a_malformed_numeric_column_is_refused(change, message):
    columns = good_columns()
    columns[1] = {**columns[1], **change}
    with pytest.raises(ValueError, match=message):
        Preprocessor.from_dict({"format": "nn-lab-preprocessor/2", "columns": columns})


def test_numeric_only_preprocessors_keep_their_fast_path_and_inverse():
    X = rng.normal(3, 2, (50, 3))
    pre = Preprocessor.fit(X, ["a", "b", "c"], standardize=True)
    assert pre.numeric_only and [c.kind for c in pre.columns] == ["numeric"] * 3
    np.testing.assert_allclose(pre.inverse(pre.transform(X)), X)
    assert Column("a").n_inputs == 1


def islands(n: int, seed: int) -> pd.DataFrame:
    """A column with common and rare categories (and gaps), for grouping the rare ones."""
    r = np.random.default_rng(seed)
    names = ["Biscoe", "Dream", "Torgersen", "Anvers", "Bouvet", "Crozet", "Heard"]
    weights = np.array([40, 30, 20, 4, 3, 2, 1], dtype=float)
    frame = penguins(n, seed)
    frame["island"] = r.choice(names, n, p=weights / weights.sum()).astype(object)
    frame.loc[r.random(n) < 0.03, "island"] = np.nan
    return frame


@pytest.mark.parametrize("rare", [2, 5, 12])
@pytest.mark.parametrize("category_fill", ["category", "most_frequent"])
def test_rare_categories_share_one_input_as_scikit_learns_min_frequency_does(rare, category_fill):
    train, test = islands(300, 1), islands(120, 2)
    test.loc[0, "island"] = "Atlantis"  # never seen: all zeros, not (other)
    ours = Preprocessor.fit_table(train, KINDS, category_fill=category_fill, rare=rare)
    if category_fill == "category":
        imputer = SimpleImputer(strategy="constant", fill_value=MISSING)
    else:
        imputer = SimpleImputer(strategy="most_frequent")
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False, min_frequency=rare)
    theirs = Pipeline([("impute", imputer), ("onehot", encoder)]).fit(train[["island"]])
    island = [i for i, n in enumerate(ours.input_names()) if n.startswith("island=")]
    for rows in (train, test):
        np.testing.assert_allclose(
            ours.transform(rows)[:, island], theirs.transform(rows[["island"]]), rtol=0, atol=1e-12
        )
    counts = train["island"].fillna(MISSING if category_fill == "category" else "").value_counts()
    step = ours.column("island")
    assert set(step.other) == {c for c, k in counts.items() if k < rare and c}
    assert (OTHER in step.categories) == bool(step.other)
    assert ours.transform(test)[0, island].sum() == 0
    assert ours.unseen(test) == {"island": ["Atlantis"]}  # a rare one is not "unseen"
    back = Preprocessor.from_dict(json.loads(json.dumps(ours.to_dict())))
    np.testing.assert_array_equal(back.transform(test), ours.transform(test))


def test_keep_all_categories_by_default_and_with_a_threshold_of_one():
    train = islands(300, 1)
    for rare in (0, 1):
        step = Preprocessor.fit_table(train, KINDS, rare=rare).column("island")
        assert step.other == [] and OTHER not in step.categories
    with pytest.raises(ValueError, match="whole number"):
        Preprocessor.fit_table(train, KINDS, rare=-1)


def test_each_column_fills_its_gaps_its_own_way():
    train, test = penguins(), penguins(80, seed=8)
    train.loc[train.index[:15], "body_mass"] = np.nan
    test.loc[test.index[:5], ["bill_length", "body_mass"]] = np.nan
    ours = Preprocessor.fit_table(
        train,
        KINDS,
        standardize=True,
        numeric_fill={"bill_length": "mean", "body_mass": "constant"},
        fill_values={"body_mass": 3000.0},
        indicators={"body_mass": True},
        category_fill={"sex": "most_frequent"},
    )
    parts = [
        (
            "bill",
            Pipeline([("i", SimpleImputer(strategy="mean")), ("s", StandardScaler())]),
            ["bill_length"],
        ),
        (
            "mass",
            Pipeline(
                [
                    ("i", SimpleImputer(strategy="constant", fill_value=3000.0)),
                    ("s", StandardScaler()),
                ]
            ),
            ["body_mass"],
        ),
        ("mass_gap", MissingIndicator(features="all"), ["body_mass"]),
        (
            "island",
            Pipeline(
                [
                    ("i", SimpleImputer(strategy="constant", fill_value=MISSING)),
                    ("o", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                ]
            ),
            ["island"],
        ),
        (
            "sex",
            Pipeline(
                [
                    ("i", SimpleImputer(strategy="most_frequent")),
                    ("o", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                ]
            ),
            ["sex"],
        ),
    ]
    theirs = ColumnTransformer(parts, sparse_threshold=0).fit(train)
    order = ["bill_length", "body_mass", "body_mass (missing)"]
    names = ours.input_names()
    columns = [names.index(n) for n in order] + [
        i for i, n in enumerate(names) if n.startswith(("island=", "sex="))
    ]
    for rows in (train, test):
        np.testing.assert_allclose(
            ours.transform(rows)[:, columns], theirs.transform(rows), atol=1e-12
        )
    assert "bill_length (missing)" not in names  # the indicator was asked for body_mass only
    assert ours.column("body_mass").fill == 3000.0
    assert ours.column("sex").fill in ("male", "female")


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({"numeric_fill": {"bill_length": "most_frequent"}}, "missing number"),
        ({"category_fill": {"sex": "median"}}, "missing category"),
        ({"indicators": {"bill_length": "yes"}}, "gap indicator"),
        ({"numeric_fill": "constant", "fill_values": {"bill_length": float("inf")}}, "finite"),
    ],
)
def test_a_fill_choice_that_does_not_suit_its_column_is_refused(choices, message):
    with pytest.raises(ValueError, match=message):
        Preprocessor.fit_table(penguins(), KINDS, **choices)
