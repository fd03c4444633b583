"""dashboard.inside and dashboard.compare figures: traces and values, not pixels; settings diff."""

import re

import numpy as np
import pandas as pd
import pytest
from plotly.colors import hex_to_rgb
from sklearn.datasets import load_iris

import nn
from dashboard.common.charts import class_color
from dashboard.compare import baselines, comparison
from dashboard.inside import backprop, figures
from nn import inspect as ins


def grid(k=3, res=10, seed=0):
    rng = np.random.default_rng(seed)
    xs, ys = np.linspace(-1, 1, res), np.linspace(0, 2, res + 2)
    probs = rng.dirichlet(np.ones(k), size=(res + 2, res))
    return xs, ys, probs


# ---- decision surface ----


def test_soft_colors_mix_the_class_colours_by_probability():
    sure = figures.soft_colors(np.array([[[1.0, 0.0], [0.0, 1.0]]]))
    for c in (0, 1):
        expected = 255 + (np.array(hex_to_rgb(class_color(c))) - 255) * 0.75
        np.testing.assert_array_equal(sure[0, c], np.round(expected))
    unsure = figures.soft_colors(np.array([[[0.5, 0.5]]]))[0, 0].astype(float)
    mix = (np.array(hex_to_rgb(class_color(0))) + np.array(hex_to_rgb(class_color(1)))) / 2
    np.testing.assert_array_equal(unsure, np.round(255 + (mix - 255) * 0.15))
    assert unsure.min() > sure.astype(float).min()  # paler where unsure
    nothing = figures.soft_colors(np.array([[[0.0, -2.0, 0.0]]]))  # a linear output's scores
    np.testing.assert_array_equal(nothing[0, 0], [255, 255, 255])
    assert sure.dtype == np.uint8 and sure.shape == (1, 2, 3)


def test_soft_surface_is_an_image_placed_on_the_grid():
    xs, ys, probs = grid()
    fig = figures.decision_surface_figure(xs, ys, probs, ["a", "b", "c"])
    assert len(fig.data) == 1
    image = fig.data[0]
    assert image.type == "image"
    assert np.asarray(image.z).shape == (12, 10, 3)
    np.testing.assert_array_equal(np.asarray(image.z), figures.soft_colors(probs))
    assert image.x0 == pytest.approx(-1) and image.dx == pytest.approx(2 / 9)
    assert image.y0 == pytest.approx(0) and image.dy == pytest.approx(2 / 11)
    # Rows go up the y axis: the axis is not reversed, and it spans the pixels exactly.
    assert fig.layout.yaxis.range == pytest.approx((-1 / 11, 2 + 1 / 11))
    assert fig.layout.yaxis.autorange is False


def test_hard_surface_paints_the_predicted_class():
    xs, ys, probs = grid()
    fig = figures.decision_surface_figure(xs, ys, probs, ["a", "b", "c"], mode="hard")
    heat = fig.data[0]
    assert heat.type == "heatmap"
    np.testing.assert_array_equal(np.asarray(heat.z), probs.argmax(axis=2))
    assert (heat.zmin, heat.zmax) == (-0.5, 2.5)
    assert np.asarray(heat.text)[3, 4] == ["a", "b", "c"][probs[3, 4].argmax()]
    assert len(heat.colorscale) == 6
    assert heat.colorscale[2][1] == heat.colorscale[3][1]  # class 1's band


def test_surface_points_per_class_and_part_and_the_sample():
    xs, ys, probs = grid()
    X = np.random.default_rng(1).normal(size=(30, 2))
    y = np.array([0] * 10 + [2] * 20)
    fig = figures.decision_surface_figure(
        xs, ys, probs, ["a", "b", "c"], train=(X, y), test=(X[:5], y[:5]), sample=(0.3, 1.5)
    )
    kinds = [(t.type, t.name) for t in fig.data]
    assert kinds == [
        ("image", "surface"),
        ("scattergl", "a (training)"),
        ("scattergl", "c (training)"),
        ("scattergl", "a (test)"),
        ("scatter", "your sample"),
    ]
    np.testing.assert_array_equal(fig.data[2].x, X[10:, 0])
    np.testing.assert_array_equal(fig.data[2].y, X[10:, 1])
    assert fig.data[1].marker.color == class_color(0)
    assert fig.data[2].marker.color == class_color(2)
    assert fig.data[3].marker.symbol == "diamond"
    assert (fig.data[4].x[0], fig.data[4].y[0]) == (0.3, 1.5)


