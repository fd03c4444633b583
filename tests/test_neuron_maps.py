"""Per-neuron maps and distributions: nn.inspect.neuron_grid / neuron_values against the engine's
own forward pass, and the figures drawn from them (dashboard.inside.figures)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import nn
import nn.inspect as ins
from dashboard.inside import figures


def make_net(layers, hidden="tanh", output="softmax", loss="cross_entropy", seed=1, **kw):
    config = {
        "layers": layers,
        "activation": hidden,
        "output_activation": output,
        "loss": loss,
        "seed": seed,
        **kw,
    }
    return nn.Network.from_config(config)


@pytest.fixture(scope="module")
def moons():
    """A 2-D synthetic set and a network trained on it for a few epochs."""
    split = nn.data.split(nn.data.load_dataset("moons"), seed=0, standardize=True)
    net = make_net([2, 6, 5, 2], init="xavier")
    net.fit(split.X_train, split.y_train, epochs=20, learning_rate=0.1)
    return split, net


@pytest.fixture(scope="module")
def iris():
    """A table with four features, standardized, and a network trained on it."""
    dataset = nn.data.load_dataset("iris")
    split = nn.data.split(dataset, seed=0, standardize=True)
    net = make_net([4, 7, 3], hidden="sigmoid")
    net.fit(split.X_train, split.y_train, epochs=20, learning_rate=0.3)
    return split, net


def forward_on_grid(net, xs, ys, fixed=None, features=(0, 1), transform=None):
    """The engine's forward pass at every grid point, computed here row by row: per layer
    (len(ys), len(xs), n_neurons)."""
    f0, f1 = features
    rows = []
    for y in ys:
        for x in xs:
            row = np.array([x, y], dtype=float) if fixed is None else np.array(fixed, float)
            row[f0], row[f1] = x, y
            rows.append(row)
    rows = np.asarray(rows)
    if transform is not None:
        rows = transform(rows)
    return [v.a.reshape(len(ys), len(xs), -1) for v in net.forward(rows)]


# ---- the engine ----


def test_maps_of_a_2d_set_are_the_forward_activations_at_the_grid_points(moons):
    split, net = moons
    maps = ins.neuron_grid(net, split.X_train, resolution=17, margin=0.3)
    # hidden layers, then the output layer: one map per neuron
    assert maps.sizes == [6, 5, 2]
    assert maps.activations == ["tanh", "tanh", "softmax"]
    assert maps.features == (0, 1)
    assert maps.xs.shape == maps.ys.shape == (17,)
    assert [m.shape for m in maps.layers] == [(17, 17, 6), (17, 17, 5), (17, 17, 2)]
    pad = 0.3 * split.X_train.std(axis=0)
    low, high = split.X_train.min(axis=0) - pad, split.X_train.max(axis=0) + pad
    np.testing.assert_allclose(
        [maps.xs[0], maps.xs[-1], maps.ys[0], maps.ys[-1]], [low[0], high[0], low[1], high[1]]
    )
    expected = forward_on_grid(net, maps.xs, maps.ys)
    for got, want in zip(maps.layers, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    # the output layer's maps are the network's predictions at those points
    i, j = 4, 11
    np.testing.assert_allclose(
        maps.layers[-1][i, j], net.predict_proba([[maps.xs[j], maps.ys[i]]])[0], atol=1e-12
    )
    # the hidden maps differ from neuron to neuron: each map is its own neuron's
    assert np.abs(np.diff(maps.layers[0], axis=2)).max() > 1e-3


def test_maps_of_a_table_hold_the_other_features_at_fixed_values(iris):
    split, net = iris
    raw = split.raw_train
    fixed = np.array([6.1, 2.8, 4.7, 1.3])
    transform = split.preprocessor.transform  # raw rows -> the standardized inputs
    maps = ins.neuron_grid(
        net, raw, resolution=13, fixed=fixed, features=(3, 1), transform=transform
    )
    assert maps.features == (3, 1) and maps.sizes == [7, 3]
    expected = forward_on_grid(net, maps.xs, maps.ys, fixed, (3, 1), transform)
    for got, want in zip(maps.layers, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    # the grid spans the plotted raw features (x: feature 3, y: feature 1)
    assert maps.xs[0] < raw[:, 3].min() and maps.xs[-1] > raw[:, 3].max()
    assert maps.ys[0] < raw[:, 1].min() and maps.ys[-1] > raw[:, 1].max()
    # the held features matter: other fixed values give other maps
    other = ins.neuron_grid(
        net,
        raw,
        resolution=13,
        fixed=fixed + np.array([1.0, 0, -2.0, 0]),
        features=(3, 1),
        transform=transform,
    )
    assert np.abs(other.layers[0] - maps.layers[0]).max() > 1e-3


def test_maps_default_grid_and_repr():
    net = make_net([2, 3, 2])
    X = np.random.default_rng(0).normal(size=(30, 2))
    maps = ins.neuron_grid(net, X)
    side = ins.NEURON_RESOLUTION
    assert [m.shape for m in maps.layers] == [(side, side, 3), (side, side, 2)]
    assert repr(maps) == (
        f"NeuronMaps({side}x{side} grid over features (0, 1), neurons per layer [3, 2])"
    )
    values = ins.neuron_values(net, X)
    assert repr(values) == "NeuronValues(30 rows, neurons per layer [3, 2])"


def test_maps_of_a_float32_network_are_float64_and_match_its_forward_pass():
    net = make_net([2, 4, 1], output="sigmoid", loss="squared_error", dtype="float32")
    X = np.random.default_rng(2).normal(size=(20, 2))
    maps = ins.neuron_grid(net, X, resolution=5)
    assert all(m.dtype == np.float64 for m in maps.layers)
    expected = forward_on_grid(net, maps.xs, maps.ys)
    for got, want in zip(maps.layers, expected, strict=True):
        np.testing.assert_array_equal(got, want.astype(np.float64))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resolution": 1}, "resolution"),
        ({"resolution": 2.5}, "resolution"),
        ({"features": (0, 0)}, "features"),
        ({"features": (0, 4)}, "features"),
        ({"margin": -1}, "margin"),
    ],
)
def test_neuron_grid_rejects_bad_arguments(kwargs, message):
    net = make_net([2, 3, 2])
    with pytest.raises(ValueError, match=message):
        ins.neuron_grid(net, np.zeros((4, 2)) + np.arange(4)[:, None], **kwargs)


def test_distribution_values_are_the_forward_activations_on_the_training_rows(iris):
    split, net = iris
    values = ins.neuron_values(net, split.X_train)
    passed = net.forward(split.X_train)
    assert values.sizes == [7, 3] and values.activations == ["sigmoid", "softmax"]
    assert values.output
    for got, want in zip(values.layers, passed, strict=True):
        np.testing.assert_array_equal(got, want.a)
    hidden = ins.neuron_values(net, split.X_train, output=False)
    assert hidden.sizes == [7] and not hidden.output
    np.testing.assert_array_equal(hidden.layers[0], passed[0].a)
    with pytest.raises(ValueError, match="features"):
        ins.neuron_values(net, split.X_train[:, :2])


# ---- the figures ----


def heatmaps(fig):
    return [t for t in fig.data if t.type == "heatmap"]


def coloraxis(fig, name):
    return fig.layout[name]


def domain(fig, trace, axis: str) -> tuple[float, float]:
    """The paper-space domain of a trace's x or y axis."""
    ref = getattr(trace, axis + "axis")
    return tuple(fig.layout[f"{axis}axis{ref[1:]}"].domain)


