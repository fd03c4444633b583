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


MEAN_PREDICTOR = "Mean of the training targets"


def _mlp_params(config: dict, training: dict, n_train: int, seed: int) -> dict:
    """scikit-learn's MLP settings nearest to our network and training settings."""
    training = {**nn.config.training_defaults(), **training}  # the engine's defaults
    hidden = list(config["layers"][1:-1])
    acts = config["activation"]
    act = acts if isinstance(acts, str) else (acts[0] if acts else "relu")
    optimizer = training["optimizer"]
    epochs = max(1, int(training["epochs"]))
    params = {
        "hidden_layer_sizes": tuple(hidden),
        "activation": SKLEARN_ACTIVATIONS.get(act, "relu"),
        "solver": "adam" if optimizer == "adam" else "sgd",
        "learning_rate_init": float(training["learning_rate"]),
        "batch_size": min(int(training["batch_size"]), n_train),
        "momentum": float(training["momentum"]) if optimizer == "momentum" else 0.0,
        "nesterovs_momentum": bool(training["nesterov"]),
        "alpha": float(training["l2"]),
        "max_iter": epochs,
        "shuffle": bool(training["shuffle"]),
        "n_iter_no_change": epochs + 1,
        "tol": 0.0,
        "random_state": seed,
    }
    if training.get("early_stopping"):
        # scikit-learn holds out its own validation rows (a tenth of the training rows) and,
        # like ours, keeps the best weights once the score stops improving.
        params.update(
            early_stopping=True,
            validation_fraction=0.1,
            n_iter_no_change=max(1, int(training["patience"])),
        )
    return params


def sklearn_baselines(
    X_train, y_train, X_test, y_test, config: dict, training: dict, seed: int = 0
) -> dict[str, float]:
    """The task's test figure of scikit-learn's models trained on the same split.

    Classification (test accuracy): ``MLPClassifier`` (our architecture and optimizer as
    closely as it allows) and ``LogisticRegression``. Regression (a ``config`` with task
    "regression"; test R^2): ``MLPRegressor``, ``LinearRegression`` and the mean of the
    training targets (see ``regression_baselines``).

    MLPClassifier has one activation for all hidden layers (the first one's is used), no leaky
    ReLU (plain ReLU stands in), and always a softmax/logistic output with cross-entropy; it is
    a reference, not a twin. ``X_train`` and ``X_test`` are the rows our network sees.
    """
    if config.get("task", nn.task.CLASSIFICATION) == nn.task.REGRESSION:
        scores = regression_baselines(X_train, y_train, X_test, y_test, config, training, seed)
        return {name: figures["r2"] for name, figures in scores.items()}
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    mlp = MLPClassifier(**_mlp_params(config, training, len(X_train), seed))
    logistic = LogisticRegression(max_iter=2000)
    scores = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, model in (("MLPClassifier", mlp), ("LogisticRegression", logistic)):
            model.fit(X_train, y_train)
            scores[name] = float(np.mean(model.predict(X_test) == np.asarray(y_test)))
    return scores


def regression_baselines(
    X_train,
    y_train,
    X_test,
    y_test,
    config: dict | None = None,
    training: dict | None = None,
    seed: int = 0,
    mlp: bool = True,
) -> dict[str, dict[str, float]]:
    """R^2, MAE and RMSE on the test rows (in the target's units) of scikit-learn's regressors
    trained on the same rows: ``MLPRegressor`` (with ``mlp``; our hidden layers, activation
    and optimizer as closely as it allows, an identity output with squared error, and the
    target standardized on the training rows as our network does), ``LinearRegression``, and
    a model that always predicts the mean of the training targets (R^2 about 0: the figure
    any model must beat)."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.dummy import DummyRegressor
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LinearRegression
    from sklearn.neural_network import MLPRegressor
    from sklearn.preprocessing import StandardScaler

    y_train = np.asarray(y_train, dtype=float)
    y_test = np.asarray(y_test, dtype=float)
    models = {}
    if mlp:
        params = _mlp_params(config, training or {}, len(X_train), seed)
        models["MLPRegressor"] = TransformedTargetRegressor(
            regressor=MLPRegressor(**params), transformer=StandardScaler()
        )
    models["LinearRegression"] = LinearRegression()
    models[MEAN_PREDICTOR] = DummyRegressor(strategy="mean")
    scores = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, model in models.items():
            model.fit(X_train, y_train)
            predicted = np.asarray(model.predict(X_test), dtype=float).reshape(y_test.shape)
            scores[name] = {
                "r2": nn.metrics.r2_score(y_test, predicted),
                "mae": nn.metrics.mean_absolute_error(y_test, predicted),
                "rmse": nn.metrics.root_mean_squared_error(y_test, predicted),
            }
    return scores
