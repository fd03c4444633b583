"""Write the realistic tables in tests/data/tables/: categories, gaps, ids, free text, many rows.

Run ``python tests/data/make_tables.py`` to (re)write them; they are committed, and
tests/test_tables.py checks that the committed files are what this script makes. Every table is
drawn with ``numpy.random.default_rng`` and a fixed seed, and every number is written with a
fixed format, so running it again gives byte-identical files.

- ``penguins.csv``: 344 penguins like the Palmer penguins (a running ``rowid``, three species
  told apart by the measurements, the island tied to the species, a few % gaps, three rows
  without a species).
- ``passengers.csv``: 891 passengers like the Titanic's (``PassengerId``, unique names, 20% of
  ages missing, a mostly empty cabin, two gaps in ``Embarked``, ``Survived`` learnable).
- ``cars.csv``: 398 cars with a ``model`` text different on every row, a ``maker`` category and
  an ``origin`` (usa, europe, japan) named like nothing: the last text column is the target.
- ``leaky.csv``: 300 rows whose ``outcome_code`` (Y/N) is the target ``outcome`` (yes/no)
  spelled differently, with ordinary numeric features.
- ``large.csv``: 30,000 rows of four numbers and a ``label`` (a quarter "spam"): about 0.9 MB,
  small enough to commit; ``large_table()`` makes the same bytes at test time if needed.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

TABLES = Path(__file__).resolve().parent / "tables"


def to_csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def number(value: float, fmt: str) -> str:
    """``value`` written with ``fmt``, a gap (NaN) as an empty cell."""
    return "" if np.isnan(value) else format(value, fmt)


def with_gaps(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """A float copy of ``values`` with about ``share`` of them NaN."""
    out = np.asarray(values, dtype=np.float64).copy()
    out[rng.random(len(out)) < share] = np.nan
    return out


# ---- penguins ----

ISLANDS = ("Biscoe", "Dream", "Torgersen")
# count, island weights (Biscoe, Dream, Torgersen), means and standard deviations of
# bill length, bill depth, flipper length and body mass (close to the real table's)
SPECIES = {
    "Adelie": (152, (0.29, 0.37, 0.34), (38.8, 18.3, 190.0, 3700.0), (2.7, 1.2, 6.5, 460.0)),
    "Chinstrap": (68, (0.0, 1.0, 0.0), (48.8, 18.4, 195.8, 3733.0), (3.3, 1.1, 7.1, 384.0)),
    "Gentoo": (124, (1.0, 0.0, 0.0), (47.5, 15.0, 217.2, 5076.0), (3.1, 1.0, 6.5, 504.0)),
}


def penguins(seed: int = 1) -> bytes:
    """344 penguins in random order; 3 rows have no species, each measurement ~3% gaps."""
    rng = np.random.default_rng(seed)
    species, island, measures, sex = [], [], [], []
    for name, (count, weights, mean, sd) in SPECIES.items():
        species += [name] * count
        island += list(rng.choice(ISLANDS, count, p=weights))
        male = rng.random(count) < 0.5
        # a big penguin is big in every measure; size, sex and the rest add up to one sd
        size = rng.normal(size=(count, 1))
        z = 0.5 * size + 0.7 * rng.normal(size=(count, 4)) + np.where(male, 0.5, -0.5)[:, None]
        measures.append(np.array(mean) + z * np.array(sd))
        sex += ["male" if m else "female" for m in male]
    order = rng.permutation(len(species))
    species = np.array(species, dtype=object)[order]
    island = np.array(island, dtype=object)[order]
    sex = np.array(sex, dtype=object)[order]
    m = np.vstack(measures)[order]
    n = len(species)
    species[rng.choice(n, 3, replace=False)] = ""
    sex[rng.random(n) < 0.03] = ""
    columns = [with_gaps(rng, m[:, j], 0.03) for j in range(4)]
    year = rng.choice([2007, 2008, 2009], n)
    rows = [
        [
            str(i + 1),
            species[i],
            island[i],
            number(columns[0][i], ".1f"),
            number(columns[1][i], ".1f"),
            number(np.round(columns[2][i]), ".0f"),
            number(np.round(columns[3][i] / 25) * 25, ".0f"),
            sex[i],
            str(year[i]),
        ]
        for i in range(n)
    ]
    header = ["rowid", "species", "island", "bill_length_mm", "bill_depth_mm"]
    header += ["flipper_length_mm", "body_mass_g", "sex", "year"]
    return to_csv(header, rows)


# ---- passengers ----

# names separated by spaces (split where they are drawn)
SURNAMES = """Abbott Allen Andersson Baker Barber Beckwith Bishop Brown Carter Chapman Cook Davies
Dean Dodge Evans Fischer Ford Fortune Goldsmith Graham Green Hansen Harris Hart Hewlett Hocking
Jensen Johnson Jones Kelly Larsson Lefebre Lindqvist Mallet Moran Murphy Nasser Nilsson Olsen
Palsson Panula Peter Quick Rice Rogers Ryan Sage Sandstrom Skoog Smith Strom Taylor Thayer Turpin
Vander Ward West White Williams Wilson Young Zabour"""
MALE = """Albert Alfred Arthur Charles Edward Ernest Frank Frederick George Harry Henry Herbert
James John Joseph Karl Leo Patrick Peter Richard Robert Samuel Thomas Walter William"""
FEMALE = """Ada Alice Anna Annie Bertha Catherine Clara Edith Elizabeth Ellen Emily Florence
Grace Helen Ida Jane Julia Laura Margaret Mary Nora Rose Ruth Sarah Susan"""


def passengers(seed: int = 2) -> bytes:
    """891 passengers; survival follows sex, class and age (women, first class and children)."""
    rng = np.random.default_rng(seed)
    n = 891
    pclass = rng.choice([1, 2, 3], n, p=[0.24, 0.21, 0.55])
    female = rng.random(n) < 0.35
    age = np.clip(rng.normal(28 + 8 * (pclass == 1), 13, n), 0.42, 80)
    child = age < 13
    sibsp = rng.choice(6, n, p=[0.68, 0.23, 0.03, 0.02, 0.02, 0.02])
    parch = np.where(child, rng.choice([1, 2], n), rng.choice(5, n, p=[0.8, 0.1, 0.08, 0.01, 0.01]))
    base = np.array([0.0, 84.0, 21.0, 13.0])[pclass]
    fare = base * rng.lognormal(0.0, 0.4, n) * (1 + 0.2 * (sibsp + parch))
    embarked = rng.choice(np.array(["S", "C", "Q"], dtype=object), n, p=[0.72, 0.19, 0.09])
    embarked[rng.choice(n, 2, replace=False)] = ""
    # 150 cabins for about 200 passengers: shared by some, more than 50 different (free text)
    pool = [f"{deck}{room}" for deck in "ABCDEFG" for room in range(2, 150, 7)]
    pool = list(rng.choice(pool, 150, replace=False))
    has_cabin = rng.random(n) < np.array([0.0, 0.8, 0.1, 0.03])[pclass]
    cabin = np.where(has_cabin, rng.choice(pool, n), "")
    logit = -2.0 + 4.0 * female - 1.8 * (pclass - 2) - 0.03 * (age - 30) + 2.5 * child
    logit -= 1.0 * (sibsp > 2)
    # sharpened so that a network is right about 84% of the time (the real table: about 80%)
    survived = rng.random(n) < 1 / (1 + np.exp(-2.5 * logit))
    names, seen = [], set()
    for i in range(n):
        if female[i]:
            title, first = ("Miss" if age[i] < 18 else rng.choice(["Miss", "Mrs"])), FEMALE.split()
        else:
            title, first = ("Master" if child[i] else "Mr"), MALE.split()
        name = f"{rng.choice(SURNAMES.split())}, {title}. {rng.choice(first)}"
        while name in seen:  # a middle name until the name is new
            name += f" {rng.choice(first)}"
        seen.add(name)
        names.append(name)
    age_out = with_gaps(rng, age, 0.2)
    rows = [
        [
            str(i + 1),
            str(int(survived[i])),
            str(pclass[i]),
            names[i],
            "female" if female[i] else "male",
            number(age_out[i], ".0f" if age_out[i] >= 1 else ".2f"),
            str(sibsp[i]),
            str(parch[i]),
            number(fare[i], ".4f"),
            embarked[i],
            cabin[i],
            str(bool(sibsp[i] + parch[i] == 0)),
        ]
        for i in range(n)
    ]
    header = ["PassengerId", "Survived", "Pclass", "Name", "Sex", "Age", "SibSp", "Parch"]
    header += ["Fare", "Embarked", "Cabin", "Alone"]
    return to_csv(header, rows)


# ---- cars ----

MAKERS = {
    "usa": ["ford", "chevrolet", "plymouth", "dodge", "amc", "buick", "pontiac", "mercury"],
    "europe": ["volkswagen", "peugeot", "fiat", "volvo", "audi", "opel", "renault", "saab"],
    "japan": ["toyota", "datsun", "honda", "mazda", "subaru"],
}
CYLINDERS = {"usa": ([4, 6, 8], [0.3, 0.3, 0.4]), "europe": ([4, 5, 6], [0.9, 0.05, 0.05])}
CYLINDERS["japan"] = ([3, 4, 6], [0.03, 0.9, 0.07])
MODELS = """custom deluxe wagon sedan coupe sport special brougham limited classic gl dl ltd
super royal rally turbo diesel"""


def cars(seed: int = 3) -> bytes:
    """398 cars; the origin shows in the maker and, less, in size, weight and economy."""
    rng = np.random.default_rng(seed)
    n = 398
    origin = rng.choice(np.array(list(MAKERS), dtype=object), n, p=[0.62, 0.18, 0.20])
    maker = np.array([rng.choice(MAKERS[o]) for o in origin], dtype=object)
    cylinders = np.array([rng.choice(CYLINDERS[o][0], p=CYLINDERS[o][1]) for o in origin])
    per_cylinder = np.where(origin == "usa", 42.0, 30.0)
    displacement = cylinders * per_cylinder * rng.lognormal(0, 0.1, n)
    horsepower = 30 + 0.45 * displacement * rng.lognormal(0, 0.1, n)
    weight = 1500 + 8 * displacement + rng.normal(0, 200, n)
    acceleration = 21 - horsepower / 25 + rng.normal(0, 1.2, n)
    year = rng.integers(70, 83, n)
    mpg = np.clip(48 - weight / 130 + 0.7 * (year - 70) + rng.normal(0, 2.5, n), 9, 47)
    horsepower[rng.choice(n, 6, replace=False)] = np.nan
    counts: dict[str, int] = {}
    model = []
    for i in range(n):
        stem = f"{maker[i]} {rng.choice(MODELS.split())} {year[i]}"
        counts[stem] = counts.get(stem, 0) + 1
        model.append(f"{stem} #{counts[stem]}")
    rows = [
        [
            number(mpg[i], ".1f"),
            str(cylinders[i]),
            number(displacement[i], ".0f"),
            number(horsepower[i], ".0f"),
            number(weight[i], ".0f"),
            number(acceleration[i], ".1f"),
            str(year[i]),
            maker[i],
            model[i],
            origin[i],
        ]
        for i in range(n)
    ]
    header = ["mpg", "cylinders", "displacement", "horsepower", "weight", "acceleration"]
    header += ["model_year", "maker", "model", "origin"]
    return to_csv(header, rows)


# ---- leaky ----


def leaky(seed: int = 4) -> bytes:
    """300 rows: ``outcome`` yes/no (about 40% yes), ``outcome_code`` the same as Y/N."""
    rng = np.random.default_rng(seed)
    n = 300
    yes = rng.random(n) < 0.4
    age = rng.normal(45, 12, n) + 5 * yes
    income = rng.lognormal(10.5, 0.4, n)
    visits = rng.poisson(2 + 2 * yes)
    rows = [
        [
            number(age[i], ".0f"),
            number(income[i], ".0f"),
            str(visits[i]),
            "Y" if yes[i] else "N",
            "yes" if yes[i] else "no",
        ]
        for i in range(n)
    ]
    return to_csv(["age", "income", "visits", "outcome_code", "outcome"], rows)


# ---- large ----


def large_table(n: int = 30_000, seed: int = 5) -> bytes:
    """``n`` rows of x1..x4 and a ``label``: a quarter "spam", shifted in x1 and x2."""
    rng = np.random.default_rng(seed)
    spam = rng.random(n) < 0.25
    X = rng.normal(size=(n, 4))
    X[:, 0] += 1.5 * spam
    X[:, 1] -= 1.0 * spam
    label = np.where(spam, "spam", "ham")
    rows = [[*(f"{v:.3f}" for v in X[i]), label[i]] for i in range(n)]
    return to_csv(["x1", "x2", "x3", "x4", "label"], rows)


def tables() -> dict[str, bytes]:
    """File name -> content of every table."""
    return {
        "penguins.csv": penguins(),
        "passengers.csv": passengers(),
        "cars.csv": cars(),
        "leaky.csv": leaky(),
        "large.csv": large_table(),
    }


def main() -> None:
    TABLES.mkdir(parents=True, exist_ok=True)
    made = tables()
    for name, content in made.items():
        (TABLES / name).write_bytes(content)
        print(f"{name}: {len(content):,} bytes")
    print(f"wrote {len(made)} files to {TABLES}")


if __name__ == "__main__":
    main()
