"""The workspace's items (dashboard/store/workspace.py): our own formats, round trips, and
refusal of anything else."""

from __future__ import annotations

import io
import json
import math
import weakref
import zipfile

import numpy as np
import pytest

import nn
from dashboard.common import limits
from dashboard.store import workspace
from dashboard.training import loop
from nn.preprocess import Preprocessor


def trained_net(task: str = "classification") -> nn.Network:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    if task == "classification":
        y = (X[:, 0] > 0).astype(int)
        net = nn.Network.from_config({"layers": [3, 4, 2], "seed": 1})
    else:
        y = X @ np.array([1.0, -2.0, 0.5])
        net = nn.Network.from_config(
            {
                "layers": [3, 4, 1],
                "seed": 1,
                "task": "regression",
                "output_activation": "linear",
                "loss": "squared_error",
            }
        )
    pre = Preprocessor.fit(X, ["a", "b", "c"], standardize=True)
    net.preprocessor = pre
    net.fit(pre.transform(X), y, epochs=5)
    assert (net.target_scaler is not None) == (task == "regression")
    return net


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_the_network_item_round_trips_weights_history_preprocessing_and_state(task):
    net = trained_net(task)
    data = workspace.network_item(net, loop.FINISHED, "done", "article", 1.5)
    back, meta = workspace.read_network(data)
    for a, b in zip(back.get_weights(), net.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [r.as_dict() for r in back.history] == [r.as_dict() for r in net.history]
    assert back.preprocessor == net.preprocessor and back.config == net.config
    assert meta == {"status": loop.FINISHED, "message": "done", "tag": "article", "cpu_s": 1.5}


def test_a_run_that_was_on_comes_back_paused():
    for status in (loop.RUNNING, loop.QUEUED):
        _, meta = workspace.read_network(workspace.network_item(trained_net(), status))
        assert meta["status"] == loop.PAUSED


def rezip(data: bytes, replace: dict[str, bytes | None]) -> bytes:
    """``data`` (a network item) with members replaced (None drops one, a new name adds one)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            if name in replace:
                continue
            dst.writestr(name, src.read(name))
        for name, value in replace.items():
            if value is not None:
                dst.writestr(name, value)
    return out.getvalue()


def state_json(**change) -> bytes:
    base = {"format": workspace.FORMAT, "status": "finished", "message": "", "tag": "", "cpu_s": 0}
    return json.dumps({**base, **change}).encode()


@pytest.mark.parametrize(
    "replace",
    [
        {workspace.TRAINER_MEMBER: None},
        {workspace.MODEL_MEMBER: None},
        {"extra.bin": b"x"},
        {workspace.TRAINER_MEMBER: b"not json"},
        {workspace.TRAINER_MEMBER: state_json(status="exploded")},
        {workspace.TRAINER_MEMBER: state_json(cpu_s=-1)},
        {workspace.TRAINER_MEMBER: state_json(cpu_s="NaN")},
        {workspace.TRAINER_MEMBER: state_json(format="other/1")},
        {workspace.MODEL_MEMBER: b"PK\x03\x04 junk"},
        {workspace.TRAINING_MEMBER: None},
        {workspace.TRAINING_MEMBER: b"{}"},
        {workspace.TRAINING_MEMBER: b"\xff"},
        {workspace.TRAINING_ARRAYS: b"junk"},
        {workspace.TRAINING_ARRAYS: None},
    ],
)
def test_a_broken_network_item_is_refused_with_a_value_error(replace):
    good = workspace.network_item(trained_net(), loop.FINISHED)
    with pytest.raises(ValueError):
        workspace.read_network(rezip(good, replace))


@pytest.mark.parametrize("junk", [b"", b"junk", b"PK\x05\x06" + bytes(18), bytes(range(256))])
def test_junk_is_not_a_network_item(junk):
    with pytest.raises(ValueError):
        workspace.read_network(junk)


def test_a_network_larger_than_the_demo_allows_is_refused_before_its_weights_are_read():
    wide = limits.MAX_PARAMS // 3 + 1
    net = nn.Network.from_config({"layers": [2, wide, 2], "seed": 0})
    with pytest.raises(ValueError, match=r"too large|parameters|limit"):
        workspace.read_network(workspace.network_item(net, loop.READY))


CSV = {
    "file_name": "<b>penguins</b>.csv",
    "target": "species",
    "task": "classification",
    "roles": {"rowid": "skip"},
    "types": {"year": "categorical"},
    "missing": "impute",
    "fill": {"numeric": {"body_mass_g": "constant"}},
}


def test_the_settings_item_round_trips_and_keeps_only_the_reading_choices_of_a_csv():
    params = {"data": "csv", "lr": "0.1", "hidden": "8,4"}
    data = workspace.settings_item(
        params, {**CSV, "file_id": "abc", "source": "csv"}, {"predict_sample": [1.0, 2.5]}
    )
    back = workspace.read_settings(data)
    assert back == {"params": params, "csv": CSV, "extra": {"predict_sample": [1.0, 2.5]}}
    assert workspace.read_settings(workspace.settings_item(params))["csv"] is None


@pytest.mark.parametrize(
    "value",
    [
        {"format": "other/1", "params": {}, "csv": None},
        {"format": workspace.FORMAT, "params": {"lr": 0.1}, "csv": None},
        {"format": workspace.FORMAT, "params": [], "csv": None},
        {"format": workspace.FORMAT, "params": {}, "csv": {"target": "x"}},
        {"format": workspace.FORMAT, "params": {}, "csv": {**CSV, "roles": "skip"}},
        {"format": workspace.FORMAT, "params": {}, "csv": None, "extra": []},
        [1, 2, 3],
    ],
)
def test_malformed_settings_are_refused(value):
    with pytest.raises(ValueError):
        workspace.read_settings(json.dumps(value).encode())


@pytest.mark.parametrize("junk", [b"", b"\xff\xfe", b"[" * 100_000, b"{" * 10])
def test_settings_that_are_not_json_are_refused(junk):
    with pytest.raises(ValueError):
        workspace.read_settings(junk)


def test_a_saved_predict_sample_is_used_only_when_it_fits():
    assert workspace.read_sample([1, 2.5], 2) == [1.0, 2.5]
    for bad in ([1.0], [1.0, "2"], [1.0, math.inf], [True, 1.0], "12", None):
        assert workspace.read_sample(bad, 2) is None


def record(name: str, net=None, task: str = "classification") -> dict:
    return {
        "name": name,
        "task": task,
        "settings": {"data": {"dataset": "Iris"}},
        "metrics": {"test accuracy": 0.9, "epochs trained": 3, "status": "finished"},
        "history": [{"epoch": 1, "train_loss": 0.5, "val_loss": math.nan}],
        "net": weakref.ref(net) if net is not None else (lambda: None),
    }


def test_the_runs_item_keeps_the_records_and_which_is_the_current_networks():
    net, other = trained_net(), trained_net()
    data = workspace.runs_item([record("run 1", other), record("run 2", net)], 7, net)
    records, counter = workspace.read_runs(data, max_runs=10)
    assert counter == 7
    assert [(r["name"], r["current"]) for r in records] == [("run 1", False), ("run 2", True)]
    assert records[1]["metrics"] == record("run 2")["metrics"]
    assert math.isnan(records[0]["history"][0]["val_loss"])
    assert "net" not in records[0]
    records, _ = workspace.read_runs(data, max_runs=1)
    assert [r["name"] for r in records] == ["run 2"]


@pytest.mark.parametrize(
    "change",
    [
        {"task": "clustering"},
        {"name": 3},
        {"history": "many"},
        {"history": [1, 2]},
        {"metrics": None},
    ],
)
def test_a_malformed_run_is_refused(change):
    good = json.loads(workspace.runs_item([record("run 1")], 1))
    good["records"][0].update(change)
    with pytest.raises(ValueError):
        workspace.read_runs(json.dumps(good).encode(), 10)


def figures(history) -> list[dict]:
    """The history's figures (the wall-clock seconds of an epoch differ from run to run)."""
    return [{k: v for k, v in r.as_dict().items() if k != "seconds"} for r in history]


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_a_run_restored_from_its_item_resumes_as_if_it_had_never_stopped(optimizer):
    """5 epochs, saved and read back, then 5 more: the weights and history of one 10-epoch run
    (the optimizer's moments, the shuffling stream and early stopping came back too)."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int)
    options = {
        "optimizer": optimizer,
        "learning_rate": 0.05,
        "batch_size": 8,
        "shuffle": True,
        "seed": 2,
        "early_stopping": True,
        "patience": 50,
        "restore_best": True,
        "validation_data": (X[:20], y[:20]),
    }
    config = {"layers": [3, 6, 2], "seed": 1}
    whole = nn.Network.from_config(config)
    whole.fit(X, y, epochs=10, **options)
    first = nn.Network.from_config(config)
    first.fit(X, y, epochs=5, **options)
    back, _ = workspace.read_network(workspace.network_item(first, loop.PAUSED))
    back.fit(X, y, epochs=5, **options)
    for a, b in zip(back.get_weights(), whole.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert figures(back.history) == figures(whole.history)
    control, _ = workspace.read_network(workspace.network_item(first, loop.PAUSED))
    control.reset_training()  # the same weights without the run's state: another run
    control.fit(X, y, epochs=5, **options)
    assert not np.array_equal(control.get_weights()[0], whole.get_weights()[0])
