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
    content = b"Id,a,t,b\n1,0.5,p,1\n2,0.7,q,2\n3,0.1,p,3\n4,0.2,q,4\n"
    with pytest.raises(ValueError, match="non-numeric feature column"):
        data.load_csv(content)
    ds = data.load_csv(content, target="t")
    assert ds.feature_names == ["a", "b"]
    assert ds.class_names == ["p", "q"]
    assert ds.X[:, 1].tolist() == [1, 2, 3, 4]
    # other index spellings, 0-based, and pandas' unnamed index column
    for head, start in (("index", 0), ("ID", 1), ("Unnamed: 0", 0), ("", 0)):
        rows = "".join(f"{start + i},{i * 0.1},{'pq'[i % 2]}\n" for i in range(4))
        assert data.load_csv(f"{head},a,t\n{rows}".encode()).feature_names == ["a"]
    # an "id" that is not a running index is a real feature, and so is a running count
    # in a column with an ordinary name
    ds = data.load_csv(b"id,a,t\n7,0.5,p\n3,0.7,q\n9,0.1,p\n4,0.2,q\n")
    assert ds.feature_names == ["id", "a"]
    ds = data.load_csv(b"count,a,t\n1,0.5,p\n2,0.7,q\n3,0.1,p\n4,0.2,q\n")
    assert ds.feature_names == ["count", "a"]


def test_numeric_target_and_spaces_after_commas():
    ds = data.load_csv(b"f1, f2, y\n1, 2, 0\n3, 4, 1\n5, 6, 2\n7, 8, 0\n9, 9, 1\n1, 1, 2\n")
    assert ds.feature_names == ["f1", "f2"]
    assert ds.class_names == ["0", "1", "2"]
    assert ds.y.tolist() == [0, 1, 2, 0, 1, 2]


def test_numeric_classes_sort_as_numbers_and_text_classes_as_text():
    rows = "".join(f"{i},{i % 11}\n" for i in range(33))
    ds = data.load_csv(f"a,digit\n{rows}".encode())
    assert ds.class_names == [str(k) for k in range(11)]
    assert ds.y.tolist() == [i % 11 for i in range(33)]
    ds = data.load_csv(b"a,t\n1,b\n2,a\n3, c \n4,b\n5,a\n6,c\n")
    assert ds.class_names == ["a", "b", "c"]
    assert ds.y.tolist() == [1, 0, 2, 1, 0, 2]


def test_dataset_name_comes_from_the_file(tmp_path):
    path = tmp_path / "flowers.csv"
    path.write_bytes(GOOD)
    assert data.load_csv(path).name == "flowers"
    handle = io.BytesIO(GOOD)
    handle.name = "upload.csv"
    assert data.load_csv(handle).name == "upload"


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
        (b"a;b;c\n1;2;p\n3;4;q\n", "separated by commas"),
        (b"a,b,c\n1,2,p\n", "single class"),
        (b"a,b,c\n1,2,p\n3,4,q\n", "2 classes in 2 rows: fewer rows than two per class"),
        (b"a,y\n" + b"".join(b"%d,%.2f\n" % (i, i / 7) for i in range(40)), "40 classes in 40"),
        (b"a,a,c\n1,2,p\n3,4,q\n5,6,p\n7,8,q\n", "duplicate column names: a"),
        (b"a,b\n1,2,p\n3,4,q\n", "more values than the header has column names"),
        (b"a,b,c\n1,inf,p\n3,4,q\n5,6,p\n7,8,q\n", "infinite or too large values in column(s): b"),
        (b"a,b,c\n1,1e999,p\n3,4,q\n5,6,p\n7,8,q\n", "infinite or too large values"),
        (b"a,b,c\n1,2,p\n3,,q\n5,6,\n7,8,q\n", "missing values in column(s): b, c"),
        (b'a,b,c\n1,2,"p\n3,4,q\n', "not a readable CSV"),
        (b"Id,c\n1,p\n2,q\n3,p\n", "no feature column besides the target"),
        (bytes(range(256)) * 4, "binary"),
    ],
)
def test_bad_csvs_raise_value_error_naming_the_problem(content, words):
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