def test_surface_thins_many_points_and_escapes_names():
    xs, ys, probs = grid(k=2)
    X = np.random.default_rng(2).normal(size=(5000, 2))
    y = np.zeros(5000, dtype=int)
    fig = figures.decision_surface_figure(
        xs, ys, probs, ["<b>bold</b>", "x"], train=(X, y), max_points=200, axis_names=("<i>", "y")
    )
    assert len(fig.data[1].x) == 200
    assert fig.data[1].name == "&lt;b&gt;bold&lt;/b&gt; (training)"
    assert fig.layout.xaxis.title.text == "&lt;i&gt;"


def test_surface_rejects_bad_input():
    xs, ys, probs = grid()
    with pytest.raises(ValueError, match="mode"):
        figures.decision_surface_figure(xs, ys, probs, ["a", "b", "c"], mode="fuzzy")
    with pytest.raises(ValueError, match="probs must be"):
        figures.decision_surface_figure(xs, ys, probs[:, :4], ["a", "b", "c"])


def test_surface_from_a_real_network():
    iris = load_iris()
    net = nn.Network.from_config(nn.presets.ARTICLE["network"])
    net.fit(iris.data, iris.target, epochs=5)
    xs, ys, probs = ins.decision_grid(net, iris.data, resolution=30, features=(2, 3))
    fig = figures.decision_surface_figure(
        xs,
        ys,
        probs,
        list(iris.target_names),
        train=(iris.data[:, 2:], iris.target),
        mode="hard",
        axis_names=("petal length", "petal width"),
    )
    assert [t.type for t in fig.data] == ["heatmap", "scattergl", "scattergl", "scattergl"]
    assert sum(len(t.x) for t in fig.data[1:]) == 150


# ---- living network diagram ----


def small_weights():
    W1 = np.array([[0.5, -1.0, 0.1], [-0.2, 2.0, -0.05]])
    b1 = np.array([0.3, -0.4, 0.0])
    W2 = np.array([[1.5, -0.7], [0.2, 0.0], [-2.0, 0.9]])
    b2 = np.array([-1.0, 0.25])
    return [W1, b1, W2, b2]


