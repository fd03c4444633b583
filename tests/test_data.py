"""nn.data: CSV loading and its errors, bundled and synthetic sets, the article's split."""

import io

import numpy as np
import pytest

import nn
from nn import data

GOOD = b"a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n"


def test_iris_csv_is_the_articles_kaggle_format():
    text = (data.DATA_DIR / "Iris.csv").read_text().splitlines()
    assert text[0] == "Id,SepalLengthCm,SepalWidthCm,PetalLengthCm,PetalWidthCm,Species"
    assert len(text) == 151
    ds = data.load_dataset("iris")
    assert ds.X.shape == (150, 4)
    assert ds.feature_names == ["SepalLengthCm", "SepalWidthCm", "PetalLengthCm", "PetalWidthCm"]
    assert ds.class_names == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    assert np.bincount(ds.y).tolist() == [50, 50, 50]


def test_load_csv_from_bytes_path_and_file_like(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(GOOD)
    for source in (GOOD, path, str(path), io.BytesIO(GOOD), io.StringIO(GOOD.decode())):
        ds = data.load_csv(source)
        assert ds.X.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]]
        assert ds.y.tolist() == [0, 1, 0, 1]
        assert ds.feature_names == ["a", "b"]
        assert ds.class_names == ["x", "y"]


def test_id_column_is_dropped_and_target_can_be_named():
    with pytest.raises(ValueError, match="non-numeric feature column"):
        data.load_csv(b"Id,a,t,b\n1,0.5,p,1\n2,0.7,q,2\n3,0.1,p,3\n")
    ds = data.load_csv(b"Id,a,t,b\n1,0.5,p,1\n2,0.7,q,2\n3,0.1,p,3\n", target="t")
    assert ds.feature_names == ["a", "b"]
    assert ds.class_names == ["p", "q"]
    # an "id" that is not a running index is a real feature
    ds = data.load_csv(b"id,a,t\n7,0.5,p\n3,0.7,q\n9,0.1,p\n")
    assert ds.feature_names == ["id", "a"]


def test_numeric_target_and_semicolon_free_whitespace():
    ds = data.load_csv(b"f1, f2, y\n1, 2, 0\n3, 4, 1\n5, 6, 2\n")
    assert ds.feature_names == ["f1", "f2"]
    assert ds.class_names == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"a,b,c\n", "no data rows"),
        (b"\x00\x01\x02\x03binary\x00junk", "binary"),
        (b"a,b,c\n1,2\n3,4,5,6\n", "not a readable CSV"),
        (b"a,b,c\nx,y,p\nz,w,q\n", "no numeric feature column"),
        (b"a,b,c\n1,hello,p\n2,world,q\n", "non-numeric feature column(s): b"),
        (b"a,b,c\n1,,p\n2,3,q\n", "missing values in column(s): b"),
        (b"a,b,c\n1,2,p\n2,3,p\n", "single class"),
        (b"a\n1\n2\n", "at least two columns"),
        (b"a,b,c\n1,2,p\n", "single class"),
        (b"a,b,c\n1,2,p\n3,4,q\n", None),
    ],
)
def test_bad_csvs_raise_value_error_naming_the_problem(content, words):
    if words is None:
        assert data.load_csv(content).X.shape == (2, 2)
        return
    with pytest.raises(ValueError) as info:
        data.load_csv(content)
    assert words in str(info.value)


def test_missing_target_and_caps():
    with pytest.raises(ValueError, match="target column 'nope' does not exist"):
        data.load_csv(GOOD, target="nope")
    with pytest.raises(ValueError, match="more than 3 rows"):
        data.load_csv(GOOD, max_rows=3)
    with pytest.raises(ValueError, match="3 columns; the limit is 2"):
        data.load_csv(GOOD, max_columns=2)
    assert data.load_csv(GOOD, max_rows=4, max_columns=3).X.shape == (4, 2)


def test_too_few_rows_to_split():
    X, y = np.zeros((3, 2)), np.array([0, 1, 2])
    with pytest.raises(ValueError, match="too few"):
        data.split((X, y), test_size=0.3, stratify=True)
    with pytest.raises(ValueError, match="too few to split"):
        data.split((X[:1], y[:1]), test_size=0.5)


