"""Reference models for the trust panel: scikit-learn trained on the same split.

No Streamlit here; scikit-learn is imported when a baseline is asked for.
"""

from __future__ import annotations

import warnings

import numpy as np

import nn

SKLEARN_ACTIVATIONS = {
    "sigmoid": "logistic",
    "tanh": "tanh",
    "relu": "relu",
    "leaky_relu": "relu",
    "linear": "identity",
}


def sklearn_baselines(
    X_train, y_train, X_test, y_test, config: dict, training: dict, seed: int = 0
) -> dict[str, float]:
    """Test accuracy of scikit-learn's ``MLPClassifier`` (our architecture and optimizer as
    closely as it allows) and ``LogisticRegression``, trained on the same split.

    MLPClassifier has one activation for all hidden layers (the first one's is used), no leaky
    ReLU (plain ReLU stands in), and always a softmax/logistic output with cross-entropy; it is
    a reference, not a twin. ``X_train`` and ``X_test`` are the rows our network sees.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    training = {**nn.config.training_defaults(), **training}  # the engine's defaults
    hidden = list(config["layers"][1:-1])
    acts = config["activation"]
    act = acts if isinstance(acts, str) else (acts[0] if acts else "relu")
    optimizer = training["optimizer"]
    epochs = max(1, int(training["epochs"]))
    mlp = MLPClassifier(
        hidden_layer_sizes=tuple(hidden),
        activation=SKLEARN_ACTIVATIONS.get(act, "relu"),
        solver="adam" if optimizer == "adam" else "sgd",
        learning_rate_init=float(training["learning_rate"]),
        batch_size=min(int(training["batch_size"]), len(X_train)),
        momentum=float(training["momentum"]) if optimizer == "momentum" else 0.0,
        nesterovs_momentum=bool(training["nesterov"]),
        alpha=float(training["l2"]),
        max_iter=epochs,
        shuffle=bool(training["shuffle"]),
        n_iter_no_change=epochs + 1,
        tol=0.0,
        random_state=seed,
    )
    logistic = LogisticRegression(max_iter=2000)
    scores = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, model in (("MLPClassifier", mlp), ("LogisticRegression", logistic)):
            model.fit(X_train, y_train)
            scores[name] = float(np.mean(model.predict(X_test) == np.asarray(y_test)))
    return scores
