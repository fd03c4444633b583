"""Defaults that work: what a dataset starts with, what the Data page says, the default target.

The settings an experiment starts with follow its dataset (``link.default_experiment``): Iris
keeps the article's own protocol, every other dataset starts from the modern preset with
standardized inputs, until the user changes a setting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import nn
from dashboard import state
from dashboard.share import link
from tests.test_app_pages import iris_csv, texts, upload_csv
from tests.test_bad_csv import unescape


def choose(at, source: str):
    at.selectbox(key="data.source").set_value(source).run()
    assert not at.exception
    return at


@pytest.mark.parametrize("source", ["wine", "breast_cancer", "digits"])
def test_the_defaults_reach_090_test_accuracy_with_no_setting_changed(app, source):
    at = choose(app("pages/1_Data.py", timeout=240), source)
    assert at.session_state[state.SPLIT_SETTINGS]["standardize"] is True
    at.switch_page("pages/6_Compare.py").run()
    at.button(key="compare.seeds_run").click().run()
    assert not at.exception
    results = at.session_state[state.COMPARE_SEEDS]["results"]
    accuracies = [r["test_accuracy"] for r in results]
    assert len(accuracies) == 5
    assert np.median(accuracies) >= 0.9, accuracies


def test_iris_keeps_the_articles_protocol_and_the_data_page_says_why(app):
    at = app("pages/1_Data.py")
    article = nn.presets.ARTICLE
    assert at.session_state[state.SPLIT_SETTINGS]["standardize"] is False
    assert at.session_state[state.ARCH]["hidden"] == article["network"]["layers"][1:-1]
    assert at.session_state[state.TRAIN_SETTINGS]["learning_rate"] == 0.15
    assert "as the article did on Iris" in texts(at)
    choose(at, "wine")
    assert "Standardize is on" in texts(at)


def test_the_settings_follow_the_dataset_until_the_user_changes_one(app):
    at = choose(app("pages/1_Data.py"), "wine")
    modern = link.default_experiment({"source": "wine"})
    assert at.session_state[state.ARCH] == modern.arch
    assert at.session_state[state.TRAIN_SETTINGS] == modern.train
    assert "The settings follow the dataset" in texts(at)
    choose(at, "iris")
    assert at.session_state[state.TRAIN_SETTINGS]["learning_rate"] == 0.15  # the article's
    choose(at, "wine")
    at.switch_page("pages/3_Train.py").run()
    at.number_input(key="train.learning_rate").set_value(0.05).run()
    at.switch_page("pages/1_Data.py").run()
    choose(at, "digits")
    assert at.session_state[state.TRAIN_SETTINGS]["learning_rate"] == 0.05  # the user's stays
    assert at.session_state[state.ARCH] == modern.arch


def test_unscaled_data_without_standardize_is_named_on_the_data_page(app):
    at = choose(app("pages/1_Data.py"), "wine")
    at.checkbox(key="data.split.standardize").uncheck().run()
    assert "differ" in texts(at) and "Tick Standardize" in texts(at)


def test_toggling_standardize_says_that_the_scaling_changed_not_the_split(app):
    at = app("pages/3_Train.py")
    at.button(key="train.step").click().run()
    assert at.session_state[state.TRAINER].epochs_trained == 1
    at.switch_page("pages/1_Data.py").run()
    at.checkbox(key="data.split.standardize").check().run()
    said = texts(at)
    assert "Standardize is now on" in said
    assert "test rows may have been training rows" not in said
    at.switch_page("pages/3_Train.py").run()
    at.button(key="train.step").click().run()
    at.switch_page("pages/1_Data.py").run()
    at.slider(key="data.split.test_size").set_value(0.3).run()
    assert "test rows may have been training rows" in texts(at)


# ---- the target of an uploaded CSV ----


def frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


N = 40
rng = np.random.default_rng(0)
PENGUINS = frame(
    species=rng.choice(["Adelie", "Gentoo", "Chinstrap"], N),
    island=rng.choice(["Biscoe", "Dream", "Torgersen"], N),
    bill_length_mm=rng.normal(44, 5, N),
    body_mass_g=rng.normal(4200, 800, N),
    sex=rng.choice(["male", "female"], N),
)
TITANIC = frame(
    PassengerId=np.arange(1, N + 1),
    Survived=rng.integers(0, 2, N),
    Pclass=rng.integers(1, 4, N),
    Sex=rng.choice(["male", "female"], N),
    Age=rng.normal(30, 10, N),
)
DIAMONDS = frame(
    carat=rng.uniform(0.2, 2, N),
    cut=rng.choice(["Fair", "Good", "Ideal"], N),
    clarity=rng.choice(["SI1", "VS2", "IF", "VVS1"], N),
    price=rng.integers(300, 9000, N),
    z=rng.uniform(2, 5, N),
)
TIPS = frame(
    total_bill=rng.uniform(5, 50, N),
    tip=rng.uniform(1, 10, N),
    smoker=rng.choice(["Yes", "No"], N),
    day=rng.choice(["Thur", "Fri", "Sat", "Sun"], N),
    size=rng.integers(1, 6, N),
)
NUMBERS = frame(a=rng.normal(size=N), b=rng.normal(size=N), c=rng.normal(size=N))
CAMEL = frame(width=rng.normal(size=N), TargetClass=rng.choice(["x", "y"], N), z=rng.normal(size=N))


@pytest.mark.parametrize(
    ("table", "expected", "why"),
    [
        (PENGUINS, "species", "name"),
        (TITANIC, "Survived", "name"),
        (DIAMONDS, "clarity", "text column"),
        (TIPS, "day", "text column"),
        (NUMBERS, "c", "last column"),
        (CAMEL, "TargetClass", "name"),
    ],
)
def test_the_default_target_is_a_label_never_a_measurement_over_a_category(table, expected, why):
    target, reason = nn.columns.default_target(table)
    assert target == expected
    assert why in reason


def test_a_text_column_unique_on_every_row_is_not_taken_for_the_label():
    names = frame(x=rng.normal(size=N), model=[f"car {i}" for i in range(N)], y=rng.normal(size=N))
    assert nn.columns.default_target(names)[0] == "y"


def test_the_upload_picks_the_label_says_why_and_names_a_dropped_id(app):
    content = iris_csv()
    table = pd.read_csv(pd.io.common.BytesIO(content))
    table.insert(0, "Id", np.arange(1, len(table) + 1))
    table = table[["Id", "species", "sepal_length", "sepal_width", "petal_length", "petal_width"]]
    at = upload_csv(app("pages/1_Data.py"), table.to_csv(index=False).encode(), "iris_ids.csv")
    assert at.selectbox(key="data.target").value == "species"
    assert "Picked species: its name says it is the label" in texts(at)
    at.button(key="data.use_csv").click().run()
    assert not at.exception and not at.error
    assert at.session_state[state.DATASET].X.shape == (150, 4)
    assert "Not used: Id (a different whole number on every row: an id)" in unescape(texts(at))
