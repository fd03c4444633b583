"""nn.config: the training settings table, and everything that must follow it.

The walk below is the contract of the table: a row added to ``nn.config.TRAINING`` is a CLI flag,
a URL parameter, a recipe setting, an app setting with a demo range, and a keyword of
``Network.train_epochs``, without anything else listing it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn
from dashboard.common import limits
from dashboard.share import link
from dashboard.training import loop
from nn import cli, config, recipe
from tests.test_app_share import defaults

SETTINGS = list(config.TRAINING.values())
IDS = [s.name for s in SETTINGS]


def other_value(setting: config.Setting):
    """A valid value of ``setting`` that is not its default (inside the demo's range)."""
    if setting.kind == "bool":
        return not setting.default
    if setting.kind == "choice":
        return next(c for c in setting.choices if c != setting.default)
    if setting.kind == "rates":
        return "0.2"
    if setting.kind == "weights":
        return "balanced"
    hi = limits.TRAINING_RANGES[setting.name][1]
    value = (setting.default + hi) / 2 if math.isfinite(hi) else setting.default * 2
    return int(value) if setting.kind == "int" else float(value)


@pytest.mark.parametrize("setting", SETTINGS, ids=IDS)
def test_every_setting_is_a_cli_flag(setting):
    parser = cli.build_parser()
    value = other_value(setting)
    if setting.kind == "bool":
        argv = [setting.cli_flag if value else "--no-" + setting.cli_flag[2:]]
    else:
        argv = [setting.cli_flag, str(value)]
    args = parser.parse_args(["train", *argv])
    assert getattr(args, setting.name) == value
    assert cli.settings_from_args(args)["training"][setting.name] == value


@pytest.mark.parametrize("setting", SETTINGS, ids=IDS)
def test_every_setting_travels_in_a_link(setting):
    exp = defaults()
    value = other_value(setting)
    exp.train = {**exp.train, setting.name: value}
    if setting.name == "batch_size":
        value = min(value, 200)  # the decoder fits the batch to the training rows
        exp.train["batch_size"] = value
    params = link.encode(exp, defaults())
    assert setting.url in params
    _, train, messages = link.decode_model(params, defaults(), 2, 3, 200, True)
    assert train[setting.name] == pytest.approx(value), messages
    assert messages == []


@pytest.mark.parametrize("setting", SETTINGS, ids=IDS)
def test_every_setting_is_in_the_recipe(setting):
    assert setting.name in recipe.TRAINING_DEFAULTS
    value = other_value(setting)
    settings = {
        "network": nn.presets.ARTICLE["network"],
        "training": {setting.name: value},
        "split": {},
    }
    assert recipe.normalize_settings(settings)["training"][setting.name] == value


@pytest.mark.parametrize("setting", SETTINGS, ids=IDS)
def test_every_setting_is_an_app_setting_within_a_narrower_demo_range(setting):
    assert setting.name in loop.DEFAULT_SETTINGS
    if setting.kind in ("int", "float"):
        lo, hi = limits.TRAINING_RANGES[setting.name]
        assert setting.check(lo) == lo and setting.check(hi) == hi  # inside the table's range
    checked, messages = loop.check_settings({setting.name: other_value(setting)}, 5000, True)
    assert checked[setting.name] == other_value(setting) and messages == []


@pytest.mark.parametrize("setting", SETTINGS, ids=IDS)
def test_train_epochs_takes_every_setting_and_checks_it_through_the_table(setting):
    X, y = np.random.default_rng(0).normal(size=(30, 4)), np.arange(30) % 3
    net = nn.Network.from_config({"layers": [4, 3, 3]})
    kwargs = {"epochs": 2, setting.name: other_value(setting), "validation_data": (X, y)}
    if setting.name == "epochs":
        kwargs["epochs"] = 2
    net.fit(X, y, **kwargs)
    assert net.epochs_trained == 2
    with pytest.raises(ValueError, match=setting.name):
        net.fit(X, y, **{**kwargs, setting.name: "not a value"})


def test_the_url_names_and_flags_are_unique():
    assert len({s.url for s in SETTINGS}) == len(SETTINGS)
    assert len({s.cli_flag for s in SETTINGS}) == len(SETTINGS)


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("learning_rate", 0, "learning_rate must be a number > 0"),
        ("learning_rate", math.nan, "must be a finite number"),
        ("epochs", 2.5, "must be a whole number"),
        ("epochs", -1, "epochs must be a whole number >= 0"),
        ("optimizer", "rmsprop", "optimizer must be one of sgd, momentum, adam"),
        ("shuffle", "yes", "shuffle must be true or false"),
        ("momentum", 1.0, "momentum must be a number >= 0 and < 1"),
        ("eps", 0.0, "eps must be a number > 0 and < 1"),
        ("batch_size", True, "batch_size must be a whole number >= 1"),
        ("l1", -0.1, "l1 must be a number >= 0"),
        ("schedule", "linear", "schedule must be one of constant, step, exponential, cosine"),
        ("warmup", -1, "warmup must be a whole number >= 0"),
        ("lr_step", 0, "lr_step must be a whole number >= 1"),
        ("lr_drop", 0.0, "lr_drop must be a number > 0 and <= 1"),
        ("lr_decay", 1.5, "lr_decay must be a number > 0 and <= 1"),
        ("lr_min", 2.0, "lr_min must be a number >= 0 and <= 1"),
        ("cosine_epochs", 2.5, "cosine_epochs must be a whole number"),
        ("dropout", 0.95, r"dropout must be a rate >= 0 and <= 0\.9 for every hidden layer"),
        ("dropout", "0.2,x", "or one per hidden layer separated by commas"),
        ("dropout", "", "dropout must be a rate"),
        ("dropout", True, "dropout must be a rate"),
        ("dropout", [], "dropout must be a rate"),
        ("class_weight", "heavy", "class_weight must be none, balanced, or one number > 0"),
        ("class_weight", "1,0", "one number > 0 per class"),
        ("class_weight", "1,nan", "one number > 0 per class"),
        ("class_weight", 2, None),
    ],
)
def test_a_bad_value_is_named_with_its_range(name, value, words):
    if words is None:  # a value some kinds refuse, which this one takes
        assert config.check_training({name: value}, fill=False) == {name: "2"}
        return
    with pytest.raises(ValueError, match=words):
        config.check_training({name: value})


