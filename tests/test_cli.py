"""The command line reproduces the article's log and reports bad arguments without a traceback."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import nn
from nn import cli

ROOT = Path(__file__).resolve().parent.parent


def test_article_log_every_20_epochs_and_test_accuracy(capsys):
    assert (
        cli.main(["train", "--data", str(ROOT / "data" / "Iris.csv"), "--preset", "article"]) == 0
    )
    out = capsys.readouterr().out.splitlines()
    epochs = [line for line in out if line.startswith("Epoch ")]
    assert epochs == [f"Epoch {e}" for e in (20, 40, 60, 80, 100)]
    assert sum(line.startswith("Training Accuracy:") for line in out) == 5
    assert sum(line.startswith("Validation Accuracy:") for line in out) == 5
    test_line = out[-1]
    assert test_line.startswith("Testing Accuracy: ")
    assert float(test_line.split(": ")[1]) >= 0.8


def test_overrides_and_save(tmp_path, capsys):
    model = tmp_path / "m.npz"
    args = ["train", "--dataset", "wine", "--layers", "13,8,3", "--activation", "relu"]
    args += ["--output-activation", "softmax", "--loss", "cross_entropy", "--init", "he"]
    args += ["--optimizer", "adam", "--lr", "0.01", "--epochs", "40", "--batch-size", "16"]
    args += ["--standardize", "--seed", "3", "--save", str(model)]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "Epoch 40" in out and "Epoch 60" not in out
    net = nn.Network.load(model)
    assert net.config["layers"] == [13, 8, 3]
    assert net.epochs_trained == 40
    printed = float(out.strip().splitlines()[-2].split(": ")[1])
    assert printed > 0.8
    # The file carries what it takes to use it on raw rows: the names and the preprocessing.
    wine = nn.data.load_dataset("wine")
    parts = nn.data.split(wine, seed=3, standardize=True)
    assert net.preprocessor == parts.preprocessor and net.preprocessor.standardize
    assert net.metadata["feature_names"] == wine.feature_names
    raw_test = parts.preprocessor.inverse(parts.X_test)
    assert net.evaluate(net.preprocessor.transform(raw_test), parts.y_test)["accuracy"] == printed


def test_the_training_options_reach_the_run(tmp_path, capsys):
    model = tmp_path / "m.npz"
    args = ["train", "--dataset", "wine", "--layers", "13,8,6,3", "--activation", "relu"]
    args += ["--output-activation", "softmax", "--loss", "cross_entropy", "--init", "he"]
    args += ["--optimizer", "adam", "--lr", "0.01", "--epochs", "12", "--batch-size", "16"]
    args += ["--standardize", "--seed", "3", "--shuffle", "--save", str(model)]
    args += ["--schedule", "cosine", "--warmup", "2", "--lr-min", "0.1", "--l1", "0.001"]
    args += ["--dropout", "0.3, 0.1", "--class-weight", "balanced"]
    assert cli.main(args) == 0
    capsys.readouterr()
    saved = nn.Network.load(model)
    training = {
        "learning_rate": 0.01,
        "optimizer": "adam",
        "batch_size": 16,
        "shuffle": True,
        "schedule": "cosine",
        "warmup": 2,
        "lr_min": 0.1,
        "l1": 0.001,
        "dropout": "0.3,0.1",
        "class_weight": "balanced",
    }
    rates = nn.schedules.rates(nn.config.check_training(training), 12)
    assert [r.learning_rate for r in saved.history] == rates
    # the same run through the engine, step for step
    parts = nn.data.split(nn.data.load_dataset("wine", seed=3), seed=3, standardize=True)
    net = nn.Network.from_config(saved.config)
    val = (parts.X_val, parts.y_val)
    net.fit(parts.X_train, parts.y_train, epochs=12, validation_data=val, seed=3, **training)
    for a, b in zip(net.get_weights(), saved.get_weights(), strict=True):
        assert (a == b).all()


def test_last_epoch_is_logged_and_no_validation_without_a_validation_part(capsys):
    assert cli.main(["train", "--epochs", "30", "--val-size", "0", "--seed", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if line.startswith("Epoch ")] == ["Epoch 20", "Epoch 30"]
    assert not any(line.startswith("Validation Accuracy") for line in out)
    assert "'validation': 0" in out[0] and "'train': 127" in out[0]


def test_a_csv_with_a_named_target_and_a_synthetic_set(tmp_path, capsys):
    csv = tmp_path / "flowers.csv"
    text = (ROOT / "data" / "Iris.csv").read_text().splitlines()
    # move the species to the front: the target is no longer the last column
    rows = [",".join([line.split(",")[-1], *line.split(",")[:-1]]) for line in text]
    csv.write_text("\n".join(rows) + "\n")
    assert cli.main(["train", "--data", str(csv), "--target", "Species", "--epochs", "1"]) == 0
    assert capsys.readouterr().out.startswith("Dataset('flowers', 150 rows, 4 features, 3 classes)")
    args = ["train", "--dataset", "spiral", "--n-samples", "90", "--noise", "0.1", "--epochs", "1"]
    assert cli.main(args) == 0
    assert "Dataset('spiral', 90 rows, 2 features, 3 classes)" in capsys.readouterr().out


def test_divergence_exits_1_with_the_hint(capsys):
    args = ["train", "--lr", "1e6", "--activation", "linear", "--output-activation", "linear"]
    assert cli.main([*args, "--epochs", "5"]) == 1
    err = capsys.readouterr().err
    assert "diverged" in err and "learning rate" in err


def test_preset_layers_adapt_to_the_dataset(capsys):
    assert cli.main(["train", "--dataset", "breast_cancer", "--epochs", "1"]) == 0
    assert "network [30, 5, 10, 2]" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["train", "--layers", "4,x,3"], "whole numbers"),
        (["train", "--lr", "-1"], "learning_rate must be a number > 0"),
        (["train", "--optimizer", "rmsprop"], "invalid choice: 'rmsprop'"),
        (["train", "--early-stopping", "--val-size", "0"], "early stopping needs validation"),
        (["train", "--data", "/no/such/file.csv"], "cannot read the file"),
        (["train", "--activation", "swish"], "unknown activation 'swish'"),
        (["train", "--layers", "5,3"], "features but the network expects 5"),
        (["train", "--dataset", "wine", "--target", "class"], "--target applies to a CSV"),
        (["train", "--noise", "0.3"], "--n-samples and --noise apply to"),
        (["train", "--save", "/no/such/folder/m.npz"], "the folder does not exist"),
        (["train", "--test-size", "1.5"], "test_size must be between 0 and 1"),
        (["train", "--dataset", "mnist"], "invalid choice: 'mnist'"),
        (["train", "--data", "x.csv", "--dataset", "iris"], "not allowed with argument"),
        (["train", "--dropout", "2"], "dropout must be a rate >= 0 and <= 0.9"),
        (["train", "--dropout", "0.1,0.2,0.3"], "dropout lists 3 rates but the network has 2"),
        (["train", "--class-weight", "heavy"], "class_weight must be none, balanced, or one"),
        (["train", "--class-weight", "1,2"], "class_weight lists 2 weights but there are 3"),
        (["train", "--dataset", "sine", "--class-weight", "balanced"], "applies to classes"),
        (["train", "--schedule", "linear"], "invalid choice: 'linear'"),
        (["train", "--lr-decay", "0"], "lr_decay must be a number > 0 and <= 1"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(args, words, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 2
    assert words in capsys.readouterr().err


def test_python_dash_m_nn_runs_as_a_subprocess():
    run = subprocess.run(
        [sys.executable, "-m", "nn", "train", "--epochs", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "Epoch 20" in run.stdout and "Testing Accuracy:" in run.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "nn", "train", "--epochs", "-3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr and "epochs" in bad.stderr


def test_cv_json_has_a_row_per_fold_and_the_summary(capsys):
    args = ["cv", "--data", str(ROOT / "data" / "Iris.csv"), "--folds", "4", "--json"]
    assert cli.main([*args, "--preset", "modern", "--epochs", "5", "--seed", "3"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["k"] == 4 and facts["completed"] == 4 and not facts["cancelled"]
    assert [row["fold"] for row in facts["folds"]] == [1, 2, 3, 4]
    assert all(row["n_train"] + row["n_test"] == 150 for row in facts["folds"])
    accuracies = [row["accuracy"] for row in facts["folds"]]
    assert facts["summary"]["accuracy"]["mean"] == pytest.approx(sum(accuracies) / 4)
    assert facts["network"]["layers"] == [4, 16, 16, 3] and facts["seed"] == 3


def test_cv_prints_a_table_per_fold_and_mean_plus_minus_std(capsys):
    args = ["cv", "--dataset", "diabetes", "--preset", "modern", "--epochs", "20", "--folds", "3"]
    assert cli.main([*args, "--repeats", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Dataset('diabetes', 442 rows") and "3-fold cross-validation" in out[0]
    header = out[1].split()
    assert header[:2] == ["fold", "repeat"] and {"r2", "mae", "rmse", "n_val"} <= set(header)
    assert len(out[2:8]) == 6 and all(len(line.split()) == len(header) for line in out[2:8])
    assert [line.split(":")[0] for line in out[8:13]] == ["loss", "r2", "mae", "rmse", "epochs"]
    assert " ± " in out[9]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["cv", "--folds", "2"], "the number of folds must be from 3 to 10, got 2"),
        (["cv", "--folds", "10", "--repeats", "6"], "the limit is 50"),
        (["cv", "--jobs", "0"], "n_jobs must be a whole number of workers, at least 1"),
        (["cv", "--jobs", "999"], "n_jobs=999 is more than the"),
        (["cv", "--early-stopping", "--val-size", "0"], "early stopping needs validation rows"),
        (["cv", "--test-size", "0.2"], "unrecognized arguments: --test-size"),
        (["cv", "--dataset", "iris", "--target", "x"], "--target applies to a CSV"),
    ],
)
def test_cv_bad_arguments_exit_2_with_a_message(args, words, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 2
    assert words in capsys.readouterr().err
