"""The training state as plain data: a run saved with its state and restored in a new network
trains on exactly as one call would; malformed states are refused with a ValueError."""

import copy
import io
import json
import re

import numpy as np
import pytest

import nn
from tests.test_regression_engine import regressor, sine
from tests.test_training import (
    OVERFIT,
    assert_same_weights,
    losses_of,
    overfit_data,
    weights_differ,
)

# Small data on which the validation loss wanders early, so at the pause (epoch 5) the run is
# some epochs past its best one with every optimizer: early stopping's state matters.
CLASSIFICATION = overfit_data()
REGRESSION = (*sine(20, noise=0.4, seed=2), *sine(100, noise=0.4, seed=3))
OPTIMIZERS = {
    "sgd": {"optimizer": "sgd", "learning_rate": 0.05},
    "momentum": {"optimizer": "momentum", "learning_rate": 0.05},
    "nesterov": {"optimizer": "momentum", "learning_rate": 0.05, "nesterov": True},
    "adam": {"optimizer": "adam", "learning_rate": 0.02},
}
EARLY_STOPPING = {
    "none": {},
    "restore_best": {"early_stopping": True, "patience": 50, "restore_best": True},
    "keep_last": {"early_stopping": True, "patience": 50, "restore_best": False},
}
COMMON = {"batch_size": 4, "shuffle": True, "seed": 1}


def make_network(task: str) -> nn.Network:
    return nn.Network.from_config(OVERFIT) if task == "classification" else regressor()


def data_of(task: str):
    return CLASSIFICATION if task == "classification" else REGRESSION


def through_storage(net: nn.Network, restore: bool = True) -> nn.Network:
    """The network as a new process gets it back: the model through ``save``/``load``, the
    state's facts through JSON and its arrays through an npz read without pickle."""
    meta, arrays = net.training_state_data()
    model, stored_arrays = io.BytesIO(), io.BytesIO()
    net.save(model)
    stored_meta = json.dumps(meta, allow_nan=False)
    np.savez(stored_arrays, **arrays)
    loaded = nn.Network.load(io.BytesIO(model.getvalue()))
    with np.load(io.BytesIO(stored_arrays.getvalue()), allow_pickle=False) as npz:
        loaded_arrays = {name: npz[name] for name in npz.files}
    if restore:
        loaded.restore_training_state(json.loads(stored_meta), loaded_arrays)
    return loaded


def assert_same_state(a: nn.Network, b: nn.Network) -> None:
    meta_a, arrays_a = a.training_state_data()
    meta_b, arrays_b = b.training_state_data()
    assert meta_a == meta_b
    assert arrays_a.keys() == arrays_b.keys()
    for name in arrays_a:
        np.testing.assert_array_equal(arrays_a[name], arrays_b[name], err_msg=name)


# ---- a restored run goes on as one call ----


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("early", list(EARLY_STOPPING))
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_five_epochs_restored_then_five_more_equal_ten_in_one_call(optimizer, early, task):
    X, y, Xv, yv = data_of(task)
    settings = {
        "validation_data": (Xv, yv),
        **COMMON,
        **OPTIMIZERS[optimizer],
        **EARLY_STOPPING[early],
    }
    one = make_network(task)
    one.fit(X, y, epochs=10, **settings)
    paused = make_network(task)
    paused.fit(X, y, epochs=5, **settings)
    if paused.early_stopping is not None:
        # the pause is past the best epoch: best_weights, wait (and resume_point) all matter
        assert paused.early_stopping.wait > 0
        assert (paused.early_stopping.resume_point is not None) == (early == "restore_best")
    restored = through_storage(paused)
    assert_same_state(restored, paused)
    restored.fit(X, y, epochs=5, **settings)
    assert [r.epoch for r in restored.history] == list(range(1, 11))
    assert losses_of(restored.history) == losses_of(one.history)
    assert_same_weights(restored.get_weights(), one.get_weights())
    assert_same_state(restored, one)
    # Without its state the loaded network trains differently: the test can fail.
    fresh = through_storage(paused, restore=False)
    fresh.fit(X, y, epochs=5, **settings)
    assert weights_differ(fresh.get_weights(), one.get_weights())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_restored_run_goes_on_in_either_dtype(dtype):
    X, y, Xv, yv = CLASSIFICATION
    settings = {"validation_data": (Xv, yv), **COMMON, **OPTIMIZERS["adam"]}
    one = nn.Network.from_config({**OVERFIT, "dtype": dtype})
    one.fit(X, y, epochs=6, **settings)
    paused = nn.Network.from_config({**OVERFIT, "dtype": dtype})
    paused.fit(X, y, epochs=3, **settings)
    _, arrays = paused.training_state_data()
    assert {a.dtype.name for a in arrays.values()} == {dtype}
    restored = through_storage(paused)
    restored.fit(X, y, epochs=3, **settings)
    assert losses_of(restored.history) == losses_of(one.history)
    assert_same_weights(restored.get_weights(), one.get_weights())


