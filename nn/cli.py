"""Command line: ``python -m nn train`` reproduces the article and accepts overrides.

Prints the article's log (training and validation accuracy every 20 epochs, and at the last
epoch) and the test accuracy. Exit codes: 0 done, 1 training diverged, 2 bad arguments or data.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nn import config, data, presets
from nn.errors import DivergenceError
from nn.network import Network

LOG_EVERY = 20


def _layers(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        msg = f"layers must be whole numbers like 4,5,10,3: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _flag_options(name: str, setting: config.Setting) -> dict:
    """The argparse options of a setting's flag, from its row of a settings table."""
    options: dict = {"dest": name, "default": None, "help": setting.help}
    if setting.kind == "bool":
        options["action"] = argparse.BooleanOptionalAction
    elif setting.kind == "choice":
        options["choices"] = setting.choices
    else:
        options["type"] = int if setting.kind == "int" else float
    return options


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


NUMBER_FILLS, TEXT_FILLS = ("median", "mean"), ("category", "most_frequent")


def _fills(text: str) -> dict[str, str | float]:
    """``COL=HOW,...`` as {column: how}; ``how`` a strategy or a number (a constant)."""
    fills = {}
    for part in _names(text):
        name, sep, how = part.rpartition("=")
        name, how = name.strip(), how.strip()
        if not sep or not name:
            raise argparse.ArgumentTypeError(f"--fill takes COLUMN=HOW, got {part!r}")
        if how not in NUMBER_FILLS + TEXT_FILLS:
            try:
                how = float(how)
            except ValueError:
                msg = f"a gap becomes median, mean, a number, category or most_frequent: {how!r}"
                raise argparse.ArgumentTypeError(msg) from None
            if how != how or how in (float("inf"), float("-inf")):
                raise argparse.ArgumentTypeError(f"the fill value of {name} must be finite")
        fills[name] = how
    return fills