def test_latin1_and_utf16_text_is_read():
    assert data.load_csv("é,b,c\n1,2,p\n3,4,q\n".encode("latin-1")).feature_names == ["é", "b"]
    assert data.load_csv("a,b,c\n1,2,p\n3,4,q\n".encode("utf-16")).X.shape == (2, 2)


@pytest.mark.parametrize(
    ("name", "shape", "k"),
    [
        ("iris", (150, 4), 3),
        ("wine", (178, 13), 3),
        ("breast_cancer", (569, 30), 2),
        ("digits", (1797, 64), 10),
    ],
)
def test_bundled_sets(name, shape, k):
    ds = data.load_dataset(name)
    assert ds.X.shape == shape and ds.n_classes == k and ds.y.max() == k - 1
    assert len(ds.feature_names) == shape[1]


@pytest.mark.parametrize("name", data.SYNTHETIC)
def test_synthetic_sets_follow_count_noise_and_seed(name):
    a = data.load_dataset(name, n_samples=120, noise=0.1, seed=3)
    b = data.load_dataset(name, n_samples=120, noise=0.1, seed=3)
    c = data.load_dataset(name, n_samples=120, noise=0.1, seed=4)
    assert a.X.shape == (120, 2)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)
    assert a.n_classes == (3 if name in ("spiral", "blobs") else 2)
    assert np.bincount(a.y).min() > 10


def test_unknown_dataset_and_bad_synthetic_params():
    with pytest.raises(ValueError, match="unknown dataset 'mnist'"):
        data.load_dataset("mnist")
    with pytest.raises(ValueError, match="n_samples"):
        data.load_dataset("moons", n_samples=2)
    with pytest.raises(ValueError, match="noise"):
        data.load_dataset("moons", noise=-1)


def test_split_sizes_match_the_article():
    ds = data.load_dataset("iris")
    parts = data.split(ds, **nn.presets.ARTICLE["split"])
    assert (len(parts.X_train), len(parts.X_val), len(parts.X_test)) == (114, 13, 23)
    assert data.split_sizes(150) == {"train": 114, "validation": 13, "test": 23}
    assert parts.sizes == data.split_sizes(150)
    rows = np.vstack([parts.X_train, parts.X_val, parts.X_test])
    assert sorted(map(tuple, rows)) == sorted(map(tuple, ds.X))


def test_split_is_reproducible_and_seeded():
    ds = data.load_dataset("iris")
    a, b, c = data.split(ds, seed=1), data.split(ds, seed=1), data.split(ds, seed=2)
    assert np.array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_test, c.X_test)


def test_stratify_keeps_class_shares():
    ds = data.load_dataset("iris")
    parts = data.split(ds, test_size=0.2, val_size=0.0, stratify=True, seed=0)
    assert np.bincount(parts.y_test).tolist() == [10, 10, 10]
    assert len(parts.X_val) == 0 and parts.X_val.shape[1] == 4


def test_standardization_is_fitted_on_the_training_part_only():
    ds = data.load_dataset("wine")
    raw = data.split(ds, seed=0)
    std = data.split(ds, seed=0, standardize=True)
    assert np.allclose(std.X_train.mean(axis=0), 0, atol=1e-9)
    assert np.allclose(std.X_train.std(axis=0), 1)
    assert np.allclose(std.scaler.mean, raw.X_train.mean(axis=0))
    assert np.allclose(std.X_test, (raw.X_test - raw.X_train.mean(0)) / raw.X_train.std(0))
    assert np.allclose(std.transform(raw.X_val), std.X_val)
    assert not np.allclose(std.X_test.mean(axis=0), 0, atol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"test_size": 0}, "test_size"),
        ({"test_size": 1.5}, "test_size"),
        ({"val_size": -0.1}, "val_size"),
        ({"val_size": 1}, "val_size"),
    ],
)
def test_bad_split_ratios(kwargs, words):
    with pytest.raises(ValueError, match=words):
        data.split(data.load_dataset("iris"), **kwargs)


def test_frame_round_trip():
    ds = data.load_dataset("iris")
    df = ds.frame()
    assert list(df.columns)[-1] == "class"
    assert df["class"].iloc[0] == "Iris-setosa"
