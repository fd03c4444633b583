"""dashboard.results: a saved model carries its data facts, and a mismatch is refused."""

import pytest

import nn
from dashboard import limits, results


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


def test_a_one_output_model_is_refused_for_a_two_class_dataset():
    iris = nn.data.load_dataset("iris")
    two = nn.data.load_dataset("iris")
    keep = two.y < 2
    two.X, two.y, two.class_names = two.X[keep], two.y[keep], two.class_names[:2]
    one_output = nn.Network.from_config({"layers": [4, 5, 1]})
    with pytest.raises(ValueError, match="1 output node but the current dataset has 2 classes"):
        results.load_model(results.model_bytes(one_output, two), two, None)
    two_outputs = nn.Network.from_config({"layers": [4, 5, 2]})
    assert results.load_model(results.model_bytes(two_outputs, two), two, None).n_outputs == 2
    with pytest.raises(ValueError, match="2 output nodes but the current dataset has 3 classes"):
        results.load_model(results.model_bytes(two_outputs, two), iris, None)


def test_the_demo_parameter_limit_is_enforced_by_the_loader():
    iris = nn.data.load_dataset("iris")
    big = nn.Network.from_config({"layers": [4, 256, 256, 256, 256, 3]})  # 199,427 params
    assert big.n_params <= limits.MAX_PARAMS
    assert results.load_model(results.model_bytes(big, iris), iris, None).n_params == big.n_params
    too_big = nn.Network.from_config({"layers": [4, 256, 256, 256, 256, 256, 3]})
    assert too_big.n_params > limits.MAX_PARAMS
    with pytest.raises(ValueError, match=f"at most {limits.MAX_PARAMS:,} can be loaded here"):
        results.load_model(results.model_bytes(too_big), iris, None)