def test_a_run_stopped_early_restores_stopped_and_goes_on_as_the_original():
    X, y, Xv, yv = CLASSIFICATION
    settings = {
        "validation_data": (Xv, yv),
        **COMMON,
        **OPTIMIZERS["adam"],
        "early_stopping": True,
        "patience": 3,
    }
    original = nn.Network.from_config(OVERFIT)
    original.fit(X, y, epochs=100, **settings)
    assert original.stopped_early
    restored = through_storage(original)
    assert restored.stopped_early
    assert_same_state(restored, original)
    for net in (original, restored):
        net.fit(X, y, epochs=4, **settings)
    assert losses_of(restored.history) == losses_of(original.history)
    assert_same_weights(restored.get_weights(), original.get_weights())
    assert_same_state(restored, original)


def test_the_next_call_settings_apply_to_a_restored_run_as_to_a_paused_one():
    """A new learning rate or Adam setting applies; another optimizer starts afresh."""
    X, y, Xv, yv = CLASSIFICATION
    settings = {"validation_data": (Xv, yv), **COMMON, **OPTIMIZERS["adam"]}
    changes = [
        {"learning_rate": 0.005, "beta2": 0.99},
        {"optimizer": "momentum", "learning_rate": 0.01},
    ]
    for change in changes:
        original = nn.Network.from_config(OVERFIT)
        original.fit(X, y, epochs=4, **settings)
        restored = through_storage(original)
        for net in (original, restored):
            net.fit(X, y, epochs=3, **{**settings, **change})
        assert restored.optimizer.hyperparameters()["learning_rate"] == change["learning_rate"]
        assert restored.optimizer.name == change.get("optimizer", "adam")
        assert losses_of(restored.history) == losses_of(original.history)
        assert_same_weights(restored.get_weights(), original.get_weights())
        assert_same_state(restored, original)


def test_the_state_has_the_learning_rate_set_between_calls():
    X, y, _, _ = CLASSIFICATION
    net = nn.Network.from_config(OVERFIT)
    net.fit(X, y, epochs=1, **COMMON, **OPTIMIZERS["momentum"])
    net.set_learning_rate(0.125)
    meta, _ = net.training_state_data()
    assert meta["optimizer"]["hyperparameters"] == {
        "learning_rate": 0.125,
        "momentum": 0.9,
        "nesterov": False,
    }
    assert through_storage(net).optimizer.learning_rate == 0.125


def test_an_untrained_network_has_an_empty_state_that_restores_fresh():
    net = nn.Network.from_config(OVERFIT)
    meta, arrays = net.training_state_data()
    assert meta == {
        "format": "nn-lab-training-state/1",
        "optimizer": None,
        "rng": None,
        "early_stopping": None,
    }
    assert arrays == {}
    X, y, _, _ = CLASSIFICATION
    trained = nn.Network.from_config(OVERFIT)
    trained.fit(X, y, epochs=2, **COMMON, **OPTIMIZERS["adam"])
    trained.restore_training_state(meta, arrays)  # like reset_training
    assert trained.optimizer is None and trained.early_stopping is None
    assert trained.training_state_data() == (meta, {})


