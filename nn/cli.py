"""Command line: ``python -m nn train`` reproduces the article; ``cv`` cross-validates it.

Both accept the same data, network and training overrides; ``cv`` runs ``nn.crossval``.

``train`` prints the article's log (training and validation accuracy every 20 epochs, and at
the last epoch) and the test accuracy; ``cv`` a table per fold and the mean and standard
deviation of every metric (``--json``: one line of JSON). Exit codes: 0 done, 1 training
diverged, 2 bad arguments or data.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nn import config, crossval, data, presets
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
    elif setting.is_text:
        options["type"] = _text_setting(setting)
        options["metavar"] = setting.name.upper()
    else:
        options["type"] = int if setting.kind == "int" else float
    return options


def _text_setting(setting: config.Setting):
    """An argparse type for a setting whose value is a short text (dropout rates, class
    weights): the text checked through the table, in its canonical form."""

    def parse(text: str) -> str:
        try:
            return setting.check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = setting.name  # what argparse names in its messages
    return parse


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


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """The data, network and training options that ``train`` and ``cv`` share."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", help="a CSV file (target: the last column unless --target)")
    source.add_argument("--dataset", choices=data.DATASETS, help="a bundled dataset instead")
    parser.add_argument("--target", help="the target column of --data")
    parser.add_argument("--n-samples", type=int, help="rows of a synthetic --dataset (300)")
    parser.add_argument("--noise", type=float, help="noise of a synthetic --dataset (0.2)")
    parser.add_argument("--preset", choices=sorted(presets.PRESETS), default="article")
    parser.add_argument("--layers", type=_layers, help="nodes per layer, e.g. 4,5,10,3")
    parser.add_argument("--activation", help="hidden activation (sigmoid, tanh, relu, ...)")
    parser.add_argument("--output-activation", help="sigmoid, softmax or linear")
    parser.add_argument("--loss", help="squared_error, cross_entropy or (regression) huber")
    parser.add_argument(
        "--task",
        choices=data.TASK_CHOICES,
        default="auto",
        help="classes or a number to predict (auto: from the target column)",
    )
    parser.add_argument("--init", help="uniform, xavier or he")
    parser.add_argument("--dtype", choices=("float64", "float32"))
    for name, setting in config.TRAINING.items():  # every training setting, from the table
        parser.add_argument(setting.cli_flag, **_flag_options(name, setting))
    parser.add_argument("--seed", type=int, default=0, help="shuffles, splits and initialises")


def _add_split_options(parser: argparse.ArgumentParser, names) -> None:
    """Flags for these settings of the split table (``config.SPLIT``)."""
    for name in names:
        parser.add_argument(config.SPLIT[name].cli_flag, **_flag_options(name, config.SPLIT[name]))


def _add_table_options(parser: argparse.ArgumentParser) -> None:
    """The options of a CSV table given with ``--data``."""
    table = parser.add_argument_group("tables (with --data)")
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m nn``."""
    parser = argparse.ArgumentParser(
        prog="python -m nn", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a network and print the article's log")
    _add_run_options(train)
    _add_split_options(train, [name for name in config.SPLIT if name != "seed"])  # shared --seed
    train.add_argument("--save", help="write the trained model to this .npz file")
    _add_table_options(train)
    train.add_argument(
        "--json", action="store_true", help="end with one line of JSON: the run's facts"
    )
    cv = sub.add_parser(
        "cv",
        help="k-fold cross-validation: a table per fold and the mean and std of every metric",
        description="Cross-validate the settings: every fold trains them from scratch on its "
        "own preprocessing (fitted on its training rows) and is scored on its held-out rows. "
        "Folds are stratified for classes. --val-size carves a validation part from each "
        "fold's training rows (default: the preset's when early stopping is on, else none).",
    )
    _add_run_options(cv)
    cv.add_argument(
        "--folds",
        type=int,
        default=5,
        help=f"number of folds, {crossval.MIN_FOLDS} to {crossval.MAX_FOLDS} (5)",
    )
    cv.add_argument("--repeats", type=int, default=1, help="repeat the folds, reshuffled (1)")
    cv.add_argument(
        "--jobs", type=int, default=1, help="worker processes that run folds at once (1)"
    )
    _add_split_options(cv, ["val_size", "standardize", "engineered"])
    _add_table_options(cv)
    cv.add_argument("--json", action="store_true", help="print the results as one line of JSON")
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
        if name != "seed" and getattr(args, name, None) is not None:
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


def load_data(args: argparse.Namespace) -> data.Dataset:
    """The dataset that ``--data`` (with the table options) or ``--dataset`` names (iris when
    neither); the arguments are checked together first. A table's notes go to stderr."""
    synthetic = {"n_samples": args.n_samples, "noise": args.noise}
    synthetic = {k: v for k, v in synthetic.items() if v is not None}
    if args.target is not None and not args.data:
        raise ValueError("--target applies to a CSV given with --data")
    if synthetic and args.dataset not in data.SYNTHETIC:
        raise ValueError(f"--n-samples and --noise apply to {', '.join(data.SYNTHETIC)}")
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
    if not args.data:
        return data.load_dataset(args.dataset or "iris", seed=args.seed, **synthetic)
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
    return dataset