def test_file_problems_are_value_errors_naming_the_file(tmp_path):
    with pytest.raises(ValueError, match=r"cannot read the file .*no-such\.csv"):
        data.load_csv(tmp_path / "no-such.csv")
    with pytest.raises(ValueError, match="cannot read the file"):
        data.load_csv(tmp_path)
    with pytest.raises(ValueError, match="not a valid file path"):
        data.load_csv("bad\x00name.csv")
    with pytest.raises(ValueError, match="path, bytes or a file-like"):
        data.load_csv(42)


def test_too_few_rows_to_split():
    X, y = np.zeros((6, 2)), np.array([0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match="too few rows to stratify"):
        data.split((X, y), test_size=0.3, stratify=True)
    with pytest.raises(ValueError, match="fewer than 2 rows"):
        data.split((X[:4], y[:4]), stratify=True)
    with pytest.raises(ValueError, match="too few to split"):
        data.split((X[:1], y[:1]), test_size=0.5)


@pytest.mark.parametrize(
    ("arg", "words"),
    [
        (np.zeros((10, 2)), "a Dataset or a pair"),
        ((np.zeros(10), np.zeros(10)), "2-D table"),
        ((np.zeros((10, 2)), np.zeros(9)), "X has 10 rows but y has shape (9,)"),
        (([["a", "b"]] * 10, np.zeros(10)), "must be numbers"),
    ],
)
def test_split_checks_its_input(arg, words):
    with pytest.raises(ValueError) as info:
        data.split(arg)
    assert words in str(info.value)


def test_latin1_utf8_bom_and_utf16_text_is_read():
    rows = "1,2,p\n3,4,q\n5,6,p\n7,8,q\n"
    assert data.load_csv(f"é,b,c\n{rows}".encode("latin-1")).feature_names == ["é", "b"]
    assert data.load_csv(f"é,b,c\n{rows}".encode("utf-8-sig")).feature_names == ["é", "b"]
    assert data.load_csv(f"a,b,c\n{rows}".encode("utf-16")).X.shape == (4, 2)


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


@pytest.mark.parametrize("name", [n for n in data.SYNTHETIC if n not in data.REGRESSION_SETS])
def test_synthetic_sets_follow_count_noise_and_seed(name):
    a = data.load_dataset(name, n_samples=120, noise=0.1, seed=3)
    b = data.load_dataset(name, n_samples=120, noise=0.1, seed=3)
    c = data.load_dataset(name, n_samples=120, noise=0.1, seed=4)
    assert a.X.shape == (120, 2)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)
    assert a.n_classes == (3 if name in ("spiral", "blobs") else 2)
    assert np.bincount(a.y).min() > 10


