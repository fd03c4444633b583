"""Save and load: one .npz with weights, JSON config and history; anything else is a ValueError."""

import io
import json
import zipfile

import numpy as np
import pytest
from sklearn.datasets import load_iris

import nn

CONFIG = {
    "layers": [4, 6, 5, 3],
    "activation": ["relu", "tanh"],
    "output_activation": "softmax",
    "loss": "cross_entropy",
    "init": "he",
    "seed": 4,
}


def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def trained(dtype="float64"):
    X, y = iris()
    net = nn.Network.from_config({**CONFIG, "dtype": dtype})
    net.fit(X[::2], y[::2], epochs=4, learning_rate=0.01, batch_size=8, optimizer="adam",
            validation_data=(X[1::2], y[1::2]))  # fmt: skip
    return net


def saved_bytes(net):
    buf = io.BytesIO()
    net.save(buf)
    return buf.getvalue()


def npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def valid_arrays(net):
    """The arrays ``save`` writes, so a test can alter one of them."""
    with np.load(io.BytesIO(saved_bytes(net)), allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def records(net, seconds=True):
    return [
        {k: v for k, v in r.as_dict().items() if seconds or k != "seconds"} for r in net.history
    ]


def assert_same_model(a, b, X, seconds=True):
    assert a.config == b.config
    assert records(a, seconds) == records(b, seconds)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        assert wa.dtype == wb.dtype
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip_through_a_path(tmp_path, dtype):
    net = trained(dtype)
    path = tmp_path / "model.npz"
    net.save(path)
    loaded = nn.Network.load(path)
    assert_same_model(net, loaded, iris()[0])
    assert loaded.config["dtype"] == dtype
    assert loaded.epochs_trained == 4
    assert loaded.history[-1].val_loss == net.history[-1].val_loss
    again = nn.Network.load(str(path))
    assert_same_model(net, again, iris()[0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip_through_a_file_like(dtype):
    net = trained(dtype)
    buf = io.BytesIO()
    net.save(buf)
    buf.seek(0)
    assert_same_model(net, nn.Network.load(buf), iris()[0])
    assert_same_model(net, nn.Network.load(buf.getvalue()), iris()[0])


def test_untrained_network_round_trip_and_the_file_is_plain_npz(tmp_path):
    net = nn.Network.from_config({"layers": [2, 3, 1]})
    path = tmp_path / "m.npz"
    net.save(path)
    with np.load(path, allow_pickle=False) as data:
        names = set(data.files)
        meta = json.loads(str(data["meta"]))
    assert names == {"meta", "w0", "w1", "w2", "w3"}
    assert meta["config"] == net.config
    assert meta["history"] == []
    loaded = nn.Network.load(path)
    assert loaded.history == []
    assert_same_model(net, loaded, np.random.default_rng(0).normal(size=(5, 2)))


def test_loaded_network_keeps_training_like_the_original():
    X, y = iris()
    net = trained()
    loaded = nn.Network.load(saved_bytes(net))
    net.reset_training()
    for model in (net, loaded):
        model.fit(X, y, epochs=2, learning_rate=0.01, batch_size=16)
    assert_same_model(net, loaded, X, seconds=False)
    assert [r.epoch for r in loaded.history] == [1, 2, 3, 4, 5, 6]


# ---- what load must refuse ----


def not_npz_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("hello.txt", "just a zip")
    return buf.getvalue()


def zip_with_non_array_members():
    """A zip whose members are named like a model's but hold text, not .npy arrays."""
    net = nn.Network.from_config({"layers": [2, 2]})
    meta = json.dumps({"format": "nn-lab-model/1", "config": net.config, "history": []})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("meta.npy", meta)
        archive.writestr("w0.npy", "1 2 3 4")
        archive.writestr("w1.npy", "1 2")
    return buf.getvalue()


def plain_npy():
    buf = io.BytesIO()
    np.save(buf, np.zeros((4, 5)))
    return buf.getvalue()


def truncated(fraction):
    data = saved_bytes(trained())
    return data[: int(len(data) * fraction)]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: np.random.default_rng(0).bytes(2000), "not a (readable )?model file"),
        (lambda: b"", "not a (readable )?model file"),
        (lambda: truncated(0.5), "not a (readable )?model file"),
        (lambda: truncated(0.99), "not a (readable )?model file"),
        (not_npz_zip, "not a model file saved by this app"),
        (zip_with_non_array_members, "not a (readable )?model file"),
        (plain_npy, "not a (readable )?model file"),
        (lambda: b"PK\x03\x04" + b"\x00" * 100, "not a (readable )?model file"),
    ],
    ids=[
        "random-bytes",
        "empty",
        "truncated-half",
        "truncated-end",
        "zip-not-npz",
        "zip-with-text-members",
        "plain-npy",
        "zip-header-only",
    ],
)
def test_load_rejects_foreign_or_broken_files(tmp_path, make, message):
    data = make()
    with pytest.raises(ValueError, match=message):
        nn.Network.load(io.BytesIO(data))
    path = tmp_path / "bad.npz"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message):
        nn.Network.load(path)


