"""nn.preprocess.Preprocessor: fitted on training rows, JSON round trip, refuses bad data."""

import io
import json

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

import nn
from nn.preprocess import Preprocessor


def wine_train():
    wine = nn.data.load_dataset("wine")
    return wine, wine.X[::2]


def test_standardization_matches_scikit_learn_and_inverts():
    wine, X = wine_train()
    pre = Preprocessor.fit(X, wine.feature_names, standardize=True)
    reference = StandardScaler().fit(X)
    np.testing.assert_allclose(pre.transform(wine.X), reference.transform(wine.X), atol=1e-12)
    np.testing.assert_allclose(pre.inverse(pre.transform(wine.X)), wine.X, rtol=1e-12)
    one = pre.transform(wine.X[3])
    assert one.shape == (13,)
    np.testing.assert_allclose(one, pre.transform(wine.X)[3])


def test_without_standardization_the_rows_pass_through_as_new_arrays():
    wine, X = wine_train()
    pre = Preprocessor.fit(X, wine.feature_names)
    out = pre.transform(X)
    np.testing.assert_array_equal(out, X)
    assert out is not X and not np.shares_memory(out, X)
    assert not pre.standardize and pre.n_features == 13


def test_a_constant_column_gets_scale_one():
    X = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    pre = Preprocessor.fit(X, ["a", "b"], standardize=True)
    assert pre.scale[1] == 1.0
    np.testing.assert_array_equal(pre.transform(X)[:, 1], 0.0)


@pytest.mark.parametrize("standardize", [False, True])
def test_json_round_trip_is_exact(standardize):
    wine, X = wine_train()
    pre = Preprocessor.fit(X, wine.feature_names, standardize=standardize)
    back = Preprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    assert back == pre
    np.testing.assert_array_equal(back.transform(wine.X), pre.transform(wine.X))


def test_equality_tells_fits_on_other_rows_apart():
    wine, X = wine_train()
    a = Preprocessor.fit(X, wine.feature_names, standardize=True)
    b = Preprocessor.fit(wine.X[1::2], wine.feature_names, standardize=True)
    c = Preprocessor.fit(X, wine.feature_names)
    assert a != b and a != c and a == Preprocessor.fit(X, wine.feature_names, standardize=True)


def valid():
    """A standardizing preprocessor as format 1 wrote it (models saved before categories)."""
    pre = Preprocessor.fit(np.eye(3), ["a", "b", "c"], standardize=True)
    return {
        "format": "nn-lab-preprocessor/1",
        "features": ["a", "b", "c"],
        "standardize": {"mean": pre.mean.tolist(), "scale": pre.scale.tolist()},
    }


def test_a_format_1_preprocessor_still_loads():
    back = Preprocessor.from_dict(valid())
    assert back == Preprocessor.fit(np.eye(3), ["a", "b", "c"], standardize=True)
    plain = Preprocessor.from_dict({**valid(), "standardize": None})
    assert not plain.standardize and plain.features == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "other/1"}, "not in the format nn-lab-preprocessor"),
        ({"features": "abc"}, "feature names must be a list of text"),
        ({"features": [1, 2, 3]}, "feature names must be a list of text"),
        ({"standardize": {"mean": [0, 0, 0]}}, "standardization is malformed"),
        ({"standardize": {"mean": [0, 0], "scale": [1, 1]}}, "one value per feature"),
        ({"standardize": {"mean": [0, 0, float("nan")], "scale": [1, 1, 1]}}, "finite numbers"),
        ({"standardize": {"mean": [0, 0, 0], "scale": [1, 0, 1]}}, "scales must be positive"),
        ({"standardize": {"mean": ["0", 0, 0], "scale": [1, 1, 1]}}, "finite numbers"),
        ({"standardize": {"mean": [True, 0, 0], "scale": [1, 1, 1]}}, "finite numbers"),
    ],
)
def test_from_dict_refuses_malformed_data(change, message):
    with pytest.raises(ValueError, match=message):
        Preprocessor.from_dict({**valid(), **change})


def test_wrong_row_width_is_a_clear_error():
    pre = Preprocessor.fit(np.eye(3), ["a", "b", "c"])
    with pytest.raises(ValueError, match="expected rows of 3 feature values"):
        pre.transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="must be numbers"):
        pre.transform([["x", "y", "z"]])


def test_the_preprocessor_travels_in_the_model_file_and_is_checked_there():
    wine, X = wine_train()
    net = nn.Network.from_config({"layers": [13, 4, 3]})
    net.preprocessor = Preprocessor.fit(X, wine.feature_names, standardize=True)
    buffer = io.BytesIO()
    net.save(buffer)
    loaded = nn.Network.load(io.BytesIO(buffer.getvalue()))
    assert loaded.preprocessor == net.preprocessor
    net.preprocessor = Preprocessor.fit(X[:, :5], wine.feature_names[:5])
    buffer = io.BytesIO()
    net.save(buffer)
    with pytest.raises(ValueError, match="preprocessing makes 5 inputs but the network takes 13"):
        nn.Network.load(io.BytesIO(buffer.getvalue()))


# ---- engineered inputs (2-D sets) ----


def plane_rows(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)) * [2.0, 0.5] + [1.0, -3.0]


