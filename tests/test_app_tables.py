"""The app on real tables (tests/data/tables/): upload, the column table, gaps, training, the
Predict form's select boxes, batch prediction and a model carried into a fresh session."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import nn
from dashboard import state
from dashboard.data import datasets
from dashboard.predict import results
from dashboard.share import bundle
from tests.conftest import ROOT
from tests.test_advice import finish_on_train_page
from tests.test_app_pages import texts, upload_csv
from tests.test_app_share import run_recipe
from tests.test_bad_csv import unescape

TABLES = ROOT / "tests" / "data" / "tables"


def loaded(app, name: str, target: str | None = None):
    at = upload_csv(app("pages/1_Data.py"), (TABLES / name).read_bytes(), name)
    if target is not None:
        at.selectbox(key="data.target").set_value(target).run()
    at.button(key="data.use_csv").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def test_penguins_load_with_their_categories_gaps_and_a_note_on_what_was_skipped(app):
    at = upload_csv(app("pages/1_Data.py"), (TABLES / "penguins.csv").read_bytes(), "p.csv")
    assert at.selectbox(key="data.target").value == "species"
    shown = unescape(texts(at))
    assert "Columns" in shown and "Gaps" in shown
    at.button(key="data.use_csv").click().run()
    dataset = at.session_state[state.DATASET]
    assert dataset.kinds is not None and "categorical" in dataset.kinds
    assert "rowid" not in dataset.feature_names
    said = unescape(texts(at))
    assert "Not used: rowid" in said and "without a value in species were dropped" in said
    split = at.session_state[state.SPLIT]
    assert np.all(np.isfinite(split.X_train))
    assert split.X_train.shape[1] > len(dataset.feature_names)  # one-hot inputs
    stats = datasets.statistics(dataset)
    assert stats.loc["island", "kind"] == "categorical" and stats.loc["sex", "gaps"] > 0


def test_train_predict_with_a_category_and_carry_the_model_into_a_fresh_session(app):
    at = loaded(app, "penguins.csv")
    finish_on_train_page(at, 30)
    at.switch_page("pages/4_Predict.py").run()
    assert not at.exception
    version = at.session_state[state.DATA_VERSION]
    names = at.session_state[state.DATASET].feature_names
    island = at.selectbox(key=f"predict.c.{version}.{names.index('island')}")
    assert "Biscoe" in island.options and "(missing)" not in island.options
    island.set_value("Dream")
    at.button[0].click()
    at.run()
    assert not at.error
    sample = at.session_state[state.PREDICT_SAMPLE][1]
    net = at.session_state[state.TRAINER].net
    dataset = at.session_state[state.DATASET]
    before = results.predict_one(net, dataset, sample)
    assert dataset.table(np.asarray([sample]))["island"].iloc[0] == "Dream"
    saved = results.model_bytes(net, dataset)
    # A fresh session: the same file with another split, then the model uploaded into it.
    fresh = loaded(app, "penguins.csv")
    fresh.switch_page("pages/1_Data.py").run()
    fresh.number_input(key="data.split.seed").set_value(5).run()
    fresh.switch_page("pages/4_Predict.py").run()
    fresh.file_uploader(key="predict.model_upload").upload("m.npz", saved, "application/zip")
    fresh.run()
    assert not fresh.exception and not fresh.error
    model = fresh.session_state[state.TRAINER].net
    assert model.preprocessor == net.preprocessor
    after = results.predict_one(model, fresh.session_state[state.DATASET], sample)
    np.testing.assert_array_equal(after, before)


def test_batch_prediction_takes_raw_columns_reports_unseen_categories_and_accuracy(app):
    at = loaded(app, "penguins.csv")
    finish_on_train_page(at, 30)
    at.switch_page("pages/4_Predict.py").run()
    table = pd.read_csv(TABLES / "penguins.csv").dropna(subset=["species"])
    table = table[list(reversed(table.columns))]  # any column order
    table.loc[table.index[0], "island"] = "Atlantis"
    content = table.to_csv(index=False).encode()
    at.file_uploader(key="predict.batch_upload").upload("batch.csv", content, "text/csv")
    at.run()
    assert not at.exception and not at.error
    said = unescape(texts(at))
    assert "Values never seen in training" in said and "island: Atlantis" in said
    accuracy = [m for m in at.metric if m.label == "Accuracy on the file's own labels"]
    assert accuracy and float(accuracy[0].value) > 0.8


def test_a_leaking_column_is_flagged_and_skipped_in_one_click(app):
    at = loaded(app, "leaky.csv")
    said = unescape(texts(at))
    assert "outcome_code alone predicts the target" in said
    at.button(key="data.skip_leak.outcome_code").click().run()
    assert not at.exception
    dataset = at.session_state[state.DATASET]
    assert "outcome_code" not in dataset.feature_names
    assert at.session_state[state.DATA_SPEC]["roles"]["outcome_code"] == "skip"
    assert "alone predicts" not in unescape(texts(at))


def test_the_column_table_values_are_checked_on_the_server():
    frame = pd.read_csv(TABLES / "passengers.csv")
    infos = [i for i in nn.columns.describe(frame, "Survived") if i.name != "Survived"]
    edited = pd.DataFrame(
        {
            "role": ["skip", "<b>x</b>", *[i.role for i in infos[2:]]],
            "use as": ["categorical", "numeric", "date", *["numeric"] * (len(infos) - 3)],
        }
    )
    roles, types = datasets.choices_from_editor(infos, edited)
    assert roles[infos[0].name] == "skip"
    assert roles[infos[1].name] == infos[1].role  # a forged role keeps the default
    assert types[infos[0].name] == "categorical"
    assert types[infos[2].name] in datasets.TYPE_CHOICES  # a forged type keeps the default
    short = edited.iloc[:2]
    roles, _ = datasets.choices_from_editor(infos, short)
    assert roles[infos[5].name] == infos[5].role


def test_the_gap_cells_of_the_column_table_are_checked_on_the_server():
    frame = pd.read_csv(TABLES / "passengers.csv")
    infos = [i for i in nn.columns.describe(frame, "Survived") if i.name != "Survived"]
    by_name = {i.name: k for k, i in enumerate(infos)}
    roles = dict.fromkeys(by_name, "feature")
    types = {n: "categorical" if n in ("Sex", "Embarked") else "numeric" for n in by_name}
    cells = {
        "Age": ("constant", "-1", True),
        "Fare": ("constant", "1e300", False),  # a typo, not a value
        "Sex": ("mean", 0, True),  # a numbers-only choice on a category
        "Embarked": ("most frequent", 0, False),
        "SibSp": ("own category", 0, False),  # the other kind's default: silently median
        "Parch": ("<script>", 0, "yes"),  # forged
    }
    edited = pd.DataFrame(
        {
            "gaps become": [cells.get(i.name, ("median",))[0] for i in infos],
            "constant": [cells.get(i.name, (0, 0))[1] for i in infos],
            "flag gaps": [cells.get(i.name, (0, 0, False))[2] for i in infos],
        }
    )
    fill, messages = datasets.fills_from_editor(infos, edited, roles, types)
    assert fill["numeric_fill"]["Age"] == "constant" and fill["fill_values"]["Age"] == -1.0
    assert fill["indicators"]["Age"] is True and fill["indicators"]["Parch"] is False
    assert fill["fill_values"]["Fare"] == 0.0
    assert fill["category_fill"] == {"Sex": "category", "Embarked": "most_frequent"}
    assert fill["numeric_fill"]["SibSp"] == "median" and fill["numeric_fill"]["Parch"] == "median"
    assert "Sex" not in fill["indicators"]
    assert sorted(messages) == [
        "Gaps in Fare become 0: the constant must be a number.",
        "Gaps in Sex become its own category: “mean” suits numeric columns.",
    ]
    skipped = datasets.fills_from_editor(infos, edited, {**roles, "Age": "skip"}, types)[0]
    assert "Age" not in skipped["numeric_fill"]
    # The choices reach the network: load with them and split.
    dataset = nn.data.load_table(
        (TABLES / "passengers.csv").read_bytes(),
        target="Survived",
        roles={"Name": "skip", "Cabin": "skip", "PassengerId": "skip"},
        types=types,
        fill=fill,
    )
    steps = nn.data.split(dataset, seed=0).preprocessor
    assert steps.column("Age").fill == -1.0 and "Age (missing)" in steps.input_names()
    assert "Embarked=(missing)" not in steps.input_names()
    assert [datasets.check_rare(v) for v in (3, "7", -1, float("nan"), "x", 10**9)] == [
        3,
        7,
        0,
        0,
        0,
        0,
    ]


def test_rare_categories_share_one_input_when_asked(app):
    at = upload_csv(app("pages/1_Data.py"), (TABLES / "cars.csv").read_bytes(), "cars.csv")
    at.selectbox(key="data.target").set_value("origin").run()
    at.number_input(key="data.rare").set_value(15).run()
    at.button(key="data.use_csv").click().run()
    assert not at.exception and not at.error
    names = at.session_state[state.SPLIT].preprocessor.input_names()
    assert "maker=(other)" in names and "maker=ford" in names and "maker=saab" not in names
    assert at.session_state[state.DATASET].fill["rare"] == 15


@pytest.mark.parametrize("name", ["passengers.csv", "cars.csv"])
def test_the_other_tables_load_and_train(app, name):
    at = loaded(app, name)
    finish_on_train_page(at, 10)
    assert at.session_state[state.TRAINER].epochs_trained == 10
    at.switch_page("pages/4_Predict.py").run()
    assert not at.exception and not at.error
    at.switch_page("pages/5_Inside.py").run()
    assert not at.exception


def test_the_template_of_a_table_reloads_and_predicts(app):
    at = loaded(app, "penguins.csv")
    finish_on_train_page(at, 5)
    split, dataset = at.session_state[state.SPLIT], at.session_state[state.DATASET]
    template = pd.read_csv(io.StringIO(results.template_csv(split, dataset)))
    assert set(template.columns) == set(dataset.feature_names)
    assert template["island"].iloc[0] in dataset.categories["island"]
    net = at.session_state[state.TRAINER].net
    assert len(results.batch_predict(net, template, dataset)) == 1


def test_the_recipe_of_a_table_is_offered_and_its_zip_repeats_the_run(app, tmp_path):
    at = loaded(app, "penguins.csv")
    finish_on_train_page(at, 8)
    assert "Download the recipe (.zip)" in {b.proto.label for b in at.get("download_button")}
    trainer, split = at.session_state[state.TRAINER], at.session_state[state.SPLIT]
    settings = bundle.recipe_settings(trainer, at.session_state[state.SPLIT_SETTINGS])
    result = run_recipe(tmp_path, bundle.recipe_zip(settings, at.session_state[state.DATASET]))
    assert result["preprocessing"] == trainer.net.preprocessor.to_dict()["columns"]
    history = trainer.net.history
    assert len(result["history"]) == len(history) == 8
    for mine, theirs in zip(result["history"], history, strict=True):
        assert mine["train_loss"] == pytest.approx(theirs.train_loss, rel=1e-9, abs=1e-12)
        assert mine["val_loss"] == pytest.approx(theirs.val_loss, rel=1e-9, abs=1e-12)
        assert mine["val_accuracy"] == theirs.val_accuracy
    test = trainer.net.evaluate(split.X_test, split.y_test)
    assert result["test"]["accuracy"] == test["accuracy"]
    at.switch_page("pages/6_Compare.py").run()
    assert not at.exception
    assert any('"columns"' in c.value and '"island"' in c.value for c in at.code)
