"""Real-looking tables end to end: roles and gaps on loading, sampling a long file, the
preprocessing fitted on the training rows, quality against scikit-learn, and the command line.

The tables are made by tests/data/make_tables.py (penguins, passengers, cars, a leaky table and
a 30,000-row file) and committed in tests/data/tables/.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nn
from nn import cli, data, presets
from nn import columns as cols
from nn.preprocess import MISSING, Preprocessor

ROOT = Path(__file__).resolve().parent.parent
TABLES = ROOT / "tests" / "data" / "tables"

_spec = importlib.util.spec_from_file_location("make_tables", TABLES.parent / "make_tables.py")
make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make)

PENGUIN_FEATURES = [
    "island",
    "bill_length_mm",
    "bill_depth_mm",
    "flipper_length_mm",
    "body_mass_g",
    "sex",
    "year",
]


def path(name: str) -> Path:
    return TABLES / f"{name}.csv"


def read(name: str) -> pd.DataFrame:
    """The file as pandas reads it: the reference for counts of rows and gaps."""
    return pd.read_csv(path(name))


def column(ds: data.Dataset, name: str) -> np.ndarray:
    return ds.X[:, ds.feature_names.index(name)]


def test_the_tables_are_committed_as_generated_and_small():
    made = make.tables()
    assert sorted(made) == sorted(p.name for p in TABLES.glob("*.csv"))
    for name, content in made.items():
        assert path(name.removesuffix(".csv")).read_bytes() == content, (
            f"{name}: run python tests/data/make_tables.py"
        )
        limit = 1_500_000 if name == "large.csv" else 100_000
        assert len(content) < limit, name
    assert make.tables()["penguins.csv"] == made["penguins.csv"]  # the same bytes every time


# ---- loading: roles, kinds, notes, gaps ----


def test_penguins_species_is_the_target_by_name_and_the_rowid_is_skipped():
    frame = read("penguins")
    info = {c.name: c for c in cols.describe(frame)}
    assert info["species"].role == cols.TARGET and "name" in info["species"].reason
    assert info["rowid"].type == cols.IDENTIFIER and info["rowid"].role == cols.SKIP
    assert info["year"].type == cols.NUMERIC and info["year"].few_values
    ds = data.load_table(path("penguins"))
    assert ds.feature_names == PENGUIN_FEATURES
    assert ds.kinds == ["categorical", *["numeric"] * 4, "categorical", "numeric"]
    assert ds.categories == {"island": ["Biscoe", "Dream", "Torgersen"], "sex": ["female", "male"]}
    assert ds.class_names == ["Adelie", "Chinstrap", "Gentoo"]
    no_species = int(frame["species"].isna().sum())
    assert no_species == 3 and len(ds.y) == len(frame) - 3
    assert "3 row(s) without a value in species were dropped." in ds.notes
    assert any(n.startswith("Not used: rowid (") for n in ds.notes)
    # the gaps stay gaps, the categories come back as the file's labels
    kept = frame[frame["species"].notna()].reset_index(drop=True)
    for name in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"):
        gaps = np.isnan(column(ds, name))
        assert gaps.sum() == kept[name].isna().sum() > 0, name
        np.testing.assert_array_equal(column(ds, name)[~gaps], kept[name].dropna().to_numpy())
    table = ds.table()
    assert list(table["island"]) == list(kept["island"])
    assert table["sex"].isna().sum() == kept["sex"].isna().sum() > 0
    assert list(table["sex"].dropna()) == list(kept["sex"].dropna())
    assert ds.is_table


def test_penguins_with_missing_drop_loses_exactly_the_rows_with_a_gap():
    kept = read("penguins").dropna(subset=["species"])
    with_gap = int(kept[PENGUIN_FEATURES].isna().any(axis=1).sum())
    assert with_gap > 0
    ds = data.load_table(path("penguins"), missing="drop")
    assert len(ds.y) == len(kept) - with_gap
    assert f"{with_gap:,} row(s) with a gap were dropped." in ds.notes
    assert not np.isnan(ds.X).any()


def test_penguins_roles_and_types_can_be_overridden():
    ds = data.load_table(path("penguins"), roles={"island": "skip"}, types={"year": "categorical"})
    assert "island" not in ds.feature_names and "island" not in ds.categories
    assert ds.categories["year"] == ["2007", "2008", "2009"]
    assert ds.feature_kinds()["year"] == "categorical"
    with pytest.raises(ValueError, match="no column 'nope'"):
        data.load_table(path("penguins"), roles={"nope": "skip"})


def test_passengers_ids_names_and_the_cabin_are_skipped_with_their_reasons():
    frame = read("passengers")
    ds = data.load_table(path("passengers"))
    assert ds.class_names == ["0", "1"]  # Survived, picked by its name
    np.testing.assert_array_equal(ds.y, frame["Survived"].to_numpy())
    info = {c.name: c for c in cols.describe(frame)}
    assert info["Survived"].role == cols.TARGET
    assert (info["PassengerId"].type, info["Name"].type) == (cols.IDENTIFIER, cols.IDENTIFIER)
    assert info["Cabin"].type == cols.FREE_TEXT and info["Cabin"].missing > len(frame) / 2
    assert info["Alone"].type == cols.BOOLEAN
    assert ds.feature_names == [
        "Pclass",
        "Sex",
        "Age",
        "SibSp",
        "Parch",
        "Fare",
        "Embarked",
        "Alone",
    ]
    assert ds.feature_kinds() == {
        "Pclass": "numeric",
        "Sex": "categorical",
        "Age": "numeric",
        "SibSp": "numeric",
        "Parch": "numeric",
        "Fare": "numeric",
        "Embarked": "categorical",
        "Alone": "categorical",
    }
    assert ds.categories == {
        "Sex": ["female", "male"],
        "Embarked": ["C", "Q", "S"],
        "Alone": ["False", "True"],
    }
    (skipped,) = [n for n in ds.notes if n.startswith("Not used:")]
    for name in ("PassengerId (", "Name (", "Cabin (text with"):
        assert name in skipped
    assert np.isnan(column(ds, "Age")).sum() == frame["Age"].isna().sum()
    assert 0.15 < np.isnan(column(ds, "Age")).mean() < 0.25
    assert np.isnan(column(ds, "Embarked")).sum() == 2
    assert np.isnan(ds.X).sum() == frame["Age"].isna().sum() + 2  # no other gap
    # dropping rows with a gap looks at the features only, not at the skipped, mostly empty Cabin
    dropped = data.load_table(path("passengers"), missing="drop")
    with_gap = int(frame[["Age", "Embarked"]].isna().any(axis=1).sum())
    assert len(dropped.y) == len(frame) - with_gap
    assert f"{with_gap:,} row(s) with a gap were dropped." in dropped.notes


def test_cars_origin_is_the_last_text_column_and_the_model_text_is_skipped():
    frame = read("cars")
    assert frame["model"].is_unique
    target, why = cols.default_target(frame)
    assert target == "origin" and "last text column" in why
    ds = data.load_table(path("cars"))
    assert ds.class_names == ["europe", "japan", "usa"]
    assert "model" not in ds.feature_names and "origin" not in ds.feature_names
    assert any(n.startswith("Not used: model (") for n in ds.notes)
    assert ds.feature_kinds()["maker"] == "categorical"
    assert ds.categories["maker"] == sorted(frame["maker"].unique())
    assert ds.feature_kinds()["cylinders"] == "numeric"
    assert np.isnan(column(ds, "horsepower")).sum() == 6
    assert np.isnan(ds.X).sum() == 6


def test_leaky_outcome_is_the_target_and_its_copy_is_flagged():
    ds = data.load_table(path("leaky"))
    assert ds.class_names == ["no", "yes"]  # "outcome", not "outcome_code"
    assert ds.feature_names == ["age", "income", "visits", "outcome_code"]
    assert ds.categories == {"outcome_code": ["N", "Y"]}
    np.testing.assert_array_equal(column(ds, "outcome_code"), ds.y)  # the answer in disguise
    assert ds.notes == []
    parts = data.split(ds, seed=0, stratify=True)
    found = cols.leaks(ds.table(parts.raw_train), parts.y_train, ds.feature_kinds())
    assert [leak.column for leak in found] == ["outcome_code"]


# ---- a long file ----


def test_a_long_file_is_sampled_by_class_with_its_seed():
    full = data.load_table(path("large"))
    assert len(full.y) == 30_000 and full.notes == []
    shares = np.bincount(full.y) / len(full.y)
    assert 0.2 < shares[full.class_names.index("spam")] < 0.3
    ds = data.load_table(path("large"), max_rows=5000, seed=3)
    assert ds.X.shape == (5000, 4) and len(ds.y) == 5000
    counts = np.bincount(ds.y, minlength=2)
    np.testing.assert_allclose(counts / 5000, shares, atol=0.01)
    # stratified: each class's count is its share of 5000, rounded one way or the other
    assert np.all(np.abs(counts - shares * 5000) <= 1)
    assert ds.notes == [
        "Of its 30,000 usable rows, this uses a random sample of 5,000, stratified by class "
        "(seed 3)."
    ]
    rows = {tuple(r) for r in full.X}
    assert all(tuple(r) in rows for r in ds.X)  # rows of the file, not made up
    again = data.load_table(path("large"), max_rows=5000, seed=3)
    np.testing.assert_array_equal(again.X, ds.X)
    np.testing.assert_array_equal(again.y, ds.y)
    other = data.load_table(path("large"), max_rows=5000, seed=4)
    assert not np.array_equal(other.X, ds.X)
    assert "(seed 4)" in other.notes[0]


# ---- split and preprocessing ----


@pytest.mark.parametrize("name", ["penguins", "passengers", "cars"])
@pytest.mark.parametrize(
    ("numeric_fill", "category_fill", "indicators"),
    [("median", "category", False), ("mean", "most_frequent", True)],
)
def test_the_network_inputs_have_no_gaps(name, numeric_fill, category_fill, indicators):
    ds = data.load_table(path(name))
    assert np.isnan(ds.X).any()
    parts = data.split(
        ds,
        seed=1,
        stratify=True,
        standardize=True,
        numeric_fill=numeric_fill,
        category_fill=category_fill,
        indicators=indicators,
    )
    for X in (parts.X_train, parts.X_val, parts.X_test):
        assert np.isfinite(X).all()
        assert X.shape[1] == parts.preprocessor.n_inputs > ds.X.shape[1]
    names = parts.preprocessor.input_names()
    gappy = [f for f, k in ds.feature_kinds().items() if k == "numeric"]
    gappy = [f for f in gappy if np.isnan(column(ds, f)).any()]
    train_gaps = ds.table(parts.raw_train)
    for f in gappy:
        expected = indicators and bool(train_gaps[f].isna().any())
        assert (f"{f} (missing)" in names) == expected
    # every training-row category, and only those, has an input
    for f, k in ds.feature_kinds().items():
        if k != "categorical":
            continue
        seen = set(train_gaps[f].dropna())
        if train_gaps[f].isna().any() and category_fill == "category":
            seen.add(MISSING)
        assert {n.split("=", 1)[1] for n in names if n.startswith(f"{f}=")} == seen


def test_split_inputs_are_the_preprocessor_applied_to_the_raw_rows_as_a_table():
    ds = data.load_table(path("passengers"))
    parts = data.split(ds, seed=2, stratify=True, standardize=True)
    for raw, X in ((parts.raw_train, parts.X_train), (parts.raw_test, parts.X_test)):
        np.testing.assert_array_equal(parts.preprocessor.transform(ds.table(raw)), X)
    assert parts.preprocessor.unseen(ds.table(parts.raw_test)) == {}


def penguins_with_a_new_island_in_the_test_rows() -> tuple[data.Dataset, data.Split]:
    """Penguins whose last rows (the test part of an unshuffled split) live on Atlantis."""
    frame = read("penguins").dropna(subset=["species"]).reset_index(drop=True)
    n_test = data.split_sizes(len(frame))["test"]
    frame.loc[len(frame) - 4 :, "island"] = "Atlantis"
    assert n_test >= 4
    ds = data.load_table(frame.to_csv(index=False).encode())
    return ds, data.split(ds, shuffle=False, standardize=True)


def test_one_hot_columns_are_learned_on_the_training_rows_only():
    ds, parts = penguins_with_a_new_island_in_the_test_rows()
    assert "Atlantis" in ds.categories["island"]  # the whole file has it...
    names = parts.preprocessor.input_names()
    island = [i for i, n in enumerate(names) if n.startswith("island=")]
    assert [names[i] for i in island] == ["island=Biscoe", "island=Dream", "island=Torgersen"]
    test_rows = ds.table(parts.raw_test)
    atlantis = (test_rows["island"] == "Atlantis").to_numpy()
    assert atlantis.sum() == 4
    assert np.all(parts.X_test[np.ix_(atlantis, island)] == 0)  # ...the inputs do not
    assert np.all(parts.X_test[np.ix_(~atlantis, island)].sum(axis=1) == 1)
    assert parts.preprocessor.unseen(test_rows) == {"island": ["Atlantis"]}
    assert parts.preprocessor.unseen(ds.table(parts.raw_train)) == {}


def modern_network(parts: data.Split, n_classes: int, seed: int) -> tuple[nn.Network, dict]:
    """The modern preset sized to the data; returns the network and its training settings."""
    config = copy.deepcopy(presets.MODERN["network"])
    config["layers"] = [parts.X_train.shape[1], *config["layers"][1:-1], n_classes]
    config["seed"] = seed
    return nn.Network.from_config(config), copy.deepcopy(presets.MODERN["training"])


def test_the_preprocessor_round_trips_and_a_saved_model_predicts_the_same(tmp_path):
    ds = data.load_table(path("passengers"))
    parts = data.split(ds, seed=0, stratify=True, standardize=True, indicators=True)
    pre = parts.preprocessor
    back = Preprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    assert back == pre and back.input_names() == pre.input_names()
    raw_test = ds.table(parts.raw_test)
    np.testing.assert_array_equal(back.transform(raw_test), parts.X_test)

    net, training = modern_network(parts, ds.n_classes, seed=0)
    training["epochs"] = 5
    net.fit(parts.X_train, parts.y_train, seed=0, **training)
    net.preprocessor, net.metadata = pre, ds.names()
    net.save(tmp_path / "passengers.npz")
    loaded = nn.Network.load(tmp_path / "passengers.npz")
    assert loaded.preprocessor == pre
    expected = net.predict_proba(parts.X_test)
    np.testing.assert_array_equal(
        loaded.predict_proba(loaded.preprocessor.transform(raw_test)), expected
    )
    # rows as plain lists of raw values (labels and None for gaps), in the feature order
    rows = raw_test.astype(object).where(raw_test.notna(), None).to_numpy().tolist()
    np.testing.assert_array_equal(
        loaded.predict(loaded.preprocessor.transform(rows)), expected.argmax(axis=1)
    )
    assert len(set(expected.argmax(axis=1))) == 2  # not one answer for every row


# ---- quality ----


def accuracies(name: str, seed: int) -> tuple[float, float]:
    """Test accuracy of the modern preset and of scikit-learn's MLPClassifier set up alike,
    on the same standardized, stratified split."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    ds = data.load_table(path(name))
    parts = data.split(ds, seed=seed, stratify=True, standardize=True)
    net, training = modern_network(parts, ds.n_classes, seed)
    epochs = training.pop("epochs")
    net.fit(parts.X_train, parts.y_train, epochs=epochs, seed=seed, **training)
    ours = net.evaluate(parts.X_test, parts.y_test)["accuracy"]
    assert training["optimizer"] == "adam" and net.config["activation"] == "relu"
    mlp = MLPClassifier(
        hidden_layer_sizes=tuple(net.config["layers"][1:-1]),
        activation="relu",
        solver="adam",
        learning_rate_init=training["learning_rate"],
        batch_size=training["batch_size"],
        max_iter=epochs,
        alpha=training["l2"],
        shuffle=True,
        n_iter_no_change=epochs + 1,  # every epoch runs, as ours do
        tol=0.0,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(parts.X_train, parts.y_train)
    return ours, float(np.mean(mlp.predict(parts.X_test) == parts.y_test))


@pytest.mark.parametrize(("name", "floor"), [("penguins", 0.9), ("passengers", 0.75)])
def test_the_modern_preset_is_as_good_as_scikit_learn(name, floor):
    ours, theirs = np.median([accuracies(name, seed) for seed in range(5)], axis=0)
    assert theirs >= floor  # the table is learnable: the comparison means something
    assert ours >= theirs - 0.03, (ours, theirs)


# ---- the command line ----

PENGUINS_ARGS = ["train", "--data", str(path("penguins")), "--target", "species"]
PENGUINS_ARGS += ["--preset", "modern", "--standardize", "--epochs", "30", "--json"]


def run_cli(args: list[str], capsys) -> tuple[dict, str]:
    """The JSON facts of a run (its last line of output) and what it wrote on stderr."""
    assert cli.main(args) == 0
    out, err = capsys.readouterr()
    return json.loads(out.strip().splitlines()[-1]), err


def test_the_cli_trains_on_a_table_and_reports_it_as_json(capsys):
    facts, err = run_cli(PENGUINS_ARGS, capsys)
    assert facts["task"] == "classification"
    assert facts["rows"] == 341 and facts["epochs"] == 30
    assert facts["features"] == PENGUIN_FEATURES  # no rowid
    assert len(facts["inputs"]) > len(facts["features"])
    assert {"island=Biscoe", "island=Dream", "island=Torgersen", "sex=male"} <= set(facts["inputs"])
    assert "year" in facts["inputs"] and "rowid" not in facts["inputs"]
    assert facts["test"]["accuracy"] > 0.8 and facts["test"]["loss"] > 0
    assert "3 row(s) without a value in species were dropped." in facts["warnings"]
    assert "note: 3 row(s) without a value in species were dropped." in err
    assert not any("predicts the target" in w for w in facts["warnings"])


def test_the_cli_drops_columns_and_makes_categories(capsys):
    facts, _ = run_cli([*PENGUINS_ARGS, "--drop", "island", "--categorical", "year"], capsys)
    assert facts["features"] == [f for f in PENGUIN_FEATURES if f != "island"]
    assert not any(i.startswith("island") for i in facts["inputs"])
    assert {"year=2007", "year=2008", "year=2009"} <= set(facts["inputs"])
    assert "year" not in facts["inputs"]


def test_the_cli_drops_rows_with_gaps_on_request(capsys):
    facts, err = run_cli([*PENGUINS_ARGS, "--missing", "drop"], capsys)
    assert facts["rows"] < 341
    dropped = 341 - facts["rows"]
    assert f"{dropped} row(s) with a gap were dropped." in facts["warnings"]
    assert "sex=(missing)" not in facts["inputs"]
    assert "note: " in err


def test_the_cli_fills_each_columns_gaps_its_own_way(tmp_path, capsys):
    model = tmp_path / "penguins.npz"
    args = [*PENGUINS_ARGS, "--fill", "body_mass_g=4000,bill_length_mm=mean,sex=most_frequent"]
    facts, _ = run_cli([*args, "--indicators", "--save", str(model)], capsys)
    assert "sex=(missing)" not in facts["inputs"]  # a gap became the most frequent sex
    assert {"body_mass_g (missing)", "flipper_length_mm (missing)"} <= set(facts["inputs"])
    steps = nn.Network.load(model).preprocessor
    assert steps.column("body_mass_g").fill == 4000.0
    assert steps.column("sex").fill in ("male", "female")
    frame = pd.read_csv(path("penguins")).dropna(subset=["species"])
    lengths = frame["bill_length_mm"]
    assert lengths.min() < steps.column("bill_length_mm").fill < lengths.max()
    assert steps.column("flipper_length_mm").fill in set(frame["flipper_length_mm"])  # a median


def test_the_cli_groups_rare_categories(capsys):
    args = ["train", "--data", str(path("cars")), "--target", "origin", "--preset", "modern"]
    args += ["--epochs", "2", "--json", "--drop", "model"]
    facts, _ = run_cli([*args, "--rare", "15"], capsys)
    makers = [i for i in facts["inputs"] if i.startswith("maker=")]
    assert "maker=(other)" in makers and "maker=ford" in makers and "maker=saab" not in makers
    plain, _ = run_cli(args, capsys)
    assert "maker=saab" in plain["inputs"] and "maker=(other)" not in plain["inputs"]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--fill", "sex=median"], "a gap in sex (categorical) becomes category or most_frequent"),
        (["--fill", "island=3"], "a gap in island (categorical)"),
        (["--fill", "body_mass_g=most_frequent"], "becomes median, mean or a number"),
        (["--fill", "nope=mean"], "--fill names nope, which is not a feature column"),
        (["--fill", "sex"], "--fill takes COLUMN=HOW"),
        (["--fill", "body_mass_g=nan"], "must be finite"),
        (["--rare", "-2"], "--rare must be at least 0"),
    ],
)
def test_the_cli_refuses_a_fill_that_cannot_work(extra, words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*PENGUINS_ARGS, *extra])
    assert exit_info.value.code == 2
    assert words in capsys.readouterr().err


def test_the_cli_refuses_an_unknown_column_with_exit_code_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*PENGUINS_ARGS, "--drop", "island,nope"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error: there is no column 'nope' in the file" in err
    assert "Traceback" not in err


def test_the_cli_warns_about_a_column_that_is_the_target_in_disguise(capsys):
    args = ["train", "--data", str(path("leaky")), "--preset", "modern", "--epochs", "2", "--json"]
    facts, err = run_cli(args, capsys)
    assert facts["features"] == ["age", "income", "visits", "outcome_code"]
    (warning,) = [w for w in facts["warnings"] if "predicts the target" in w]
    assert warning.startswith("outcome_code alone predicts the target 100% right")
    assert "warning: outcome_code alone" in err


def test_the_cli_samples_a_long_file_with_its_seed(capsys):
    args = ["train", "--data", str(path("large")), "--preset", "modern", "--epochs", "1"]
    facts, _ = run_cli([*args, "--max-rows", "2000", "--seed", "7", "--json"], capsys)
    assert facts["rows"] == 2000
    assert any("sample of 2,000" in w and "(seed 7)" in w for w in facts["warnings"])