def test_the_state_names_its_parts_and_arrays():
    X, y, Xv, yv = CLASSIFICATION
    net = nn.Network.from_config(OVERFIT)
    net.fit(
        X,
        y,
        epochs=5,
        validation_data=(Xv, yv),
        **COMMON,
        **OPTIMIZERS["adam"],
        **EARLY_STOPPING["restore_best"],
    )
    meta, arrays = net.training_state_data()
    assert sorted(arrays) == [
        "early_stopping.best_weights",
        "early_stopping.resume_point",
        "optimizer.m.0",
        "optimizer.v.0",
    ]
    assert meta["optimizer"] == {
        "name": "adam",
        "hyperparameters": {"learning_rate": 0.02, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
        "t": 5 * 6,  # 24 rows in batches of 4
        "arrays": ["m.0", "v.0"],
    }
    assert meta["rng"]["bit_generator"] == "PCG64"
    early = meta["early_stopping"]
    assert early["best"] == min(r.val_loss for r in net.history)
    assert (early["patience"], early["wait"], early["stopped"]) == (
        50,
        net.early_stopping.wait,
        False,
    )
    assert early["arrays"] == ["best_weights", "resume_point"]
    # copies: training on does not change a state already taken
    before = {name: a.copy() for name, a in arrays.items()}
    net.fit(X, y, epochs=1, validation_data=(Xv, yv), **COMMON, **OPTIMIZERS["adam"])
    for name, array in arrays.items():
        np.testing.assert_array_equal(array, before[name])
    meta["optimizer"]["t"] = 0
    assert net.optimizer.t == 5 * 6 + 6


def test_momentum_state_is_its_velocity():
    X, y, _, _ = CLASSIFICATION
    net = nn.Network.from_config(OVERFIT)
    net.fit(X, y, epochs=1, **COMMON, **OPTIMIZERS["nesterov"])
    meta, arrays = net.training_state_data()
    assert meta["optimizer"]["arrays"] == ["velocity.0"] and list(arrays) == [
        "optimizer.velocity.0"
    ]
    assert meta["optimizer"]["hyperparameters"]["nesterov"] is True
    np.testing.assert_array_equal(arrays["optimizer.velocity.0"], net.optimizer.velocity[0])


# ---- refusals ----


def trained_state(optimizer: str) -> tuple[dict, dict]:
    """A state with every part: the optimizer's arrays, and early stopping between calls with
    restore_best (so with a resume_point)."""
    X, y, Xv, yv = CLASSIFICATION
    net = nn.Network.from_config(OVERFIT)
    net.fit(
        X,
        y,
        epochs=5,
        validation_data=(Xv, yv),
        **COMMON,
        **OPTIMIZERS[optimizer],
        **EARLY_STOPPING["restore_best"],
    )
    return net.training_state_data()


STATES = {name: trained_state(name) for name in ("adam", "momentum")}


def state_copy(optimizer: str = "adam") -> tuple[dict, dict]:
    meta, arrays = STATES[optimizer]
    return copy.deepcopy(meta), {name: a.copy() for name, a in arrays.items()}


def assert_refused(meta, arrays, message: str, net: nn.Network | None = None) -> None:
    net = nn.Network.from_config(OVERFIT) if net is None else net
    with pytest.raises(ValueError, match="not a training state for this network") as info:
        net.restore_training_state(meta, arrays)
    assert re.search(message, str(info.value)), str(info.value)


def set_field(path: str, value):
    """A change that sets the field at ``path`` ("optimizer.t", "rng.state.inc") to ``value``."""

    def change(meta, arrays):
        *parents, key = path.split(".")
        target = meta
        for parent in parents:
            target = target[parent]
        target[key] = value

    return change


def drop_field(path: str):
    def change(meta, arrays):
        *parents, key = path.split(".")
        target = meta
        for parent in parents:
            target = target[parent]
        del target[key]

    return change


def set_array(name: str, make):
    def change(meta, arrays):
        arrays[name] = make(arrays[name])

    return change


def add_array(name: str):
    def change(meta, arrays):
        arrays[name] = np.zeros(515)

    return change


def drop_array(name: str):
    def change(meta, arrays):
        del arrays[name]

    return change


def with_negative_entry(a):
    a = a.copy()
    a[0] = -1.0
    return a


def with_nan(a):
    a = a.copy()
    a[3] = np.nan
    return a


def without_moments(meta, arrays):
    meta["optimizer"]["arrays"] = []
    del arrays["optimizer.m.0"], arrays["optimizer.v.0"]


def without_best_weights(meta, arrays):
    meta["early_stopping"]["arrays"] = ["resume_point"]
    del arrays["early_stopping.best_weights"]


BAD_FIELDS = {
    # the whole state
    "extra field": (set_field("comment", "hi"), "unknown comment"),
    "missing part": (drop_field("rng"), "missing rng"),
    "format": (set_field("format", "nn-lab-training-state/9"), "format is not"),
    "unknown array": (add_array("weights.0"), "unknown array 'weights.0'"),
    "array of no name": (add_array("optimizer."), "unknown array 'optimizer.'"),
    "array not listed": (add_array("optimizer.velocity.0"), "were given"),
    "arrays of no part": (set_field("early_stopping", None), "early_stopping arrays but no"),
    # the optimizer
    "optimizer not a dict": (set_field("optimizer", ["adam"]), "must be a dict with a 'name'"),
    "unknown optimizer": (set_field("optimizer.name", "rmsprop"), "unknown optimizer 'rmsprop'"),
    "optimizer extra field": (set_field("optimizer.velocity", 1), "unknown velocity"),
    "optimizer missing t": (drop_field("optimizer.t"), "missing t"),
    "hyperparameters not a dict": (set_field("optimizer.hyperparameters", 0.1), "must be a dict"),
    "missing hyperparameter": (drop_field("optimizer.hyperparameters.beta2"), "missing beta2"),
    "foreign hyperparameter": (
        set_field("optimizer.hyperparameters.momentum", 0.9),
        "unknown momentum",
    ),
    "learning rate text": (
        set_field("optimizer.hyperparameters.learning_rate", "fast"),
        "learning_rate must be",
    ),
    "learning rate negative": (
        set_field("optimizer.hyperparameters.learning_rate", -0.1),
        "learning_rate must be",
    ),
    "beta1 nan": (set_field("optimizer.hyperparameters.beta1", float("nan")), "beta1 must be a"),
    "beta2 one": (set_field("optimizer.hyperparameters.beta2", 1.0), "beta2 must be"),
    "eps infinite": (set_field("optimizer.hyperparameters.eps", float("inf")), "eps must be a"),
    "t negative": (set_field("optimizer.t", -1), "'t' must be a whole number"),
    "t fraction": (set_field("optimizer.t", 2.5), "'t' must be a whole number"),
    "t bool": (set_field("optimizer.t", True), "'t' must be a whole number"),
    "t zero with moments": (set_field("optimizer.t", 0), "'t' is 0"),
    "moments listed not a list": (set_field("optimizer.arrays", "m.0"), "list of distinct names"),
    "moments listed twice": (
        set_field("optimizer.arrays", ["m.0", "m.0", "v.0"]),
        "list of distinct names",
    ),
    "one moment listed": (set_field("optimizer.arrays", ["m.0"]), "lists the arrays"),
    "moments listed not given": (drop_array("optimizer.v.0"), "were given"),
    "no moments with t": (without_moments, "no moments"),
    "moment as list": (set_array("optimizer.m.0", lambda a: a.tolist()), "a NumPy array"),
    "moment float32": (set_array("optimizer.m.0", lambda a: a.astype(np.float32)), "float64"),
    "moment ints": (set_array("optimizer.v.0", lambda a: a.astype(np.int64)), "float64"),
    "moment short": (set_array("optimizer.m.0", lambda a: a[:-1]), "must have shape"),
    "moment 2-D": (set_array("optimizer.m.0", lambda a: a.reshape(1, -1)), "must have shape"),
    "moment nan": (set_array("optimizer.m.0", with_nan), "NaN or infinite"),
    "negative squares": (set_array("optimizer.v.0", with_negative_entry), "negative"),
    # the shuffling stream
    "rng not a dict": (set_field("rng", 42), "rng must be a dict"),
    "rng other generator": (set_field("rng.bit_generator", "MT19937"), "PCG64"),
    "rng missing inc": (drop_field("rng.state.inc"), "missing inc"),
    "rng state negative": (set_field("rng.state.state", -1), "'state' must be a whole number"),
    "rng state too big": (set_field("rng.state.state", 2**128), "128 bits"),
    "rng state text": (set_field("rng.state.state", "12"), "'state' must be a whole number"),
    "rng inc even": (set_field("rng.state.inc", 2), "odd"),
    "rng inc float": (set_field("rng.state.inc", 3.0), "'inc' must be a whole number"),
    "rng has_uint32": (set_field("rng.has_uint32", 2), "0 or 1"),
    "rng uinteger": (set_field("rng.uinteger", 2**32), "32 bits"),
    "rng uinteger none": (set_field("rng.uinteger", None), "'uinteger' must be a whole number"),
    # early stopping
    "early stopping not a dict": (set_field("early_stopping", "on"), "must be a dict"),
    "early stopping extra": (set_field("early_stopping.epoch", 5), "unknown epoch"),
    "patience zero": (set_field("early_stopping.patience", 0), "patience must be"),
    "patience fraction": (set_field("early_stopping.patience", 2.5), "patience must be"),
    "restore_best text": (set_field("early_stopping.restore_best", "yes"), "restore_best must"),
    "best nan": (set_field("early_stopping.best", float("nan")), "'best' must be a finite"),
    "best infinite": (set_field("early_stopping.best", float("inf")), "'best' must be a finite"),
    "best text": (set_field("early_stopping.best", "0.3"), "'best' must be a finite"),
    "best bool": (set_field("early_stopping.best", True), "'best' must be a finite"),
    "wait negative": (set_field("early_stopping.wait", -1), "'wait' must be a whole number"),
    "stopped number": (set_field("early_stopping.stopped", 1), "'stopped' must be true or false"),
    "counting before any loss": (set_field("early_stopping.best", None), "before any validation"),
    "resume point when stopped": (set_field("early_stopping.stopped", True), "'resume_point'"),
    "resume point without restore": (
        set_field("early_stopping.restore_best", False),
        "'resume_point'",
    ),
    "no best weights": (without_best_weights, "lists the arrays"),
    "best weights missing": (drop_array("early_stopping.best_weights"), "were given"),
    "best weights short": (
        set_array("early_stopping.best_weights", lambda a: a[:10]),
        "must have shape",
    ),
    "resume point infinite": (
        set_array("early_stopping.resume_point", lambda a: np.full_like(a, np.inf)),
        "NaN or infinite",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FIELDS))
def test_each_malformed_field_is_refused(case):
    change, message = BAD_FIELDS[case]
    meta, arrays = state_copy()
    change(meta, arrays)
    assert_refused(meta, arrays, message)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nesterov", "yes", "nesterov must be true or false"),
        ("momentum", 1.5, "momentum must be"),
        ("momentum", None, "momentum must be"),
    ],
)
def test_bad_momentum_settings_are_refused(field, value, message):
    meta, arrays = state_copy("momentum")
    meta["optimizer"]["hyperparameters"][field] = value
    assert_refused(meta, arrays, message)