def test_check_training_fills_defaults_and_refuses_unknown_names():
    assert config.check_training({}) == config.training_defaults()
    assert config.check_training({"epochs": 3}, fill=False) == {"epochs": 3}
    with pytest.raises(ValueError, match="unknown training settings: dropout_rate"):
        config.check_training({"dropout_rate": 0.5})


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("dropout", 0.25, "0.25"),
        ("dropout", "0.2, 0.10", "0.2,0.1"),
        ("dropout", [0, 0.5], "0,0.5"),
        ("dropout", np.float32(0.5), "0.5"),
        ("dropout", "0", "0"),
        ("class_weight", " Balanced ", "balanced"),
        ("class_weight", "NONE", "none"),
        ("class_weight", [1, 2.5, 3], "1,2.5,3"),
        ("class_weight", "1e-3,7", "0.001,7"),
    ],
)
def test_text_settings_come_back_in_one_canonical_form(name, value, text):
    assert config.TRAINING[name].check(value) == text
    assert config.TRAINING[name].check(text) == text  # the canonical text is a fixed point


def test_dropout_rates_and_class_weights_read_their_text():
    assert config.dropout_rates("0.2", 3) == [0.2, 0.2, 0.2]
    assert config.dropout_rates("0.2,0", 2) == [0.2, 0.0]
    assert config.dropout_rates("0", 0) == []
    with pytest.raises(ValueError, match="dropout lists 2 rates but the network has 3 hidden"):
        config.dropout_rates("0.2,0.1", 3)
    assert config.class_weight("balanced") == "balanced"
    assert config.class_weight("none") == "none"
    assert config.class_weight("1,3") == [1.0, 3.0]