def fill_choices(fills: dict, kinds: dict[str, str], indicators: bool, rare: int) -> dict:
    """``--fill``, ``--indicators`` and ``--rare`` as ``split``'s fill choices, checked against
    the loaded columns' kinds."""
    numeric, category, values = {}, {}, {}
    for name, how in fills.items():
        if name not in kinds:
            raise ValueError(f"--fill names {name}, which is not a feature column")
        text = kinds[name] == "categorical"
        if text != (how in TEXT_FILLS):
            what = "category or most_frequent" if text else "median, mean or a number"
            raise ValueError(f"a gap in {name} ({kinds[name]}) becomes {what}")
        if text:
            category[name] = how
        elif isinstance(how, float):
            numeric[name], values[name] = "constant", how
        else:
            numeric[name] = how
    if rare < 0:
        raise ValueError("--rare must be at least 0")
    return {
        "numeric_fill": numeric,
        "category_fill": category,
        "indicators": indicators,
        "fill_values": values,
        "rare": rare,
    }


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m nn``."""
    parser = argparse.ArgumentParser(
        prog="python -m nn", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a network and print the article's log")
    source = train.add_mutually_exclusive_group()
    source.add_argument("--data", help="a CSV file (target: the last column unless --target)")
    source.add_argument("--dataset", choices=data.DATASETS, help="a bundled dataset instead")
    train.add_argument("--target", help="the target column of --data")
    train.add_argument("--n-samples", type=int, help="rows of a synthetic --dataset (300)")
    train.add_argument("--noise", type=float, help="noise of a synthetic --dataset (0.2)")
    train.add_argument("--preset", choices=sorted(presets.PRESETS), default="article")
    train.add_argument("--layers", type=_layers, help="nodes per layer, e.g. 4,5,10,3")
    train.add_argument("--activation", help="hidden activation (sigmoid, tanh, relu, ...)")
    train.add_argument("--output-activation", help="sigmoid, softmax or linear")
    train.add_argument("--loss", help="squared_error, cross_entropy or (regression) huber")
    train.add_argument(
        "--task",
        choices=data.TASK_CHOICES,
        default="auto",
        help="classes or a number to predict (auto: from the target column)",
    )
    train.add_argument("--init", help="uniform, xavier or he")
    train.add_argument("--dtype", choices=("float64", "float32"))
    for name, setting in config.TRAINING.items():  # every training setting, from the table
        train.add_argument(setting.cli_flag, **_flag_options(name, setting))
    train.add_argument("--seed", type=int, default=0, help="shuffles, splits and initialises")
    for name, setting in config.SPLIT.items():  # every split setting but the shared --seed
        if name != "seed":
            train.add_argument(setting.cli_flag, **_flag_options(name, setting))
    train.add_argument("--save", help="write the trained model to this .npz file")
    table = train.add_argument_group("tables (with --data)")
    table.add_argument("--drop", type=_names, default=[], help="columns to skip, e.g. Id,Name")
    table.add_argument(
        "--categorical", type=_names, default=[], help="columns to treat as categories"
    )
    table.add_argument(
        "--missing",
        choices=("impute", "drop"),
        default="impute",
        help="fill gaps in features (median / own category) or drop their rows",
    )
    table.add_argument(
        "--fill",
        type=_fills,
        default={},
        help="what a gap becomes, per column: median, mean, a number, category (its own\n"
        "category, the default for text) or most_frequent; e.g. age=mean,fare=0,deck=most_frequent",
    )
    table.add_argument(
        "--indicators",
        action="store_true",
        help="add a 'was missing' input to each numeric column with gaps",
    )
    table.add_argument(
        "--rare",
        type=int,
        default=0,
        help="categories with fewer training rows than this share one input, (other)",
    )
    table.add_argument(
        "--max-rows", type=int, help="train on a random sample of this many rows (by class)"
    )
    train.add_argument(
        "--json", action="store_true", help="end with one line of JSON: the run's facts"
    )
    return parser


def settings_from_args(args: argparse.Namespace, task: str = "classification") -> dict:
    """The preset, suited to the task, with the command line's overrides applied."""
    s = presets.for_task(presets.PRESETS[args.preset], task)
    net, tr, sp = s["network"], s["training"], s["split"]
    for key, value in (
        ("layers", args.layers),
        ("activation", args.activation),
        ("output_activation", args.output_activation),
        ("loss", args.loss),
        ("init", args.init),
        ("dtype", args.dtype),
    ):
        if value is not None:
            net[key] = value
    net["seed"] = args.seed
    for name in config.TRAINING:
        if getattr(args, name) is not None:
            tr[name] = getattr(args, name)
    for name in config.SPLIT:
        if name != "seed" and getattr(args, name) is not None:
            sp[name] = getattr(args, name)
    return s


def _log(rec, regression: bool):
    """Print one epoch of the article's log (loss and R^2 for a number); return ``rec``."""
    print(f"Epoch {rec.epoch}")
    if regression:
        print(f"Training Loss:{rec.train_loss} R^2:{rec.train_r2}")
        if rec.val_r2 is not None:
            print(f"Validation Loss:{rec.val_loss} R^2:{rec.val_r2}")
        return rec
    print(f"Training Accuracy:{rec.train_accuracy}")
    if rec.val_accuracy is not None:
        print(f"Validation Accuracy:{rec.val_accuracy}")
    return rec


