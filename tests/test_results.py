"""dashboard.predict.results: a saved model carries its data facts, and a mismatch is refused."""

import io

import numpy as np
import pytest

import nn
from dashboard.common import limits
from dashboard.predict import results


def trained(dataset, split=None):
    net = nn.Network.from_config({"layers": [dataset.X.shape[1], 4, dataset.n_classes]})
    net.preprocessor = None if split is None else split.preprocessor
    return results.model_bytes(net, dataset)


def test_model_round_trip_keeps_its_data_facts():
    iris = nn.data.load_dataset("iris")
    net = results.load_model(trained(iris), iris, nn.data.split(iris))
    assert net.metadata["feature_names"] == iris.feature_names
    assert net.preprocessor == nn.data.split(iris).preprocessor


def test_other_features_with_the_same_count_are_refused():
    iris = nn.data.load_dataset("iris")
    renamed = nn.data.load_dataset("iris")
    renamed.feature_names = ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="other features"):
        results.load_model(trained(renamed), iris, nn.data.split(iris))


def legacy_model(dataset, standardized: bool) -> bytes:
    """A file saved before the preprocessing travelled with the model: only a flag."""
    net = nn.Network.from_config({"layers": [dataset.X.shape[1], 4, dataset.n_classes]})
    net.metadata = {
        "feature_names": list(dataset.feature_names),
        "class_names": list(dataset.class_names),
        "standardized": standardized,
    }
    buffer = io.BytesIO()
    net.save(buffer)
    return buffer.getvalue()


def test_an_old_file_without_its_preprocessing_needs_the_same_standardize_setting():
    iris = nn.data.load_dataset("iris")
    raw, std = nn.data.split(iris), nn.data.split(iris, standardize=True)
    with pytest.raises(ValueError, match="Standardize on"):
        results.load_model(legacy_model(iris, True), iris, raw)
    with pytest.raises(ValueError, match="Standardize off"):
        results.load_model(legacy_model(iris, False), iris, std)
    net = results.load_model(legacy_model(iris, True), iris, std)
    assert net.preprocessor == std.preprocessor  # it takes the session's, as before


def test_a_model_predicts_as_saved_in_a_session_with_another_split():
    """The wine case of issue 9: standardized on one split, uploaded where the split differs."""
    wine = nn.data.load_dataset("wine")
    mine = nn.data.split(wine, seed=0, standardize=True)
    net = nn.Network.from_config({"layers": [13, 8, 3], "output_activation": "softmax",
                                  "loss": "cross_entropy", "seed": 1})  # fmt: skip
    net.preprocessor = mine.preprocessor
    net.fit(mine.X_train, mine.y_train, epochs=30, learning_rate=0.05, batch_size=8)
    before = net.predict_proba(net.preprocessor.transform(wine.X))
    theirs = nn.data.split(wine, seed=7, standardize=True)
    assert theirs.preprocessor != mine.preprocessor
    loaded = results.load_model(results.model_bytes(net, wine), wine, theirs)
    np.testing.assert_array_equal(
        loaded.predict_proba(loaded.preprocessor.transform(wine.X)), before
    )
    for i in (0, 60, 177):  # one row at a time, as the Predict form asks
        np.testing.assert_array_equal(
            results.predict_one(loaded, wine, wine.X[i]), results.predict_one(net, wine, wine.X[i])
        )
    batch = results.batch_predict(loaded, wine.frame(), wine)
    np.testing.assert_array_equal(
        batch["predicted_class"], np.asarray(wine.class_names)[before.argmax(1)]
    )
    # Its test report reads the other session's split through the model's own preprocessing.
    report = results.test_report(loaded, theirs, wine)
    rows = theirs.preprocessor.inverse(theirs.X_test)
    expected = net.predict(net.preprocessor.transform(rows))
    assert report["n_correct"] == int(np.sum(expected == theirs.y_test))
    # With the session's preprocessing instead, some rows would be predicted differently.
    wrong = net.predict_proba(theirs.X_test)
    assert not np.allclose(wrong, net.predict_proba(net.preprocessor.transform(rows)))


def test_a_one_output_model_is_refused_for_a_two_class_dataset():
    iris = nn.data.load_dataset("iris")
    two = nn.data.load_dataset("iris")
    keep = two.y < 2
    two.X, two.y, two.class_names = two.X[keep], two.y[keep], two.class_names[:2]
    one_output = nn.Network.from_config({"layers": [4, 5, 1]})
    with pytest.raises(ValueError, match="1 output node but the current dataset has 2 classes"):
        results.load_model(results.model_bytes(one_output, two), two, nn.data.split(two))
    two_outputs = nn.Network.from_config({"layers": [4, 5, 2]})
    assert (
        results.load_model(results.model_bytes(two_outputs, two), two, nn.data.split(two)).n_outputs
        == 2
    )
    with pytest.raises(ValueError, match="2 output nodes but the current dataset has 3 classes"):
        results.load_model(results.model_bytes(two_outputs, two), iris, nn.data.split(iris))


def test_the_demo_parameter_limit_is_enforced_by_the_loader():
    iris = nn.data.load_dataset("iris")
    big = nn.Network.from_config({"layers": [4, 256, 256, 256, 256, 3]})  # 199,427 params
    assert big.n_params <= limits.MAX_PARAMS
    assert (
        results.load_model(results.model_bytes(big, iris), iris, nn.data.split(iris)).n_params
        == big.n_params
    )
    too_big = nn.Network.from_config({"layers": [4, 256, 256, 256, 256, 256, 3]})
    assert too_big.n_params > limits.MAX_PARAMS
    with pytest.raises(ValueError, match=f"at most {limits.MAX_PARAMS:,} can be loaded here"):
        results.load_model(results.model_bytes(too_big), iris, nn.data.split(iris))


def test_a_model_whose_preprocessing_names_other_columns_is_refused():
    iris = nn.data.load_dataset("iris")
    net = nn.Network.from_config({"layers": [4, 4, 3]})
    renamed = nn.data.load_dataset("iris")
    renamed.feature_names = ["a", "b", "c", "d"]
    net.preprocessor = nn.data.split(renamed).preprocessor
    data = results.model_bytes(net, iris)  # its metadata names iris's columns, its inputs not
    with pytest.raises(ValueError, match="other features"):
        results.load_model(data, iris, nn.data.split(iris))
