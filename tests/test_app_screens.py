"""Screens that match the state: Predict refuses a bad value instead of showing an old answer,
the batch template round-trips, the Architecture page shows a change over the limit beside the
limit, and the Compare page offers a log scale and says when runs used different data."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

import nn
from dashboard import state
from dashboard.common import limits
from dashboard.compare import comparison
from dashboard.predict import results
from tests.test_advice import finish_on_train_page
from tests.test_app_pages import texts


def predict_page(app):
    at = finish_on_train_page(app(None), 10)
    return at.switch_page("pages/4_Predict.py").run()


def test_a_form_value_out_of_range_shows_no_prediction_beside_it(app):
    at = predict_page(app)
    assert [m.label for m in at.metric if m.label == "Predicted class"]
    field = at.number_input(key=f"predict.x.{at.session_state[state.DATA_VERSION]}.0")
    upper = results.feature_ranges(at.session_state[state.SPLIT]).iloc[0]["upper"]
    field.set_value(float(upper) * 10)
    at.button[0].click()  # the form's Predict button
    at.run()
    assert not at.exception
    assert not [m for m in at.metric if m.label == "Predicted class"]  # no stale answer
    assert any("No prediction for these values" in e.value for e in at.error)
    assert "outside" in at.error[0].value
    field = at.number_input(key=f"predict.x.{at.session_state[state.DATA_VERSION]}.0")
    field.set_value(float(upper) / 2)
    at.button[0].click()
    at.run()
    assert [m for m in at.metric if m.label == "Predicted class"]
    assert not at.error


def test_the_batch_template_lists_the_columns_and_predicts_back():
    ds = nn.data.load_dataset("iris")
    ds.feature_names = ["=HYPERLINK(1)", *ds.feature_names[1:]]  # a name a CSV must defuse
    split = nn.data.split(ds, seed=0, standardize=True)
    net = nn.Network.from_config({"layers": [4, 3]})
    net.preprocessor = split.preprocessor
    template = results.template_csv(split, ds)
    frame = pd.read_csv(io.StringIO(template))
    assert len(frame) == 1
    assert frame.columns[0] == "'=HYPERLINK(1)"  # written safely, still recognised
    medians = np.median(results.raw_rows(split, "train"), axis=0)
    np.testing.assert_allclose(frame.iloc[0].to_numpy(), medians, rtol=1e-6)
    predicted = results.batch_predict(net, frame, ds)
    assert predicted["predicted_class"].iloc[0] in [str(c) for c in ds.class_names]


def test_a_change_over_the_parameter_limit_shows_its_count_beside_the_limit(app):
    at = app("pages/2_Architecture.py")
    at.number_input(key="arch.w.nodes.0").set_value(limits.MAX_NODES).run()
    at.number_input(key="arch.w.nodes.1").set_value(limits.MAX_NODES).run()
    for _ in range(limits.MAX_HIDDEN_LAYERS - 2):
        at.button(key="arch.add").click().run()
    metric = at.metric[0]
    assert metric.label == "Parameters of the changed network"
    attempted = int(metric.value.replace(",", ""))
    assert attempted > limits.MAX_PARAMS
    assert f"limit {limits.MAX_PARAMS:,}" in str(metric.proto.delta)
    assert "the diagram shows the network in use" in texts(at)
    assert at.button(key="arch.add").disabled
    assert "hidden layers is this demo's maximum" in texts(at)


def test_the_compare_page_offers_a_log_scale_and_names_different_data(app):
    at = finish_on_train_page(app(None), 5)
    at.switch_page("pages/1_Data.py").run()
    at.selectbox(key="data.source").set_value("wine").run()
    finish_on_train_page(at, 5)
    at.switch_page("pages/6_Compare.py").run()
    assert "trained on different datasets (Iris, Wine)" in texts(at).replace("\\", "")
    at.toggle(key="compare.log").set_value(True).run()
    chart = next(c for c in at.get("plotly_chart") if "compare.curves" in c.proto.id)
    assert '"type":"log"' in chart.proto.spec.replace(" ", "")


def test_data_differences_speaks_only_when_the_data_differs():
    same = {"data": {"dataset": "Iris"}, "split": {"seed": 0, "standardize": True}}
    other_split = {"data": {"dataset": "Iris"}, "split": {"seed": 1, "standardize": True}}
    assert comparison.data_differences([same, same]) is None
    assert "different splits" in comparison.data_differences([same, other_split])
    fig = comparison.run_comparison_figure([("a", [])], "loss", log_y=True)
    assert fig.layout.yaxis.type == "log"
    fig = comparison.run_comparison_figure([("a", [])], "accuracy", log_y=True)
    assert fig.layout.yaxis.type != "log"