def test_grid_figure_lays_out_one_map_per_neuron_by_layer_with_a_shared_scale_per_layer(moons):
    split, net = moons
    maps = ins.neuron_grid(net, split.X_train, resolution=12)
    fig = figures.neuron_maps_figure(maps, output_names=["class a", "class <b>"])
    traces = heatmaps(fig)
    assert len(traces) == len(fig.data) == 6 + 5 + 2  # one trace per neuron
    assert fig.layout.meta["sizes"] == [6, 5, 2] and fig.layout.meta["drawn"] == [6, 5, 2]
    names = ["coloraxis", "coloraxis2", "coloraxis3"]
    at, blocks = 0, []
    for layer, size in enumerate(maps.sizes):
        axis = coloraxis(fig, names[layer])
        # the layer's range: the min and max of all its maps, one scale for its neurons
        assert axis.cmin == maps.layers[layer].min() and axis.cmax == maps.layers[layer].max()
        assert fig.layout.meta["ranges"][layer] == [axis.cmin, axis.cmax]
        assert axis.colorbar.title.text == figures.layer_title(
            layer, 3, maps.activations[layer], "<br>"
        )
        columns, tops = set(), []
        for k in range(size):
            trace = traces[at]
            at += 1
            assert trace.coloraxis == names[layer]
            np.testing.assert_allclose(
                np.asarray(trace.z, dtype=float),
                maps.layers[layer][:, :, k],
                rtol=1e-6,
                atol=1e-7,
            )
            columns.add(domain(fig, trace, "x"))
            tops.append(domain(fig, trace, "y")[1])
        assert len(columns) == 1  # up to ROWS_PER_COLUMN neurons: stacked in one column
        assert tops == sorted(tops, reverse=True)  # neuron 1 at the top
        blocks.append(columns.pop())
    # layers left to right, hidden first, outputs last, apart from each other
    assert all(a[1] < b[0] for a, b in itertools.pairwise(blocks))
    assert traces[0].name == "layer 1 · neuron 1" and traces[7].name == "layer 2 · neuron 2"
    assert traces[-1].name == "output · class &lt;b&gt;"  # names from data are escaped
    assert "layer 2 · neuron 2" in traces[7].hovertemplate
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:7] == [f"neuron {k}" for k in range(1, 7)] + ["neuron 1"]
    assert titles[-2:] == ["class a", "class &lt;b&gt;"]