def test_diagram_draws_every_edge_of_a_small_network():
    weights = small_weights()
    fig = figures.network_weights_figure(
        weights, feature_names=["f1", "f2"], class_names=["n", "y"]
    )
    assert fig.layout.meta == {"edges_drawn": 12, "edges_total": 12}
    lines = [t for t in fig.data if t.mode == "lines"]
    positive = [t for t in lines if t.line.color == figures.POSITIVE]
    negative = [t for t in lines if t.line.color == figures.NEGATIVE]
    assert len(positive) + len(negative) == len(lines)
    # Each edge is one segment [x0, x1, None].
    n_pos = sum(len(t.x) // 3 for t in positive)
    n_neg = sum(len(t.x) // 3 for t in negative)
    all_w = np.concatenate([weights[0].ravel(), weights[2].ravel()])
    assert (n_pos, n_neg) == (int(np.sum(all_w >= 0)), int(np.sum(all_w < 0)))
    widest = max(lines, key=lambda t: t.line.width)
    assert widest.line.width == figures.EDGE_WIDTHS[-1]  # |w| = 2.0 is the largest
    assert sorted(t.name for t in lines if t.showlegend) == ["negative weight", "positive weight"]


def test_diagram_hover_shows_weights_and_biases():
    weights = small_weights()
    fig = figures.network_weights_figure(
        weights, feature_names=["f1", "<f2>"], class_names=["n", "y"]
    )
    mids = next(t for t in fig.data if t.name == "weights")
    assert len(mids.hovertext) == 12
    assert "input &lt;f2&gt; → layer 1 node 2<br>w = 2" in mids.hovertext
    assert "layer 1 node 3 → output y<br>w = 0.9" in mids.hovertext
    nodes = next(t for t in fig.data if t.name == "nodes")
    np.testing.assert_array_equal(nodes.marker.color, [0.3, -0.4, 0.0, -1.0, 0.25])
    assert nodes.marker.cmin == -1.0 and nodes.marker.cmax == 1.0
    assert nodes.hovertext[3] == "output n<br>bias = -1"
    inputs = next(t for t in fig.data if t.name == "inputs")
    assert list(inputs.hovertext) == ["input f1", "input &lt;f2&gt;"]


def test_diagram_draws_only_the_strongest_edges_of_big_layers():
    net = nn.Network.from_config(
        {"layers": [64, 128, 10], "activation": "relu", "output_activation": "softmax",
         "loss": "cross_entropy", "init": "he"}
    )  # fmt: skip
    weights = net.get_weights()
    fig = figures.network_weights_figure(weights, max_edges=300)
    assert fig.layout.meta == {"edges_drawn": 600, "edges_total": 64 * 128 + 128 * 10}
    notes = [a.text for a in fig.layout.annotations if "strongest" in a.text]
    assert notes == ["300 strongest of 8,192", "300 strongest of 1,280"]
    rows, cols = figures.strongest_edges(weights[0], 300)
    drawn = np.zeros(weights[0].shape, dtype=bool)
    drawn[rows, cols] = True
    assert drawn.sum() == 300
    assert np.abs(weights[0][drawn]).min() >= np.abs(weights[0][~drawn]).max()
    mids = next(t for t in fig.data if t.name == "weights")
    assert len(mids.x) == 600


def test_diagram_rejects_a_bad_weight_list():
    with pytest.raises(ValueError, match="W1, b1"):
        figures.network_weights_figure([np.zeros((2, 2))])


# ---- run comparison ----


def records(losses, val=True):
    return [
        nn.EpochRecord(i + 1, v, 1 - v, v + 0.1 if val else None, 0.9 - v if val else None, 0.1, 0)
        for i, v in enumerate(losses)
    ]


def test_run_comparison_overlays_runs():
    runs = [("lr 0.1", records([0.9, 0.5, 0.3])), ("lr 1", records([0.8, 0.7], val=False))]
    fig = comparison.run_comparison_figure(runs)
    assert [t.name for t in fig.data] == [
        "lr 0.1 (training)",
        "lr 0.1 (validation)",
        "lr 1 (training)",
    ]
    assert list(fig.data[0].y) == [0.9, 0.5, 0.3]
    assert list(fig.data[1].y) == pytest.approx([1.0, 0.6, 0.4])
    assert fig.data[0].line.color == fig.data[1].line.color != fig.data[2].line.color
    assert fig.data[1].line.dash == "dash"
    acc = comparison.run_comparison_figure(
        [("a", [r.as_dict() for r in records([0.9, 0.5])])], metric="accuracy"
    )
    assert list(acc.data[0].y) == pytest.approx([0.1, 0.5])
    with pytest.raises(ValueError, match="metric"):
        comparison.run_comparison_figure(runs, metric="f1")


def test_seed_summary_and_band():
    runs = [records([1.0, 0.5, 0.2]), records([0.8, 0.3]), records([0.6, 0.4, 0.1])]
    summary = comparison.seed_summary(runs, "train_loss")
    assert summary["epoch"].tolist() == [1, 2, 3]
    assert summary["mean"].tolist() == pytest.approx([0.8, 0.4, 0.15])
    assert summary["min"].tolist() == pytest.approx([0.6, 0.3, 0.1])
    assert summary["max"].tolist() == pytest.approx([1.0, 0.5, 0.2])
    assert summary["runs"].tolist() == [3, 3, 2]
    fig = comparison.seed_band_figure(runs)
    assert len(fig.data) == 6
    assert fig.data[1].fill == "tonexty"
    assert list(fig.data[2].y) == pytest.approx([0.8, 0.4, 0.15])
    assert list(fig.data[5].y) == pytest.approx([0.9, 0.5, 0.25])
    assert len(comparison.seed_band_figure([records([0.5], val=False)]).data) == 3


# ---- settings diff ----


def test_settings_table_marks_differing_columns():
    a = {"network": {"layers": [4, 5, 3], "activation": "sigmoid"}, "training": {"lr": 0.15}}
    b = {"network": {"layers": [4, 8, 3], "activation": "sigmoid"}, "training": {"lr": 0.15}}
    c = {
        "network": {"layers": [4, 5, 3], "activation": "sigmoid"},
        "training": {"lr": 0.15, "l2": 0.1},
    }
    table, mask = comparison.settings_table(
        [a, b, c], names=["A", "B", "C"], metrics=[{"test accuracy": 0.9}] * 3
    )
    assert list(table.index) == ["A", "B", "C"]
    assert table.loc["B", "network.layers"] == "[4, 8, 3]"
    assert mask.to_dict() == {
        "network.layers": True,
        "network.activation": False,
        "training.lr": False,
        "training.l2": True,
        "test accuracy": False,
    }
    assert pd.isna(table.loc["A", "training.l2"]) and table.loc["C", "training.l2"] == 0.1
    html = comparison.highlight_differences(table, mask).to_html()
    selector = html[: html.index("background-color: #fff3b0")]
    shaded = set(re.findall(r"row(\d+)_col(\d+)", selector))  # the one rule so far
    assert shaded == {(r, c) for r in "012" for c in "03"}  # layers and l2, every run


def test_settings_table_of_identical_runs_marks_nothing():
    s = nn.presets.ARTICLE
    table, mask = comparison.settings_table([s, s])
    assert list(table.index) == ["run 1", "run 2"] and not mask.any()
    assert "background-color" not in comparison.highlight_differences(table, mask).to_html()
    with pytest.raises(ValueError, match="one name per run"):
        comparison.settings_table([s, s], names=["x"])


# ---- reference models ----


def test_sklearn_baselines_on_iris():
    iris = load_iris()
    parts = nn.data.split((iris.data, iris.target), seed=0, stratify=True, standardize=True)
    scores = baselines.sklearn_baselines(
        parts.X_train,
        parts.y_train,
        parts.X_test,
        parts.y_test,
        nn.presets.MODERN["network"],
        nn.presets.MODERN["training"],
    )
    assert set(scores) == {"MLPClassifier", "LogisticRegression"}
    assert scores["LogisticRegression"] >= 0.85
    assert scores["MLPClassifier"] >= 0.85


# ---- backprop formulas ----


def test_tex_vector_and_matrix_cut_long_arrays():
    assert backprop.tex_vector([1.0, -0.5]) == r"\begin{bmatrix}1 & -0.5\end{bmatrix}"
    long = backprop.tex_vector(np.arange(9.0), max_entries=3)
    assert long == r"\begin{bmatrix}0 & 1 & 2 & \cdots\end{bmatrix}"
    assert backprop.tex_vector([1.234e-7]) == r"\begin{bmatrix}1.23\times 10^{-7}\end{bmatrix}"
    matrix = backprop.tex_matrix(np.arange(12.0).reshape(4, 3), max_entries=2)
    assert matrix == (
        r"\begin{bmatrix}0 & 1 & \cdots \\ 3 & 4 & \cdots \\ \vdots & \vdots & \ddots"
        r"\end{bmatrix}"
    )


def test_backprop_steps_write_out_the_trace():
    iris = load_iris()
    net = nn.Network.from_config(nn.presets.ARTICLE["network"])
    trace = ins.backprop_trace(net, iris.data[0], iris.target[0], learning_rate=0.15)
    steps = backprop.backprop_steps(trace)
    titles = [s["title"] for s in steps]
    assert titles == [
        "Forward, layer 1",
        "Forward, layer 2",
        "Forward, layer 3",
        "Loss",
        "Delta, layer 3",
        "Delta, layer 2",
        "Delta, layer 1",
        "Gradients and update, layer 1",
        "Gradients and update, layer 2",
        "Gradients and update, layer 3",
    ]
    assert all(s["latex"].startswith(r"\begin{aligned}") for s in steps)
    assert backprop.tex_vector(trace.layers[0].z) in steps[0]["latex"]
    assert r"\sigma" in steps[0]["latex"]
    assert f"= {trace.loss:.3g}" in steps[3]["latex"] and r"\tfrac{1}{2}" in steps[3]["latex"]
    assert backprop.tex_vector(trace.layers[2].slope) in steps[4]["latex"]
    assert backprop.tex_vector(trace.layers[0].delta) in steps[6]["latex"]
    assert backprop.tex_matrix(trace.layers[0].W_new) in steps[7]["latex"]
    assert r"- 0.15\," in steps[7]["latex"] and r"\lambda" not in steps[7]["latex"]


def test_backprop_steps_fused_output_and_l2():
    iris = load_iris()
    net = nn.Network.from_config(nn.presets.MODERN["network"])
    trace = ins.backprop_trace(net, iris.data[5], iris.target[5], learning_rate=0.01, l2=0.1)
    steps = backprop.backprop_steps(trace)
    assert len(steps) == 3 * 3 + 1
    assert r"\delta^{(3)} &= a^{(3)} - y" in steps[4]["latex"]
    assert r"\log a_k" in steps[3]["latex"] and r"\lambda" in steps[3]["latex"]
    assert r"\mathrm{ReLU}" in steps[0]["latex"] and r"\mathrm{softmax}" in steps[2]["latex"]
    assert r"+ \lambda W^{(1)}" in steps[7]["latex"]


def test_sklearn_baselines_without_hidden_layers():
    iris = load_iris()
    parts = nn.data.split((iris.data, iris.target), seed=1, standardize=True)
    config = {**nn.presets.MODERN["network"], "layers": [4, 3]}
    training = {**nn.presets.MODERN["training"], "epochs": 200, "learning_rate": 0.05}
    scores = baselines.sklearn_baselines(
        parts.X_train, parts.y_train, parts.X_test, parts.y_test, config, training
    )
    assert scores["MLPClassifier"] >= 0.8