def test_applies_follows_the_optimizer_and_early_stopping():
    assert config.applies("momentum", {"optimizer": "momentum"})
    assert not config.applies("momentum", {"optimizer": "adam"})
    assert config.applies("beta2", {"optimizer": "adam"})
    assert not config.applies("patience", {})
    assert config.applies("patience", {"early_stopping": True})
    assert config.applies("learning_rate", {})
    assert not config.applies("lr_step", {})
    assert config.applies("lr_step", {"schedule": "step"}) and config.applies(
        "lr_drop", {"schedule": "step"}
    )
    assert not config.applies("lr_decay", {"schedule": "step"})
    assert config.applies("lr_decay", {"schedule": "exponential"})
    assert config.applies("lr_min", {"schedule": "cosine"})
    assert config.applies("cosine_epochs", {"schedule": "cosine"})
    assert not config.applies("cosine_epochs", {"schedule": "exponential"})
    assert config.applies("warmup", {}) and config.applies("dropout", {})


# ---- the split settings table: the arguments of nn.data.split ----

SPLITS = list(config.SPLIT.values())
SPLIT_IDS = [s.name for s in SPLITS]


def other_split_value(setting: config.Setting):
    """A valid split value that is not the default, inside the demo's range."""
    if setting.kind == "bool":
        return not setting.default
    if setting.kind == "names":
        return ",".join(setting.choices[-2:])
    hi = limits.SPLIT_RANGES[setting.name][1]
    return 7 if setting.kind == "int" else round((setting.default + hi) / 2, 2)


@pytest.mark.parametrize("setting", SPLITS, ids=SPLIT_IDS)
def test_every_split_setting_is_an_argument_of_the_split_with_the_same_default(setting):
    import inspect

    assert inspect.signature(nn.data.split).parameters[setting.name].default == setting.default


@pytest.mark.parametrize("setting", SPLITS, ids=SPLIT_IDS)
def test_every_split_setting_travels_in_a_link_the_recipe_and_the_cli(setting):
    value = other_split_value(setting)
    exp = defaults()
    exp.split = {**exp.split, setting.name: value}
    params = link.encode(exp, defaults())
    assert params[setting.url] is not None
    _, split, messages = link.decode_data(params, defaults())
    assert split[setting.name] == value and messages == []
    settings = {"network": nn.presets.ARTICLE["network"], "training": {}, "split": {}}
    settings["split"] = {setting.name: value}
    assert recipe.normalize_settings(settings)["split"][setting.name] == value
    flag = setting.cli_flag
    argv = [flag if value else "--no-" + flag[2:]] if setting.kind == "bool" else [flag, str(value)]
    args = cli.build_parser().parse_args(["train", *argv])
    if setting.name == "seed":  # one --seed for the split, the weights and the shuffles
        assert args.seed == value
    else:
        assert cli.settings_from_args(args)["split"][setting.name] == value


@pytest.mark.parametrize("setting", SPLITS, ids=SPLIT_IDS)
def test_every_split_setting_is_checked_within_a_narrower_demo_range(setting):
    from dashboard.data import datasets

    base = config.split_defaults()
    value = other_split_value(setting)
    checked, messages = datasets.check_split_settings({**base, setting.name: value})
    assert checked == {**base, setting.name: value} and messages == []
    if setting.kind == "names":  # no range: a name that is not a choice falls back to none
        checked, messages = datasets.check_split_settings({**base, setting.name: "cos_x1"})
        assert checked[setting.name] == config.NO_NAMES and setting.label in messages[0]
    elif setting.kind != "bool":
        lo, hi = limits.SPLIT_RANGES[setting.name]
        assert setting.check(lo) == lo and setting.check(hi) == hi
        _, messages = datasets.check_split_settings({**base, setting.name: hi * 2 + 1})
        assert setting.label in messages[0]


def test_a_bad_split_value_is_named_with_its_range():
    with pytest.raises(ValueError, match="test_size must be a number > 0 and < 1"):
        config.check_split({"test_size": 1.0})
    with pytest.raises(ValueError, match="unknown split settings: shuffle"):
        config.check_split({"shuffle": True})
    settings = {"network": nn.presets.ARTICLE["network"], "training": {}, "split": {"val_size": 1}}
    with pytest.raises(ValueError, match=r"split\.val_size must be"):
        recipe.normalize_settings(settings)