def test_grid_figure_caps_the_maps_per_layer_and_says_how_many_are_hidden():
    net = make_net([2, 20, 5, 3])
    maps = ins.neuron_grid(net, np.random.default_rng(0).normal(size=(30, 2)), resolution=6)
    fig = figures.neuron_maps_figure(maps)
    assert fig.layout.meta["drawn"] == [16, 5, 3] and fig.layout.meta["sizes"] == [20, 5, 3]
    assert len(heatmaps(fig)) == 16 + 5 + 3
    notes = [a.text for a in fig.layout.annotations]
    assert "+4 more" in notes
    assert [t.name for t in fig.data[:16]] == [f"layer 1 · neuron {k}" for k in range(1, 17)]
    # 16 maps: two columns of ROWS_PER_COLUMN, filled top to bottom, inside the layer's block
    first = heatmaps(fig)[:16]
    lefts = sorted({domain(fig, t, "x") for t in first})
    assert len(lefts) == 2 and lefts[0][1] < lefts[1][0]
    assert [domain(fig, t, "x") for t in first] == [lefts[0]] * 8 + [lefts[1]] * 8
    assert [domain(fig, t, "y") for t in first[:8]] == [domain(fig, t, "y") for t in first[8:]]
    assert lefts[1][1] < domain(fig, fig.data[16], "x")[0]  # layer 2 starts to the right
    # the scale still covers every neuron of the layer, drawn or not
    assert fig.layout.coloraxis.cmin == maps.layers[0].min()
    assert fig.layout.coloraxis.cmax == maps.layers[0].max()
    small = figures.neuron_maps_figure(maps, max_per_layer=4)
    assert small.layout.meta["drawn"] == [4, 4, 3] and len(small.data) == 11
    assert {"+16 more", "+1 more"} <= {a.text for a in small.layout.annotations}
    with pytest.raises(ValueError, match="max_per_layer"):
        figures.neuron_maps_figure(maps, max_per_layer=0)


def test_a_flat_layer_still_gets_a_colour_range():
    net = make_net([2, 3, 2], hidden="relu")
    weights = net.get_weights()
    weights[0][...] = 0.0
    weights[1][...] = -1.0  # every ReLU unit is 0 everywhere
    net.set_weights(weights)
    maps = ins.neuron_grid(net, np.random.default_rng(0).normal(size=(10, 2)), resolution=4)
    fig = figures.neuron_maps_figure(maps)
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0.0, 1.0)


