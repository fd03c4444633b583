"""Backprop, step by step: one sample's forward and backward pass as LaTeX with the numbers.

Pure functions from an ``nn.inspect`` trace to formulas; no Streamlit.
"""

from __future__ import annotations

import numpy as np

from nn.losses import HUBER_DELTA

# ---- backprop, step by step, as formulas with the numbers filled in ----

ACTIVATION_TEX = {
    "sigmoid": r"\sigma",
    "tanh": r"\tanh",
    "relu": r"\mathrm{ReLU}",
    "leaky_relu": r"\mathrm{LeakyReLU}",
    "linear": r"\mathrm{id}",
    "softmax": r"\mathrm{softmax}",
}
MAX_TEX_ENTRIES = 5  # entries per row or column written out; the rest become dots


def _num(value: float) -> str:
    text = f"{value:.3g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa}\times 10^{{{int(exponent)}}}"
    return text


def tex_vector(values, max_entries: int = MAX_TEX_ENTRIES) -> str:
    """A row vector in LaTeX, with dots after ``max_entries`` entries."""
    values = np.asarray(values, dtype=float).ravel()
    cells = [_num(v) for v in values[:max_entries]]
    if len(values) > max_entries:
        cells.append(r"\cdots")
    return r"\begin{bmatrix}" + " & ".join(cells) + r"\end{bmatrix}"


def tex_matrix(values, max_entries: int = MAX_TEX_ENTRIES) -> str:
    """A matrix in LaTeX, cut to ``max_entries`` rows and columns with dots."""
    values = np.asarray(values, dtype=float)
    rows = []
    for row in values[:max_entries]:
        cells = [_num(v) for v in row[:max_entries]]
        if values.shape[1] > max_entries:
            cells.append(r"\cdots")
        rows.append(" & ".join(cells))
    if values.shape[0] > max_entries:
        dots = [r"\vdots"] * min(values.shape[1], max_entries)
        rows.append(" & ".join(dots + ([r"\ddots"] if values.shape[1] > max_entries else [])))
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def _aligned(*lines: str) -> str:
    return r"\begin{aligned}" + r" \\[2pt] ".join(lines) + r"\end{aligned}"


def backprop_steps(trace) -> list[dict]:
    """The formulas of one backprop step (an ``nn.inspect.BackpropTrace``) with its numbers.

    A list of ``{"title", "latex"}`` in reading order: the forward pass layer by layer, the
    loss, the deltas from the output back, and each layer's gradients and update. Each
    ``latex`` is one ``aligned`` block for ``st.latex``, a few short lines. Long vectors and
    matrices are cut with dots; the full numbers are in the trace.
    """
    steps = []
    last = len(trace.layers)
    a_name = "x"
    for layer in trace.layers:
        n, f = layer.index, ACTIVATION_TEX[layer.activation]
        z, a = rf"z^{{({n})}}", rf"a^{{({n})}}"
        steps.append(
            {
                "title": f"Forward, layer {n}",
                "latex": _aligned(
                    rf"{z} &= {a_name}\,W^{{({n})}} + b^{{({n})}} = {tex_vector(layer.z)}",
                    rf"{a} &= {f}({z}) = {tex_vector(layer.a)}",
                ),
            }
        )
        a_name = a
    if trace.loss_name == "squared_error":
        formula = r"\tfrac{1}{2}\sum_k (a_k - y_k)^2"
    elif trace.loss_name == "huber":
        formula = r"\sum_k \mathrm{huber}(a_k - y_k)"
    elif trace.output_activation == "softmax":
        formula = r"-\sum_k y_k \log a_k"
    else:
        formula = r"-\sum_k \left[y_k \log a_k + (1 - y_k)\log(1 - a_k)\right]"
    penalty = r" + \tfrac{\lambda}{2}\sum W^2" if trace.l2 else ""
    lines = []
    if trace.target_value is not None:  # regression: the target as the network learns it
        lines.append(
            rf"y &= \frac{{\text{{target}} - \mu}}{{s}} = \frac{{{tex_vector(trace.target_value)}"
            rf" - {tex_vector(trace.target_mean)}}}{{{tex_vector(trace.target_scale)}}}"
        )
    lines += [
        rf"a^{{({last})}} &= {tex_vector(trace.output)},\quad y = {tex_vector(trace.target)}",
        rf"L &= {formula}{penalty} = {_num(trace.loss)}",
    ]
    if trace.loss_name == "huber":
        lines.append(
            rf"\mathrm{{huber}}(r) &= \tfrac{{1}}{{2}}r^2 \text{{ if }} |r| \le {_num(HUBER_DELTA)}"
            rf", \text{{ else }} {_num(HUBER_DELTA)}\,(|r| - \tfrac{{{_num(HUBER_DELTA)}}}{{2}})"
        )
    if trace.output_value is not None:
        lines.append(
            rf"\text{{prediction}} &= \mu + s\,a^{{({last})}} = {tex_vector(trace.output_value)}"
        )
    steps.append({"title": "Loss", "latex": _aligned(*lines)})
    for layer in reversed(trace.layers):
        n, f = layer.index, ACTIVATION_TEX[layer.activation]
        d = rf"\delta^{{({n})}}"
        if layer.grad_a is None:
            latex = _aligned(rf"{d} &= a^{{({n})}} - y = {tex_vector(layer.delta)}")
        else:
            if n != last:
                first = rf"\left(\delta^{{({n + 1})}} W^{{({n + 1})\top}}\right)"
            elif trace.loss_name == "huber":
                clip = _num(HUBER_DELTA)
                first = rf"\mathrm{{clip}}(a^{{({n})}} - y, -{clip}, {clip})"
            else:
                first = rf"(a^{{({n})}} - y)"
            latex = _aligned(
                rf"{d} &= {first} \odot {f}'(z^{{({n})}})",
                rf"&= {tex_vector(layer.grad_a)}",
                rf"&\quad\odot {tex_vector(layer.slope)}",
                rf"&= {tex_vector(layer.delta)}",
            )
        steps.append({"title": f"Delta, layer {n}", "latex": latex})
    eta = _num(trace.learning_rate)
    for layer in trace.layers:
        n = layer.index
        a_prev = "x" if n == 1 else rf"a^{{({n - 1})}}"
        dW, W = rf"\tfrac{{\partial L}}{{\partial W^{{({n})}}}}", rf"W^{{({n})}}"
        reg = rf" + \lambda {W}" if trace.l2 else ""
        steps.append(
            {
                "title": f"Gradients and update, layer {n}",
                "latex": _aligned(
                    rf"{dW} &= {{{a_prev}}}^\top \delta^{{({n})}}{reg}"
                    rf" = {tex_matrix(layer.grad_W)}",
                    rf"\tfrac{{\partial L}}{{\partial b^{{({n})}}}} &= \delta^{{({n})}}"
                    rf" = {tex_vector(layer.grad_b)}",
                    rf"{W} &\leftarrow {W} - {eta}\,{dW} = {tex_matrix(layer.W_new)}",
                    rf"b^{{({n})}} &\leftarrow b^{{({n})}} - {eta}\,\delta^{{({n})}}"
                    rf" = {tex_vector(layer.b_new)}",
                ),
            }
        )
    return steps
