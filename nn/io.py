"""Saving and loading networks: one ``.npz`` of plain arrays plus JSON, read in bounded steps.

A model file is a zip archive holding ``meta.npy`` (a JSON string: format, config, history,
metadata, the preprocessing fitted on the training rows and, for regression, the target's
``target_scaler``) and ``w0.npy`` ... ``w{2L-1}.npy`` (each layer's W then b). The task is in
the config (named only for regression), so a classification model is saved exactly as before
regression existed, and a file without a task or a target scale loads as classification.

Loading treats the file as hostile: nothing is unpickled, only stored or deflated members are
read and they are inflated in bounded steps, every array header is checked against the shape
and dtype the config implies before a byte of its data is read, and the network is built only
when the whole file has passed. Any problem is a ``ValueError`` that says what is wrong.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import zipfile

import numpy as np

from nn import task as tasks
from nn.network import EpochRecord, Network, count_params, normalize_config
from nn.preprocess import Preprocessor

FORMAT = "nn-lab-model/1"
# The JSON metadata (config, history, data facts), stored as a UTF-32 string: 2 M characters.
MAX_META_BYTES = 8 * 1024 * 1024
# Networks larger than this are refused unless the caller asks for more (80 MB of float64).
MAX_LOAD_PARAMS = 10_000_000
NPY_HEADER_MAX = 4096  # bytes an .npy header may take besides the array data
READ_CHUNK = 1 << 20  # members are inflated at most this many bytes at a time
ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
# Weight arrays may be stored as real floats or integers of an ordinary size.
WEIGHT_KINDS = {"f": (2, 4, 8), "i": (1, 2, 4, 8), "u": (1, 2, 4, 8)}


def save(net: Network, file) -> None:
    """Write weights, config, history, ``metadata``, the preprocessing and (regression) the
    target scale to one ``.npz`` (no pickled objects)."""
    arrays = {f"w{i}": w for i, w in enumerate(net.get_weights())}
    meta = {
        "format": FORMAT,
        "config": net.config,
        "history": [r.as_dict() for r in net.history],
        "metadata": net.metadata,
        "preprocessor": None if net.preprocessor is None else net.preprocessor.to_dict(),
    }
    if net.target_scaler is not None:
        meta["target_scaler"] = net.target_scaler.to_dict()
    arrays["meta"] = np.array(json.dumps(meta, allow_nan=False))
    if isinstance(file, (str, os.PathLike)):
        with open(file, "wb") as fh:
            np.savez(fh, **arrays)
    else:
        np.savez(file, **arrays)


def load(file, max_params: int | None = MAX_LOAD_PARAMS) -> Network:
    """Read a network written by ``save``; ``ValueError`` for anything else; never unpickles.

    ``file`` is a path, a binary file object or the file's bytes. ``max_params`` bounds the
    network's size (None: no bound); it is checked before any weight is read.
    """
    try:
        if isinstance(file, (bytes, bytearray)):
            file = io.BytesIO(file)
        with zipfile.ZipFile(file) as archive:
            meta = _read_meta(archive)
            config = _read_config(meta, archive, max_params)
            arrays = _read_weights(archive, config)
        task = config.get("task", tasks.CLASSIFICATION)
        history = _history_from(meta.get("history", []), task)
        metadata = meta.get("metadata", {})
        if not isinstance(metadata, dict):
            raise ValueError("its metadata is malformed")
        preprocessor = _preprocessor_from(meta.get("preprocessor"), config)
        target_scaler = _target_scaler_from(meta.get("target_scaler"), config)
        net = Network(config)
        net.set_weights(arrays)
    except MemoryError:
        raise ValueError("the model is too large to load here") from None
    except ValueError as exc:
        raise ValueError(f"not a model file saved by this app ({exc})") from None
    except Exception as exc:  # a broken archive can fail in many ways; none may escape
        raise ValueError(f"not a readable model file ({type(exc).__name__}: {exc})") from None
    net.history = history
    net.metadata = metadata
    net.preprocessor = preprocessor
    net.target_scaler = target_scaler
    return net


def _open_member(archive: zipfile.ZipFile, name: str):
    """The member ``name`` opened for reading, if it is stored or deflated and not encrypted."""
    info = archive.getinfo(name)
    if info.compress_type not in ZIP_METHODS:
        # zipfile inflates a whole read of a BZIP2 or LZMA member at once: never start one.
        raise ValueError(
            f"{name} is compressed with method {info.compress_type}; only stored or deflated "
            "members are read"
        )
    if info.flag_bits & 0x1:
        raise ValueError(f"{name} is encrypted")
    return info, archive.open(info)


def _read_exactly(fh, n_bytes: int, name: str) -> bytearray:
    """``n_bytes`` from ``fh`` in bounded steps, and proof that nothing follows them."""
    out = bytearray(n_bytes)
    view = memoryview(out)
    pos = 0
    while pos < n_bytes:
        got = fh.readinto(view[pos : pos + READ_CHUNK])
        if not got:
            raise ValueError(f"{name} ends before its data does")
        pos += got
    if fh.read(1):  # also where zipfile checks the member's CRC
        raise ValueError(f"{name} holds more data than its header declares")
    return out


class _Counted:
    """A reader that counts the bytes read through it (the .npy header's length)."""

    def __init__(self, fh) -> None:
        self.fh = fh
        self.n_read = 0

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.n_read += len(data)
        return data


def _read_array(archive: zipfile.ZipFile, name: str, check) -> np.ndarray:
    """One ``.npy`` member: its header first, ``check(shape, dtype)``, then exactly its data.

    ``check`` raises ``ValueError`` for a shape or dtype the caller does not expect; only then
    is the data read, and only as many bytes as that shape and dtype take.
    """
    info, fh = _open_member(archive, name)
    with fh:
        counted = _Counted(fh)
        version = np.lib.format.read_magic(counted)
        if version == (1, 0):
            header = np.lib.format.read_array_header_1_0(counted, max_header_size=NPY_HEADER_MAX)
        elif version in ((2, 0), (3, 0)):
            header = np.lib.format.read_array_header_2_0(counted, max_header_size=NPY_HEADER_MAX)
        else:
            raise ValueError(f"{name} has an unknown .npy version {version}")
        shape, fortran_order, dtype = header
        if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
            raise ValueError(f"{name} holds objects or records, not plain numbers")
        check(shape, dtype)
        n_bytes = math.prod(shape) * dtype.itemsize
        if info.file_size != counted.n_read + n_bytes:
            raise ValueError(f"{name} declares {info.file_size} bytes, not what its header says")
        data = _read_exactly(fh, n_bytes, name)
    array = np.frombuffer(data, dtype=dtype, count=math.prod(shape))
    return array.reshape(shape, order="F" if fortran_order else "C")


def _read_meta(archive: zipfile.ZipFile) -> dict:
    if "meta.npy" not in archive.namelist():
        raise ValueError("no metadata")

    def check(shape, dtype):
        if dtype.kind != "U" or shape != ():
            raise ValueError("no metadata")
        if dtype.itemsize > MAX_META_BYTES:
            raise ValueError(f"its metadata is larger than {MAX_META_BYTES // 2**20} MB")

    meta_arr = _read_array(archive, "meta.npy", check)
    try:
        meta = json.loads(str(meta_arr), parse_constant=_refuse_constant)
    except (json.JSONDecodeError, RecursionError):
        raise ValueError("its metadata is not valid JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"the format is not {FORMAT}")
    return meta


def _refuse_constant(name: str):
    raise ValueError(f"its metadata holds {name}, which is not a number")


def _read_config(meta: dict, archive: zipfile.ZipFile, max_params: int | None) -> dict:
    """The config, once it agrees with the archive's members and the size bound."""
    layers = meta.get("config", {}).get("layers") if isinstance(meta.get("config"), dict) else None
    n_members = len(archive.namelist())
    if isinstance(layers, list) and len(layers) >= 2 and n_members != 2 * len(layers) - 1:
        raise ValueError(
            f"it should hold {2 * (len(layers) - 1)} weight arrays and the metadata for its config"
        )
    config = normalize_config(meta.get("config"))
    n_params = count_params(config["layers"])
    if max_params is not None and n_params > max_params:
        raise ValueError(
            f"the network has {n_params:,} parameters; at most {max_params:,} can be loaded here"
        )
    return config


def _read_weights(archive: zipfile.ZipFile, config: dict) -> list[np.ndarray]:
    sizes = config["layers"]
    n = 2 * (len(sizes) - 1)
    names = sorted(archive.namelist())
    expected = sorted([f"w{i}.npy" for i in range(n)] + ["meta.npy"])
    if names != expected:
        raise ValueError(f"it should hold {n} weight arrays and the metadata for its config")
    shapes = []
    for n_in, n_out in itertools.pairwise(sizes):
        shapes += [(n_in, n_out), (n_out,)]
    arrays = []
    for i, shape in enumerate(shapes):
        layer, part = i // 2 + 1, "Wb"[i % 2]

        def check(got_shape, dtype, shape=shape, layer=layer, part=part):
            if dtype.itemsize not in WEIGHT_KINDS.get(dtype.kind, ()):
                raise ValueError(
                    f"layer {layer} {part} must hold real numbers (float or int), not {dtype.name}"
                )
            if tuple(got_shape) != shape:
                raise ValueError(f"layer {layer} {part} must have shape {shape}, got {got_shape}")

        arrays.append(_read_array(archive, f"w{i}.npy", check))
    return arrays


def _preprocessor_from(data, config: dict) -> Preprocessor | None:
    """The saved preprocessing (None in files written before it was saved), checked against
    the network's inputs."""
    if data is None:
        return None
    preprocessor = Preprocessor.from_dict(data)
    if preprocessor.n_inputs != config["layers"][0]:
        raise ValueError(
            f"its preprocessing makes {preprocessor.n_inputs} inputs but the network takes "
            f"{config['layers'][0]}"
        )
    return preprocessor


def _target_scaler_from(data, config: dict) -> tasks.TargetScaler | None:
    """The saved target scale (regression only; None before the network trained), checked
    against the network's outputs."""
    if data is None:
        return None
    if config.get("task", tasks.CLASSIFICATION) != tasks.REGRESSION:
        raise ValueError("it has a target scale, which only a regression network has")
    scaler = tasks.TargetScaler.from_dict(data)
    if scaler.n_targets != config["layers"][-1]:
        raise ValueError(
            f"its target scale covers {scaler.n_targets} targets but the network has "
            f"{config['layers'][-1]} outputs"
        )
    return scaler


# The figures of each task (a record of one task has None, or no key, for the other's)
SCORES = {"train_accuracy", "val_accuracy", "train_r2", "val_r2"}
NULLABLE = {"val_loss", *SCORES}
OPTIONAL = {"train_r2", "val_r2"}  # absent from classification records


def _history_from(records, task: str = tasks.CLASSIFICATION) -> list[EpochRecord]:
    """The training history, each record checked: epochs 1, 2, ... and finite figures, and
    the figures of the model's task (accuracy or R^2) and no other."""
    fields = set(EpochRecord.__dataclass_fields__)
    metric = tasks.get(task).metric
    others = SCORES - {f"train_{metric}", f"val_{metric}"}
    if not isinstance(records, list):
        raise ValueError("its training history is malformed")
    history = []
    for i, r in enumerate(records):
        if not isinstance(r, dict) or not fields - OPTIONAL <= set(r) <= fields:
            raise ValueError("its training history is malformed")
        for key, value in r.items():
            if value is None and key in NULLABLE:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"its training history has a bad {key!r}")
            r2 = key.endswith("r2")  # R^2 may be negative, never above 1
            if not math.isfinite(value) or (value < 0 and not r2):
                raise ValueError(f"its training history has a bad {key!r}: {value!r}")
            if (key.endswith("accuracy") or r2) and value > 1:
                raise ValueError(f"its training history has a bad {key!r}: {value!r}")
        if r.get(f"train_{metric}") is None:
            raise ValueError(f"its training history has no 'train_{metric}' for a {task} model")
        for key in sorted(others):
            if r.get(key) is not None:
                raise ValueError(f"its training history has a {key!r}, not for a {task} model")
        if r["epoch"] != i + 1 or not isinstance(r["epoch"], int):
            raise ValueError(f"its training history's epochs do not count 1, 2, 3, ... ({i + 1})")
        # A rate of 0 is a schedule's (a cosine down to 0), not a damaged file; below 0 is
        # refused above with every other figure.
        history.append(EpochRecord(**r))
    return history
