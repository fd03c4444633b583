"""The Compare page: finished runs kept and compared, five seeds of one setting (AppTest)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

import nn
from dashboard import state
from dashboard.common import capacity, limits
from dashboard.compare import compare_ui, runs
from dashboard.training import loop
from nn import crossval
from tests.conftest import ROOT

COMPARE = "pages/6_Compare.py"
TRAIN = "pages/3_Train.py"


@pytest.fixture
def at(clear_streamlit_caches) -> AppTest:
    """A fresh session on the Train page, pace "fastest"."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.switch_page(TRAIN).run()
    at.radio(key="train.pace").set_value("fastest").run()
    return at


def finish(at, epochs: int, **numbers) -> None:
    """Set the epochs (and other number inputs) on the Train page and train to the end."""
    at.switch_page(TRAIN).run()
    at.number_input(key="train.epochs").set_value(epochs).run()
    for name, value in numbers.items():
        at.number_input(key=f"train.{name}").set_value(value).run()
    at.button(key="train.start").click().run()
    while at.session_state["app.trainer"].running:
        at.run()


def kept(at) -> list[dict]:
    return at.session_state[state.COMPARE_RUNS]


def test_compare_opened_first_says_what_to_do(clear_streamlit_caches):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.switch_page(COMPARE).run()
    assert not at.exception
    assert any("No finished runs yet" in i.value for i in at.info)
    assert at.button(key="compare.seeds_run").label == f"Run {runs.N_SEEDS} seeds"
    assert "Download the recipe (.zip)" in {b.proto.label for b in at.get("download_button")}
    assert any("nothing is trained yet" in m.value for m in at.markdown)


def test_two_finished_runs_are_overlaid_with_their_differences_highlighted(at, monkeypatch):
    finish(at, 15)
    at.button(key="train.reset").click().run()
    finish(at, 15, learning_rate=0.6)
    # Streamlit repairs (and logs) a table Arrow cannot hold as it is: the settings table, whose
    # run columns mix names and numbers, must arrive as text and need no repair.
    repaired = []
    fix = dataframe_util.fix_arrow_incompatible_column_types
    monkeypatch.setattr(
        dataframe_util,
        "fix_arrow_incompatible_column_types",
        lambda df, *a, **k: repaired.append(list(df.columns)) or fix(df, *a, **k),
    )
    at.switch_page(COMPARE).run()
    assert not at.exception
    assert repaired == []
    records = kept(at)
    assert [r["name"] for r in records] == ["run 1", "run 2"]
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = {t["name"] for t in fig["data"]}
    assert {"run 1 (training)", "run 2 (training)", "run 1 (validation)"} <= names
    table = at.dataframe[0].value
    assert list(table.columns) == ["run 1", "run 2"]
    assert table.index[0] == "training.learning_rate"  # the one difference comes first
    assert [float(v) for v in table.loc["training.learning_rate"]] == [0.15, 0.6]
    assert "differ (training.learning_rate)" in " ".join(c.value for c in at.caption)
    split = at.session_state["app.split"]
    net = at.session_state["app.trainer"].net
    ours = net.evaluate(split.X_test, split.y_test)["accuracy"]
    assert table.loc["test accuracy", "run 2"] == f"{ours:.4g}"  # as the grid shows it
    assert [int(v) for v in table.loc["epochs trained"]] == [15, 15]
    # settings that do not apply are a dash, never an empty cell (the grid would say "None")
    assert list(table.loc["training.momentum"]) == ["–", "–"]
    assert not table.isna().any().any()
    assert kept(at)[1]["metrics"]["test accuracy"] == ours
    at.button(key="compare.forget").click().run()
    assert kept(at) == []
    assert any("No finished runs yet" in i.value for i in at.info)


def test_a_continued_run_updates_its_record_instead_of_adding_one(at):
    finish(at, 10)
    finish(at, 14)  # raise Epochs and resume the same network
    at.switch_page(COMPARE).run()
    records = kept(at)
    assert len(records) == 1
    assert records[0]["name"] == "run 1"
    assert records[0]["metrics"]["epochs trained"] == 14 == len(records[0]["history"])


def test_only_the_last_runs_are_kept_and_the_dropped_one_is_announced(at):
    at.number_input(key="train.epochs").set_value(1).run()
    notices = []
    for i in range(runs.MAX_RUNS + 1):
        if i:
            at.button(key="train.reset").click().run()
        at.button(key="train.step").click().run()
        assert at.session_state["app.trainer"].status == loop.FINISHED
        notices += [m.value for m in at.info if "dropped" in m.value]
        at.run()  # shown once, not again
        notices += [m.value for m in at.info if "dropped" in m.value]
    assert notices == [
        f"run 1 was dropped from the comparison: the session keeps the last {runs.MAX_RUNS} runs."
    ]
    at.switch_page(COMPARE).run()
    names = [r["name"] for r in kept(at)]
    assert len(names) == runs.MAX_RUNS
    assert names[0] == "run 2" and names[-1] == f"run {runs.MAX_RUNS + 1}"
    assert len(at.dataframe[0].value.columns) == runs.MAX_RUNS