def test_velocity_from_another_optimizer_is_refused():
    meta, arrays = state_copy("momentum")
    meta["optimizer"]["name"] = "adam"
    assert_refused(meta, arrays, "wrong fields")


def test_not_a_state_at_all_is_refused():
    _, arrays = state_copy()
    assert_refused("state", arrays, "must be a dict")
    meta, _ = state_copy()
    assert_refused(meta, [("optimizer.m.0", np.zeros(3))], "arrays must be a dict")
    assert_refused(meta, {0: np.zeros(3)}, "arrays must be a dict")


def test_a_state_of_another_network_shape_is_refused():
    meta, arrays = state_copy()
    smaller = nn.Network.from_config({**OVERFIT, "layers": [4, 16, 3]})
    assert_refused(meta, arrays, r"must have shape \(131,\)", smaller)
    other_dtype = nn.Network.from_config({**OVERFIT, "dtype": "float32"})
    assert_refused(meta, arrays, "must hold float32", other_dtype)


def test_a_refused_state_leaves_the_current_one():
    X, y, _, _ = CLASSIFICATION
    net = nn.Network.from_config(OVERFIT)
    net.fit(X, y, epochs=2, **COMMON, **OPTIMIZERS["adam"])
    before = net.training_state_data()
    optimizer = net.optimizer
    meta, arrays = state_copy()
    meta["rng"]["state"]["inc"] = 4
    assert_refused(meta, arrays, "odd", net)
    assert net.optimizer is optimizer
    after = net.training_state_data()
    assert after[0] == before[0]
    for name, array in before[1].items():
        np.testing.assert_array_equal(after[1][name], array)


def test_restored_arrays_are_copies():
    meta, arrays = state_copy()
    net = nn.Network.from_config(OVERFIT)
    net.restore_training_state(meta, arrays)
    arrays["optimizer.m.0"][...] = 0.0
    arrays["early_stopping.best_weights"][...] = 0.0
    assert np.any(net.optimizer.m[0] != 0.0)
    assert np.any(net.early_stopping.best_weights != 0.0)
    read_only = {name: a.copy() for name, a in STATES["adam"][1].items()}
    for a in read_only.values():
        a.flags.writeable = False
    net.restore_training_state(copy.deepcopy(STATES["adam"][0]), read_only)
    assert net.optimizer.m[0].flags.writeable