def test_two_spirals_are_playgrounds_arms_half_a_turn_apart():
    clean = data.load_dataset("spirals", n_samples=200, noise=0.0, seed=0)
    assert list(np.bincount(clean.y)) == [100, 100]
    arms = [clean.X[clean.y == c] for c in (0, 1)]
    # half a turn apart: each point of one arm has its mirror image through 0 in the other
    for a, b in ((arms[0], arms[1]), (arms[1], arms[0])):
        nearest = np.min(np.linalg.norm(a[:, None, :] + b[None, :, :], axis=2), axis=1)
        assert nearest.max() < 1e-9
    radius = np.linalg.norm(clean.X, axis=1)
    assert radius.max() < 5.0 and radius.max() > 4.9  # out to radius 5
    # 1.75 turns: the angle of arm 0 grows by 1.75 * 2 pi from its centre to its end
    order = np.argsort(np.linalg.norm(arms[0], axis=1))
    angle = np.unwrap(np.arctan2(arms[0][order, 0], arms[0][order, 1]))
    assert angle[-1] - angle[0] == pytest.approx(1.75 * 2 * np.pi * 99 / 100, rel=1e-9)
    noisy = data.load_dataset("spirals", n_samples=200, noise=0.3, seed=0)
    moved = np.abs(noisy.X - clean.X)  # the same draws, scaled by the noise
    assert np.array_equal(noisy.y, clean.y)
    assert 0.25 < moved.max() <= 0.3  # each point moved by up to the noise in x1 and in x2


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
    parts = data.split(ds, stratify=True, seed=5)
    assert np.bincount(parts.y_test).tolist() in ([8, 8, 7], [8, 7, 8], [7, 8, 8])
    assert np.ptp(np.bincount(parts.y_val)) <= 1
    # one-hot labels stratify the same way
    onehot = data.split((ds.X, np.eye(3)[ds.y]), stratify=True, seed=5)
    assert np.array_equal(onehot.y_test.argmax(axis=1), parts.y_test)
    with pytest.raises(ValueError, match="stratify needs shuffle"):
        data.split(ds, stratify=True, shuffle=False)


def test_without_shuffle_the_test_part_is_the_last_rows():
    ds = data.load_dataset("iris")
    parts = data.split(ds, shuffle=False)
    assert np.array_equal(parts.X_test, ds.X[-23:])
    assert np.array_equal(parts.X_train, ds.X[:114])


@pytest.mark.parametrize("n", [10, 11, 57, 150, 151, 1797])
@pytest.mark.parametrize(("test_size", "val_size"), [(0.15, 0.1), (0.3, 0.0), (0.05, 0.25)])
def test_split_sizes_predicts_the_split(n, test_size, val_size):
    X, y = np.arange(2.0 * n).reshape(n, 2), np.arange(n) % 2
    parts = data.split((X, y), test_size=test_size, val_size=val_size)
    expected = data.split_sizes(n, test_size, val_size)
    assert parts.sizes == expected
    assert (len(parts.y_train), len(parts.y_val), len(parts.y_test)) == tuple(expected.values())
    assert sum(expected.values()) == n


def test_standardization_is_fitted_on_the_training_part_only():
    ds = data.load_dataset("wine")
    raw = data.split(ds, seed=0)
    std = data.split(ds, seed=0, standardize=True)
    assert np.allclose(std.X_train.mean(axis=0), 0, atol=1e-9)
    assert np.allclose(std.X_train.std(axis=0), 1)
    assert np.allclose(std.scaler.mean, raw.X_train.mean(axis=0))
    assert np.allclose(std.X_test, (raw.X_test - raw.X_train.mean(0)) / raw.X_train.std(0))
    assert np.allclose(std.transform(raw.X_val), std.X_val)
    assert np.allclose(std.scaler.inverse(std.X_test), raw.X_test)
    assert not np.allclose(std.X_test.mean(axis=0), 0, atol=1e-9)
    # one raw row, as the Predict page sends it
    assert np.allclose(std.transform(raw.X_test[0]), std.X_test[0])
    with pytest.raises(ValueError, match="expected rows of 13 feature values"):
        std.transform(np.zeros((1, 4)))
    # without standardization transform only checks and converts
    assert np.array_equal(raw.transform(raw.X_test), raw.X_test) and raw.scaler is None
    with pytest.raises(ValueError, match="expected rows of 13"):
        raw.transform([1.0, 2.0])


def test_a_constant_feature_is_scaled_by_one_not_divided_by_zero():
    X = np.c_[np.arange(40.0), np.full(40, 7.0)]
    parts = data.split((X, np.arange(40) % 2), standardize=True)
    assert parts.preprocessor.scale[1] == 1.0
    assert np.all(np.isfinite(parts.X_test)) and np.all(parts.X_train[:, 1] == 0)


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
