"""Write data/Iris.csv in the article's Kaggle format from scikit-learn's bundled Iris.

Run from the repository root: ``python data/make_iris_csv.py``.

scikit-learn's copy follows Fisher's paper, so rows 35 and 38 differ in one or two values from
the UCI/Kaggle file (which carries two known transcription errors); everything else is the same.
"""

from pathlib import Path

import pandas as pd
from sklearn.datasets import load_iris

COLUMNS = ["SepalLengthCm", "SepalWidthCm", "PetalLengthCm", "PetalWidthCm"]


def main() -> None:
    """Write the 150 rows with an ``Id`` column and ``Iris-`` species names."""
    iris = load_iris()
    df = pd.DataFrame(iris.data, columns=COLUMNS)
    df.insert(0, "Id", range(1, len(df) + 1))
    df["Species"] = [f"Iris-{iris.target_names[t]}" for t in iris.target]
    df.to_csv(Path(__file__).with_name("Iris.csv"), index=False)


if __name__ == "__main__":
    main()