def test_five_seeds_give_mean_and_range_and_seed_zero_matches_the_train_page(at):
    finish(at, 20)
    single = at.session_state["app.trainer"].net
    split = at.session_state["app.split"]
    at.switch_page(COMPARE).run()
    at.button(key="compare.seeds_run").click().run()
    assert not at.exception
    study = at.session_state[state.COMPARE_SEEDS]["results"]
    assert [r["seed"] for r in study] == [0, 1, 2, 3, 4]
    assert all(r["epochs"] == 20 for r in study)
    table = at.dataframe[-1].value
    accuracies = table["test accuracy"].to_numpy()
    assert accuracies[0] == single.evaluate(split.X_test, split.y_test)["accuracy"]
    assert [h["train_loss"] for h in study[0]["history"]] == [r.train_loss for r in single.history]
    shown = {m.label: float(m.value) for m in at.metric}
    assert shown["Mean test accuracy"] == pytest.approx(accuracies.mean(), abs=5e-4)
    assert shown["Lowest"] == pytest.approx(accuracies.min(), abs=5e-4)
    assert shown["Highest"] == pytest.approx(accuracies.max(), abs=5e-4)
    band = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert {"training mean", "training range", "validation mean"} <= {
        t["name"] for t in band["data"]
    }
    # Another seed really is another network.
    other = nn.Network.from_config({**single.config, "seed": 1})
    assert not np.array_equal(other.get_weights()[0], single.get_weights()[0])
    at.switch_page(TRAIN).run()
    at.number_input(key="train.learning_rate").set_value(0.5).run()
    at.switch_page(COMPARE).run()
    assert any("earlier settings" in w.value for w in at.warning)


def test_record_builders_without_streamlit():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    split = nn.data.split((X, y), seed=0)
    settings = {**loop.DEFAULT_SETTINGS, "epochs": 3}
    results = runs.train_seeds(nn.presets.ARTICLE["network"], split, settings, [0, 7])
    assert [r["epochs"] for r in results] == [3, 3]
    spread = runs.seed_spread(results)
    accs = [r["test_accuracy"] for r in results]
    assert spread == {"mean": np.mean(accs), "min": min(accs), "max": max(accs), "n": 2}
    assert runs.seed_spread([{"test_accuracy": None}])["n"] == 0


def test_seeds_wait_for_a_free_training_slot_and_give_it_back(at):
    finish(at, 5)
    at.switch_page(COMPARE).run()
    others = [f"another visitor {i}" for i in range(capacity.SLOTS.limit)]
    try:
        for key in others:
            assert capacity.SLOTS.acquire(key, "their run").granted
        at.button(key="compare.seeds_run").click().run()
        assert not at.exception
        assert state.COMPARE_SEEDS not in at.session_state
        assert any("as many as it allows at once" in w.value for w in at.warning)
        assert capacity.SLOTS.status() == (others, [])  # no place kept in the queue
        capacity.SLOTS.release(others[0])
        at.button(key="compare.seeds_run").click().run()
        assert not at.exception
        assert [r["epochs"] for r in at.session_state[state.COMPARE_SEEDS]["results"]] == [5] * 5
        assert capacity.SLOTS.status() == (others[1:], [])  # the seeds gave theirs back
    finally:
        capacity.SLOTS.clear()


def test_the_seeds_share_one_run_compute_budget(monkeypatch):
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    split = nn.data.split((X, y), seed=0)
    settings = {**loop.DEFAULT_SETTINGS, "epochs": 2_000, "pace": "fastest"}
    monkeypatch.setattr(limits, "MAX_RUN_CPU_S", 0.5)
    slots = capacity.Slots(limit=1, stale_s=60)
    results = runs.train_seeds(
        nn.presets.ARTICLE["network"], split, settings, [0, 1, 2], slots=slots, slot_key="me"
    )
    # Half a CPU second trains a few hundred per-sample epochs at most, not 3 x 2,000: the
    # first seed spends the budget and the others stop at once with nothing left.
    assert results[0]["status"] == loop.OUT_OF_COMPUTE
    assert 0 < results[0]["epochs"] < 2_000
    assert [r["epochs"] for r in results[1:]] == [0, 0]
    assert all(r["status"] == loop.OUT_OF_COMPUTE for r in results)
    assert slots.status() == ([], [])