def test_load_rejects_npz_without_meta():
    net = trained()
    arrays = valid_arrays(net)
    del arrays["meta"]
    with pytest.raises(ValueError, match="no metadata"):
        nn.Network.load(npz_bytes(**arrays))


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (np.array("{not json"), "metadata is not valid JSON"),
        (np.array(json.dumps([1, 2])), "format is not nn-lab-model/1"),
        (np.array(json.dumps({"format": "other/1"})), "format is not nn-lab-model/1"),
        (np.array([1.0, 2.0]), "no metadata"),
        (np.array(["a", "b"]), "no metadata"),
    ],
)
def test_load_rejects_bad_meta(meta, message):
    arrays = valid_arrays(trained())
    arrays["meta"] = meta
    with pytest.raises(ValueError, match=message):
        nn.Network.load(npz_bytes(**arrays))


def with_meta(arrays, **changes):
    meta = json.loads(str(arrays["meta"]))
    meta.update(changes)
    return {**arrays, "meta": np.array(json.dumps(meta))}


def test_load_rejects_wrong_shapes():
    arrays = valid_arrays(trained())
    arrays["w0"] = arrays["w0"].T.copy()  # (6, 4) instead of (4, 6): same size, wrong shape
    with pytest.raises(ValueError, match=r"layer 1 W must have shape \(4, 6\), got \(6, 4\)"):
        nn.Network.load(npz_bytes(**arrays))
    arrays = valid_arrays(trained())
    arrays["w5"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"layer 3 b must have shape \(3,\), got \(4,\)"):
        nn.Network.load(npz_bytes(**arrays))
    arrays = valid_arrays(trained())
    arrays["extra"] = arrays.pop("w5")
    with pytest.raises(ValueError, match="should hold 6 weight arrays"):
        nn.Network.load(npz_bytes(**arrays))


def test_load_rejects_non_numeric_or_non_finite_weights():
    arrays = valid_arrays(trained())
    arrays["w1"] = np.array(["x"] * 6)
    with pytest.raises(ValueError, match=r"layer 1 b must hold real numbers \(float or int\)"):
        nn.Network.load(npz_bytes(**arrays))
    arrays = valid_arrays(trained())
    arrays["w2"] = np.full((6, 5), np.nan)
    with pytest.raises(ValueError, match="layer 2 W must hold finite real numbers"):
        nn.Network.load(npz_bytes(**arrays))


def test_load_rejects_a_config_with_huge_layers_before_allocating():
    arrays = valid_arrays(trained())
    config = {**CONFIG, "layers": [4, 10**9, 10**9, 3]}
    with pytest.raises(ValueError, match="at most 10,000,000 can be loaded"):
        nn.Network.load(npz_bytes(**with_meta(arrays, config=config)))
    # Without a size bound the declared shapes still have to match the arrays' headers.
    with pytest.raises(ValueError, match=r"layer 1 W must have shape \(4, 1000000000\)"):
        nn.Network.load(npz_bytes(**with_meta(arrays, config=config)), max_params=None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"config": None}, "config must be a dict"),
        ({"config": {**CONFIG, "activation": "swish"}}, "unknown activation 'swish'"),
        ({"config": {**CONFIG, "layers": [4, 0, 5, 3]}}, "layer 1 must have a whole number"),
        ({"history": [{"epoch": 1}]}, "training history is malformed"),
        ({"history": "abc"}, "training history is malformed"),
        ({"history": 3}, "training history is malformed"),
    ],
)
def test_load_rejects_a_bad_config_or_history(change, message):
    arrays = valid_arrays(trained())
    with pytest.raises(ValueError, match=message):
        nn.Network.load(npz_bytes(**with_meta(arrays, **change)))


class Marker:
    """Unpickling this object writes a file: proof that pickled code ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("member", ["meta", "w0", "extra"])
def test_load_never_unpickles(tmp_path, member):
    marker = tmp_path / "unpickled.txt"
    payload = np.empty(1, dtype=object)
    payload[0] = Marker(marker)
    arrays = valid_arrays(trained())
    arrays[member] = payload
    path = tmp_path / "evil.npz"
    np.savez(path, allow_pickle=True, **arrays)
    with np.load(path, allow_pickle=True) as data:  # the trap works when pickle is allowed
        data[member]
    assert marker.exists()
    marker.unlink()
    with pytest.raises(ValueError, match="not a model file saved by this app"):
        nn.Network.load(path)
    with pytest.raises(ValueError, match="not a model file saved by this app"):
        nn.Network.load(io.BytesIO(path.read_bytes()))
    assert not marker.exists()
