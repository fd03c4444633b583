"""dashboard.results: a saved model carries its data facts, and a mismatch is refused."""

import pytest

import nn
from dashboard import results


def trained(dataset, scaler=None):
    net = nn.Network.from_config({"layers": [dataset.X.shape[1], 4, dataset.n_classes]})
    return results.model_bytes(net, dataset, scaler)


def test_model_round_trip_keeps_its_data_facts():
    iris = nn.data.load_dataset("iris")
    net = results.load_model(trained(iris), iris, None)
    assert net.metadata["feature_names"] == iris.feature_names
    assert net.metadata["standardized"] is False


def test_other_features_with_the_same_count_are_refused():
    iris = nn.data.load_dataset("iris")
    renamed = nn.data.load_dataset("iris")
    renamed.feature_names = ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="other features"):
        results.load_model(trained(renamed), iris, None)


def test_standardize_mismatch_is_refused_with_what_to_do():
    iris = nn.data.load_dataset("iris")
    scaler = nn.data.split(iris, standardize=True).scaler
    with pytest.raises(ValueError, match="Standardize on"):
        results.load_model(trained(iris, scaler), iris, None)
    with pytest.raises(ValueError, match="Standardize off"):
        results.load_model(trained(iris), iris, scaler)
    assert results.load_model(trained(iris, scaler), iris, scaler).n_inputs == 4
