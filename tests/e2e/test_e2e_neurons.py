"""Two spirals in a real browser: sin(x1) and sin(x2) as extra inputs let one hidden layer of 8
neurons learn them, while the Inside page draws every neuron's map."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

# The link a visitor shares: Two spirals with sin inputs, one hidden layer of 8 tanh neurons.
SPIRALS = "/Inside?data=spirals&inputs=sin_x1,sin_x2&hidden=8&act=tanh&epochs=300"


def test_spirals_with_sin_inputs_train_a_tiny_network_while_the_maps_are_drawn(new_app, screenshot):
    app = new_app(SPIRALS)
    app.expect_sidebar_text("Two spirals")
    app.expect_sidebar_text("4 → 8 → 2")  # x1, x2, sin(x1), sin(x2)
    app.tab("Neurons")
    before = app.traces("inside.neurons")
    assert [t["type"] for t in before] == ["heatmap"] * 10  # 8 hidden neurons, 2 outputs
    app.start_training()
    app.wait_until(
        lambda: "finished: epoch 300 of 300" in app.main_text(), timeout=240, what="training"
    )
    app.settle()
    after = app.traces("inside.neurons")
    assert [t["type"] for t in after] == ["heatmap"] * 10
    assert after[0]["z"] != before[0]["z"]  # the maps followed the training
    app.assert_no_exception()
    app.page.get_by_text("Neurons", exact=True).first.scroll_into_view_if_needed()
    screenshot(app, "neuron-maps")
    app.nav("Predict")
    app.tab("Test set")
    accuracy = float(app.metric("Test accuracy"))
    assert accuracy >= 0.95, accuracy
