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