def train(args: argparse.Namespace) -> int:
    """Load, split, build, train with the article's log, and report the test accuracy."""
    synthetic = {"n_samples": args.n_samples, "noise": args.noise}
    synthetic = {k: v for k, v in synthetic.items() if v is not None}
    if args.target is not None and not args.data:
        raise ValueError("--target applies to a CSV given with --data")
    if synthetic and args.dataset not in data.SYNTHETIC:
        raise ValueError(f"--n-samples and --noise apply to {', '.join(data.SYNTHETIC)}")
    if args.save and not Path(args.save).resolve().parent.is_dir():
        raise ValueError(f"cannot save to {args.save}: the folder does not exist")
    table_flags = (
        args.drop
        or args.categorical
        or args.missing != "impute"
        or args.max_rows
        or args.fill
        or args.indicators
        or args.rare
    )
    if args.task != "auto" and not args.data:
        raise ValueError("--task applies to --data (the bundled sets know their task)")
    if table_flags and not args.data:
        raise ValueError(
            "--drop, --categorical, --missing, --fill, --indicators, --rare and --max-rows "
            "apply to --data"
        )
    if args.max_rows is not None and args.max_rows < 10:
        raise ValueError("--max-rows must be at least 10")
    if args.data:
        dataset = data.load_table(
            args.data,
            target=args.target,
            roles=dict.fromkeys(args.drop, "skip"),
            types=dict.fromkeys(args.categorical, "categorical"),
            missing=args.missing,
            max_rows=args.max_rows,
            seed=args.seed,
            fill={"rare": max(args.rare, 0)},
            task=args.task,
        )
        dataset.fill = fill_choices(args.fill, dataset.feature_kinds(), args.indicators, args.rare)
        for note in dataset.notes:
            print(f"note: {note}", file=sys.stderr)
    else:
        dataset = data.load_dataset(args.dataset or "iris", seed=args.seed, **synthetic)
    s = settings_from_args(args, dataset.task)
    parts = data.split(dataset, seed=args.seed, **s["split"])
    warnings = list(dataset.notes)
    if args.data:
        from nn import columns

        for leak in columns.leaks(
            dataset.table(parts.raw_train), parts.y_train, dataset.feature_kinds()
        ):
            warnings.append(leak.sentence())
            print(f"warning: {leak.sentence()}", file=sys.stderr)
    layers = s["network"]["layers"]
    n_inputs = parts.X_train.shape[1]  # after encoding: one input per category
    if args.layers is None and (layers[0], layers[-1]) != (n_inputs, dataset.n_outputs):
        layers = [n_inputs, *layers[1:-1], dataset.n_outputs]
        s["network"]["layers"] = layers
    net = Network.from_config(s["network"])
    # What the saved model needs to be used on raw rows: its preprocessing and the names.
    net.preprocessor = parts.preprocessor
    net.metadata = dataset.names()
    tr = s["training"]
    print(f"{dataset!r}; split {parts.sizes}; network {net.config['layers']}")
    val = (parts.X_val, parts.y_val) if len(parts.y_val) else None
    epochs = tr.pop("epochs")
    rec = logged = None
    try:
        for rec in net.train_epochs(
            parts.X_train, parts.y_train, epochs=epochs, validation_data=val, seed=args.seed, **tr
        ):
            if rec.epoch % LOG_EVERY == 0 or rec.epoch == epochs:
                logged = _log(rec, dataset.is_regression)
    except DivergenceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if rec is not None and logged is not rec:  # stopped early: log where it stopped
        _log(rec, dataset.is_regression)
    result = net.evaluate(parts.X_test, parts.y_test)
    if dataset.is_regression:
        print(
            f"Testing R^2: {result['r2']}  MAE: {result['mae']}  RMSE: {result['rmse']} "
            f"({dataset.target or 'target'} units)"
        )
    else:
        print(f"Testing Accuracy: {result['accuracy']}")
    if args.save:
        try:
            net.save(args.save)
        except OSError as exc:
            raise ValueError(f"cannot save to {args.save}: {exc.strerror or exc}") from None
        print(f"saved the model to {args.save}")
    if args.json:
        facts = {
            "task": dataset.task,
            "rows": len(dataset.y),
            "features": [str(f) for f in dataset.feature_names],
            "inputs": parts.preprocessor.input_names(),
            "warnings": warnings,
            "test": result,
            "epochs": net.epochs_trained,
        }
        print(json.dumps(facts))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command; return 0 or 1 (diverged). Bad arguments or data print a message on
    stderr and raise ``SystemExit(2)``, as argparse does for its own errors."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return train(args)
    except (ValueError, OSError) as exc:
        parser.exit(2, f"error: {exc}\n")
    except KeyboardInterrupt:
        parser.exit(130, "interrupted\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