def test_settings_rows_put_differences_first_and_shade_them():

    def record(name, lr, acc):
        return {
            "name": name,
            "settings": {"training": {"learning_rate": lr, "shuffle": False, "momentum": None}},
            "metrics": {"test accuracy": acc},
        }

    rows, differing = compare_ui.settings_rows([record("a", 0.1, 0.9), record("b", 0.2, 0.8)])
    assert differing == ["training.learning_rate"]
    assert list(rows.index) == [
        "training.learning_rate",
        "test accuracy",
        "training.shuffle",
        "training.momentum",
    ]
    html = compare_ui.highlight_rows(rows, differing).to_html()
    style = html.split("</style>")[0]
    assert "background-color: #fff3b0" in style
    assert "row0_col0" in style and "row0_col1" in style  # both cells of the differing row
    assert "row1_" not in style and "row2_" not in style
    assert ">no<" in html and ">–<" in html and ">0.9<" in html


def run_cv(at, k: int = 3):
    """Run the cross-validation with ``k`` folds and wait for it; the page drawn after it."""
    at.switch_page(COMPARE).run()
    at.slider(key="compare.cv.k").set_value(k).run()
    at.button(key="compare.cv.run").click().run()
    assert not at.exception
    job = at.session_state[state.COMPARE_CV_JOB]["job"]
    assert job.wait(300)
    at.run()  # the progress fragment sees the end and moves the result into the session
    assert not at.exception
    return job


def band_spec(at) -> dict:
    """The figure of the curves over the folds (its title says so)."""
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titled = [s for s in charts if "folds</b>" in s["layout"].get("title", {}).get("text", "")]
    assert len(titled) == 1, [s["layout"].get("title") for s in charts]
    return titled[0]


def test_cross_validation_shows_mean_and_spread_the_folds_and_the_bands(at):
    at.switch_page(TRAIN).run()
    at.number_input(key="train.epochs").set_value(20).run()
    job = run_cv(at, k=4)
    assert state.COMPARE_CV_JOB not in at.session_state
    found = at.session_state[state.COMPARE_CV]
    result = found["result"]
    assert found["error"] is None and found["reason"] is None
    assert len(result.folds) == 4 and all(f.epochs == 20 for f in result.folds)
    # the same folds as scikit-learn's stratified 4-fold split with the split's seed
    dataset = at.session_state["app.dataset"]
    seed = at.session_state["app.split_settings"]["seed"]
    pairs = crossval.folds(dataset.y, 4, "classification", seed)
    assert [list(f.test_index) for f in result.folds] == [list(t) for _, t in pairs]
    accuracies = np.array([f.metrics["accuracy"] for f in result.folds])
    shown = {m.label: m.value for m in at.metric}
    assert shown["Mean held-out accuracy"] == f"{accuracies.mean():.3f} ± {accuracies.std():.3f}"
    assert float(shown["Lowest fold"]) == pytest.approx(accuracies.min(), abs=5e-4)
    tables = [d.value for d in at.dataframe]
    folds = next(t for t in tables if "held-out rows" in t)
    assert list(folds["fold"]) == [1, 2, 3, 4]
    assert np.allclose(folds["accuracy"], accuracies)
    assert list(folds["held-out rows"]) == [f.n_test for f in result.folds]
    summary = next(t for t in tables if "metric" in t).set_index("metric")
    assert summary.loc["accuracy", "mean"] == pytest.approx(accuracies.mean())
    band = band_spec(at)
    names = [t["name"] for t in band["data"]]
    assert [n for n in names if n.startswith("fold")] == [f"fold {i}" for i in range(1, 5)]
    assert any(n.startswith("mean · AUC") for n in names) and "± 1 std" in names
    assert "macro average" in band["layout"]["title"]["text"]
    # precision-recall of one class
    at.segmented_control(key="compare.cv.kind").set_value("pr").run()
    at.selectbox(key="compare.cv.which").set_value(0).run()
    assert not at.exception
    band = band_spec(at)
    assert "Precision-recall over 4 folds" in band["layout"]["title"]["text"]
    assert any(t["name"].startswith("mean · AP") for t in band["data"])
    assert job.request.n_jobs == limits.MAX_CV_JOBS
    # changed settings make the result out of date
    at.switch_page(TRAIN).run()
    at.number_input(key="train.learning_rate").set_value(0.5).run()
    at.switch_page(COMPARE).run()
    assert any("earlier settings" in w.value and "cross-validation" in w.value for w in at.warning)