def test_large_map_shows_one_neuron_on_its_layer_scale_with_the_points(moons):
    split, net = moons
    maps = ins.neuron_grid(net, split.X_train, resolution=10)
    fig = figures.neuron_map_figure(
        maps,
        1,
        3,
        class_names=["a", "b"],
        train=(split.X_train, split.y_train),
        test=(split.X_test, split.y_test),
        sample=(0.5, -0.2),
    )
    surface = fig.data[0]
    assert surface.type == "heatmap" and surface.name == "layer 2 · neuron 4"
    np.testing.assert_allclose(np.asarray(surface.z, float), maps.layers[1][:, :, 3], atol=1e-7)
    assert fig.layout.coloraxis.cmin == maps.layers[1].min()
    assert fig.layout.coloraxis.cmax == maps.layers[1].max()
    points = [t for t in fig.data if t.type == "scattergl"]
    training = [t for t in points if t.marker.symbol == "circle"]
    test = [t for t in points if t.marker.symbol == "diamond"]
    assert sum(len(t.x) for t in training) == len(split.y_train)
    assert sum(len(t.x) for t in test) == len(split.y_test)
    # one legend entry per class, which shows and hides both of its parts
    assert [t.name for t in points if t.showlegend] == ["a", "b"]
    for t in points:
        c = ["a", "b"].index(t.name.removesuffix(" (test)"))
        assert t.marker.color == figures.class_color(c) and t.legendgroup == f"class {c}"
        X, y = (split.X_train, split.y_train) if t in training else (split.X_test, split.y_test)
        np.testing.assert_array_equal(np.column_stack([t.x, t.y]), X[y == c])
    assert fig.data[-1].name == "your sample"
    with pytest.raises(ValueError, match="no neuron 6 in layer 2"):
        figures.neuron_map_figure(maps, 1, 5)


def test_large_map_of_a_regression_network_colours_the_points_by_value():
    X = np.random.default_rng(3).normal(size=(40, 2))
    y = X[:, 0] * 2 + X[:, 1]
    net = nn.Network.from_config({"layers": [2, 4, 1], "task": "regression"})
    maps = ins.neuron_grid(net, X, resolution=8)
    fig = figures.neuron_map_figure(maps, 1, 0, train=(X, y), target_name="price")
    points = fig.data[1]
    np.testing.assert_allclose(np.asarray(points.marker.color, float), y)
    assert points.marker.coloraxis == "coloraxis2"
    assert fig.layout.coloraxis2.cmin == y.min() and fig.layout.coloraxis2.cmax == y.max()
    assert fig.data[0].name == "output 1"


def test_distributions_summarize_each_neuron_by_class(iris):
    split, net = iris
    values = ins.neuron_values(net, split.X_train)
    y = split.y_train
    fig = figures.neuron_distributions_figure(
        values, y, ["setosa", "versicolor", "virginica"], output_names=["se", "ve", "vi"]
    )
    boxes = [t for t in fig.data if t.type == "box"]
    assert len(boxes) == len(fig.data) == 2 * 3  # one trace per layer and class
    assert fig.layout.meta["sizes"] == [7, 3] == fig.layout.meta["drawn"]
    for trace in boxes:
        layer = 0 if trace.xaxis == "x" else 1
        c = ["setosa", "versicolor", "virginica"].index(trace.name)
        rows = values.layers[layer][y == c]
        np.testing.assert_allclose(trace.median, np.median(rows, axis=0))
        np.testing.assert_allclose(trace.q1, np.percentile(rows, 25, axis=0))
        np.testing.assert_allclose(trace.q3, np.percentile(rows, 75, axis=0))
        np.testing.assert_allclose(trace.lowerfence, rows.min(axis=0))
        np.testing.assert_allclose(trace.upperfence, rows.max(axis=0))
        np.testing.assert_allclose(trace.mean, rows.mean(axis=0))
        assert trace.marker.color == figures.class_color(c)
    assert list(boxes[0].x) == [str(k) for k in range(1, 8)]
    assert list(boxes[-1].x) == ["se", "ve", "vi"]  # the output row names its classes
    with pytest.raises(ValueError, match="one group per row"):
        figures.neuron_distributions_figure(values, y[:-1], ["a", "b", "c"])


def test_distributions_cap_the_neurons_per_layer():
    net = make_net([3, 30, 2])
    X = np.random.default_rng(4).normal(size=(50, 3))
    values = ins.neuron_values(net, X, output=False)
    groups = (X[:, 0] > 0).astype(int)
    fig = figures.neuron_distributions_figure(values, groups, ["low", "high"], max_per_layer=16)
    assert fig.layout.meta["drawn"] == [16] and fig.layout.meta["sizes"] == [30]
    assert all(len(t.x) == 16 for t in fig.data)
    assert any("neurons 1 to 16 of 30" in a.text for a in fig.layout.annotations)
