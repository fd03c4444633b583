"""The command line reproduces the article's log and reports bad arguments without a traceback."""

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
    assert float(out.strip().splitlines()[-2].split(": ")[1]) > 0.8


def test_preset_layers_adapt_to_the_dataset(capsys):
    assert cli.main(["train", "--dataset", "breast_cancer", "--epochs", "1"]) == 0
    assert "network [30, 5, 10, 2]" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["train", "--layers", "4,x,3"], "whole numbers"),
        (["train", "--lr", "-1"], "learning_rate must be positive"),
        (["train", "--data", "/no/such/file.csv"], "cannot read the file"),
        (["train", "--activation", "swish"], "unknown activation 'swish'"),
        (["train", "--layers", "5,3"], "features but the network expects 5"),
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