def train(args: argparse.Namespace) -> int:
    """Load, split, build, train with the article's log, and report the test accuracy."""
    if args.save and not Path(args.save).resolve().parent.is_dir():
        raise ValueError(f"cannot save to {args.save}: the folder does not exist")
    dataset = load_data(args)
    s = settings_from_args(args, dataset.task)
    parts = data.split(dataset, seed=args.seed, **s["split"])
    warnings = list(dataset.notes)
    if args.data:
        warnings += _leak_warnings(dataset, parts.raw_train, parts.y_train)
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


def _leak_warnings(dataset: data.Dataset, raw, y) -> list[str]:
    """Features of these raw rows that alone predict the target, as sentences (also printed
    on stderr)."""
    from nn import columns

    found = []
    for leak in columns.leaks(dataset.table(raw), y, dataset.feature_kinds()):
        found.append(leak.sentence())
        print(f"warning: {leak.sentence()}", file=sys.stderr)
    return found


def cv(args: argparse.Namespace) -> int:
    """Cross-validate the settings: a table per fold and the mean and std of every metric, or
    one line of JSON. Returns 1 when a fold's training diverges."""
    dataset = load_data(args)
    s = settings_from_args(args, dataset.task)
    net, tr = s["network"], s["training"]
    if args.layers is None and net["layers"][-1] != dataset.n_outputs:
        net["layers"] = [*net["layers"][:-1], dataset.n_outputs]
    # A validation part costs training rows; by default only early stopping gets one.
    val_size = args.val_size
    if val_size is None:
        val_size = s["split"]["val_size"] if tr.get("early_stopping") else 0.0
    warnings = list(dataset.notes)
    if args.data:
        warnings += _leak_warnings(dataset, dataset.X, dataset.y)
    bar = _progress_bar if sys.stderr.isatty() else None
    try:
        result = crossval.cross_validate(
            dataset,
            net,
            tr,
            k=args.folds,
            repeats=args.repeats,
            seed=args.seed,
            standardize=s["split"]["standardize"],
            engineered=s["split"].get("engineered", "none"),
            val_size=val_size,
            n_jobs=args.jobs,
            progress=bar,
        )
    except DivergenceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    inputs = sorted({f.preprocessor.n_inputs for f in result.folds})  # one per category seen
    if len(inputs) == 1:
        net["layers"] = [inputs[0], *net["layers"][1:]]
    if args.json:
        facts = {
            "dataset": dataset.name,
            "rows": len(dataset.y),
            "features": [str(f) for f in dataset.feature_names],
            "network": net,
            "training": tr,
            "standardize": s["split"]["standardize"],
            "val_size": val_size,
            "warnings": warnings,
            **result.to_dict(history=False),
        }
        print(json.dumps(facts))
        return 0
    how = "stratified " if result.task == data.CLASSIFICATION else ""
    times = f" x {result.repeats} repeats" if result.repeats > 1 else ""
    print(
        f"{dataset!r}; {result.k}-fold {how}cross-validation{times}, seed {result.seed}; "
        f"network {net['layers']}"
    )
    names = ["fold", "repeat", "n_train", "n_val", "n_test", *result.metric_names, "epochs"]
    if result.repeats == 1:
        names.remove("repeat")
    if not any(f.n_val for f in result.folds):
        names.remove("n_val")
    print("  ".join(f"{n:>9}" for n in names))
    for row in result.table():
        cells = (f"{row[n]:>9.4f}" if isinstance(row[n], float) else f"{row[n]:>9}" for n in names)
        print("  ".join(cells))
    for name, stats in result.summary().items():
        digits = 1 if name == "epochs" else 4
        print(f"{name}: {stats['mean']:.{digits}f} ± {stats['std']:.{digits}f}")
    print(f"(mean ± standard deviation over {len(result.folds)} folds, ddof={crossval.DDOF})")
    return 0


def _progress_bar(done: int, total: int, width: int = 30) -> None:
    filled = width * done // total
    end = "\n" if done == total else ""
    bar = "#" * filled + "." * (width - filled)
    print(f"\r[{bar}] {done}/{total} folds", end=end, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the command; return 0 or 1 (diverged). Bad arguments or data print a message on
    stderr and raise ``SystemExit(2)``, as argparse does for its own errors."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return cv(args) if args.command == "cv" else train(args)
    except (ValueError, OSError) as exc:
        parser.exit(2, f"error: {exc}\n")
    except KeyboardInterrupt:
        parser.exit(130, "interrupted\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