@pytest.mark.parametrize("standardize", [False, True])
def test_engineered_inputs_are_playgrounds_features_of_the_raw_values(standardize):
    X, other = plane_rows(), plane_rows(seed=1)
    names = ["sin_x2", "x1_sq", "x1_x2", "sin_x1", "x2_sq"]  # any order: canonical order kept
    pre = Preprocessor.fit(X, ["u", "v"], standardize).with_engineered(X, names)
    assert pre.engineered == ("x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2")
    assert pre.n_inputs == 7
    assert pre.input_names() == ["u", "v", "u²", "v²", "u·v", "sin(u)", "sin(v)"]
    u, v = other[:, 0], other[:, 1]
    raw = np.column_stack([u * u, v * v, u * v, np.sin(u), np.sin(v)])
    Z = pre.transform(other)
    if standardize:  # with the training rows' statistics, never the new rows'
        train = np.column_stack(
            [X[:, 0] ** 2, X[:, 1] ** 2, X[:, 0] * X[:, 1], np.sin(X[:, 0]), np.sin(X[:, 1])]
        )
        scaler = StandardScaler().fit(train)
        np.testing.assert_allclose(Z[:, 2:], scaler.transform(raw), rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            Z[:, :2], StandardScaler().fit(X).transform(other), rtol=0, atol=1e-12
        )
        assert np.allclose(pre.transform(X).mean(axis=0), 0.0)
    else:
        np.testing.assert_allclose(Z, np.column_stack([other, raw]), rtol=0, atol=1e-12)
    np.testing.assert_allclose(pre.transform(other[3]), Z[3], rtol=0, atol=0)  # one row
    import pandas as pd

    table = pd.DataFrame(other, columns=["u", "v"])
    np.testing.assert_allclose(pre.transform(table), Z, rtol=0, atol=0)


def test_engineered_inputs_travel_in_json_and_in_the_model_file():
    X = plane_rows()
    pre = Preprocessor.fit(X, ["x1", "x2"], True).with_engineered(X, ["sin_x1", "sin_x2"])
    again = Preprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    assert again == pre and again.engineered == ("sin_x1", "sin_x2")
    np.testing.assert_array_equal(again.transform(X), pre.transform(X))
    net = nn.Network.from_config({"layers": [4, 3, 2], "seed": 1})
    net.preprocessor = pre
    buffer = io.BytesIO()
    net.save(buffer)
    loaded = nn.Network.load(io.BytesIO(buffer.getvalue()))
    assert loaded.preprocessor == pre
    np.testing.assert_array_equal(
        loaded.predict_proba(loaded.preprocessor.transform(X)),
        net.predict_proba(pre.transform(X)),
    )
    plain = Preprocessor.fit(X, ["x1", "x2"], True)
    assert "engineered" not in plain.to_dict()  # older files and readers see no change
    assert pre.with_engineered(X, []) == plain


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda X: Preprocessor.fit(np.c_[X, X[:, :1]], ["a", "b", "c"]), "exactly two"),
        (lambda X: Preprocessor.fit(X[:, :1], ["a"]), "exactly two"),
    ],
)
def test_engineered_inputs_need_two_numeric_features(make, message):
    X = plane_rows()
    with pytest.raises(ValueError, match=message):
        make(X).with_engineered(X, ["x1_sq"])


def test_unknown_or_malformed_engineered_inputs_are_refused():
    X = plane_rows()
    pre = Preprocessor.fit(X, ["x1", "x2"], True)
    with pytest.raises(ValueError, match="unknown engineered input 'cos_x1'"):
        pre.with_engineered(X, ["cos_x1"])
    data = pre.with_engineered(X, ["x1_sq"]).to_dict()
    for change, message in [
        ({"engineered": "x1_sq"}, "must be a list"),
        ({"engineered": ["tan"]}, "unknown engineered input"),
        ({"engineered_mean": ["a"]}, "list of numbers"),
        ({"engineered_mean": [1.0, 2.0]}, "must be 1 numbers"),
        ({"engineered_scale": [0.0]}, "above 0"),
        ({"engineered_scale": None}, "both a mean and a scale"),
    ]:
        with pytest.raises(ValueError, match=message):
            Preprocessor.from_dict({**data, **change})


def test_a_split_with_sin_inputs_lets_a_small_network_learn_two_spirals():
    """The lesson of the engineered inputs: on Playground's spiral a 2-8-2 network stays near
    chance on x1 and x2, and learns it once sin(x1) and sin(x2) are inputs too."""
    ds = nn.data.load_dataset("spirals", n_samples=400, noise=0.1, seed=0)
    scores = {}
    for engineered in ((), ("sin_x1", "sin_x2")):
        sp = nn.data.split(
            ds, test_size=0.2, val_size=0.0, stratify=True, standardize=True, engineered=engineered
        )
        assert sp.X_train.shape[1] == 2 + len(engineered)
        net = nn.Network.from_config(
            {
                "layers": [sp.X_train.shape[1], 8, 2],
                "activation": "tanh",
                "output_activation": "softmax",
                "loss": "cross_entropy",
                "init": "xavier",
                "seed": 0,
            }
        )
        net.fit(sp.X_train, sp.y_train, epochs=600, learning_rate=0.03, batch_size=16,
                optimizer="adam", shuffle=True, seed=0)  # fmt: skip
        scores[engineered] = net.evaluate(sp.X_test, sp.y_test)["accuracy"]
    assert scores[()] < 0.8
    assert scores[("sin_x1", "sin_x2")] >= 0.95