def test_cross_validation_waits_for_a_training_slot_and_gives_it_back(at):
    at.switch_page(COMPARE).run()
    others = [f"another visitor {i}" for i in range(capacity.SLOTS.limit)]
    try:
        for key in others:
            assert capacity.SLOTS.acquire(key, "their run").granted
        at.button(key="compare.cv.run").click().run()
        assert not at.exception
        assert state.COMPARE_CV_JOB not in at.session_state
        assert any("as many as it allows at once" in w.value for w in at.warning)
        assert capacity.SLOTS.status() == (others, [])
        capacity.SLOTS.release(others[0])
        run_cv(at)
        assert len(at.session_state[state.COMPARE_CV]["result"].folds) == 3
        assert capacity.SLOTS.status() == (others[1:], [])  # the job gave its slot back
    finally:
        capacity.SLOTS.clear()


def test_cross_validation_can_be_cancelled_and_keeps_the_finished_folds(at):
    at.switch_page(TRAIN).run()
    at.number_input(key="train.epochs").set_value(2_000).run()
    at.switch_page(COMPARE).run()
    at.slider(key="compare.cv.k").set_value(10).run()
    at.button(key="compare.cv.run").click().run()
    assert at.button(key="compare.cv.run").disabled  # one at a time
    assert "0 of 10 folds done" in at.get("progress")[0].proto.text
    at.button(key="compare.cv.cancel").click().run()
    job = at.session_state[state.COMPARE_CV_JOB]["job"]
    assert job.wait(300)
    at.run()
    found = at.session_state[state.COMPARE_CV]
    assert found["reason"] == "cancelled" and len(found["result"].folds) < 10
    assert any(
        w.value.startswith(f"Cancelled after {len(found['result'].folds)} of 10 folds")
        for w in at.warning
    )
    assert not at.button(key="compare.cv.run").disabled


def test_the_learning_curve_trains_each_fold_on_growing_shares_of_its_rows(at):
    at.switch_page(TRAIN).run()
    at.number_input(key="train.epochs").set_value(15).run()
    at.switch_page(COMPARE).run()
    at.slider(key="compare.cv.k").set_value(3).run()
    at.button(key="compare.cv.learning").click().run()
    assert not at.exception
    running = at.session_state[state.COMPARE_CV_JOB]["job"]
    assert running.kind == "learning" and running.total == 3 * len(crossval.LEARNING_SHARES)
    assert running.wait(300)
    at.run()
    assert not at.exception
    found = at.session_state[state.COMPARE_LEARNING]
    lc = found["result"]
    # 3 folds at 10%, 50%, 75% and 100% of their 100 rows: 25% would be no larger than the
    # least that leaves a validation row of each of the 3 classes (36 rows, 10% of them kept
    # for validation as the split says)
    assert found["error"] is None and lc.shares == [0.1, 0.5, 0.75, 1.0]
    assert len(lc.folds) == lc.total == running.total == running.done == 12
    assert state.COMPARE_CV not in at.session_state  # a learning curve is not a cross-validation
    points = lc.points()
    sizes = [p["n_train"] for p in points]
    assert sizes == [32.0, 45.0, 67.0, 90.0]  # the rows trained on, validation rows aside
    chart = next(
        json.loads(c.proto.spec)
        for c in at.get("plotly_chart")
        if "training rows" in json.dumps(json.loads(c.proto.spec)["layout"].get("xaxis", {}))
    )
    held = next(t for t in chart["data"] if t["name"] == "held-out rows, mean")
    assert np.allclose(held["y"], [p["test_mean"] for p in points])
    assert held["x"] == sizes
    table = next(d.value for d in at.dataframe if "held-out accuracy" in d.value)
    assert list(table["training rows"]) == sizes
    assert any("Learning curve" in m.value for m in at.markdown)


def test_a_regression_is_cross_validated_with_r2_and_no_class_curves(at):
    at.switch_page("pages/1_Data.py").run()
    at.selectbox(key="data.source").set_value("diabetes").run()
    at.switch_page(TRAIN).run()
    at.number_input(key="train.epochs").set_value(10).run()
    run_cv(at, k=3)
    result = at.session_state[state.COMPARE_CV]["result"]
    assert result.task == "regression" and result.metric_names == ["loss", "r2", "mae", "rmse"]
    r2 = np.array([f.metrics["r2"] for f in result.folds])
    shown = {m.label: m.value for m in at.metric}
    assert shown["Mean held-out R²"] == f"{r2.mean():.3f} ± {r2.std():.3f}"
    folds = next(d.value for d in at.dataframe if "held-out rows" in d.value)
    assert {"r2", "mae", "rmse"} <= set(folds.columns)
    assert not any(  # no ROC or precision-recall band for a number
        "folds</b>" in json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "")
        for c in at.get("plotly_chart")
    )
    assert len(at.get("plotly_chart")) == 1  # the folds' curves
    # folds split the rows, unstratified: every row held out once
    held = np.sort(np.concatenate([f.test_index for f in result.folds]))
    assert np.array_equal(held, np.arange(len(at.session_state["app.dataset"].y)))
