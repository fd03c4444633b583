"""Write the hostile model-file corpus in tests/data/hostile_models/.

Run ``python tests/data/make_hostile_models.py [names]`` to (re)write it (or only those files);
the files are committed (the largest is a few hundred KB), so this only matters when the corpus
changes. Each file is what an
attacker could upload on the Predict page: compression bombs in every zip method, arrays whose
headers lie about their size or dtype, configs that declare absurd networks, and histories that
are not numbers. ``EXPECTED`` says which files must load; every other one must be refused with a
``ValueError``, quickly and in little memory (tests/test_hostile_models.py).

Archives are written by hand (``zip_bytes``) so that a member can declare any size and use any
compression method, which ``zipfile`` itself would not write.
"""

from __future__ import annotations

import bz2
import io
import itertools
import json
import lzma
import math
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent / "hostile_models"
CONFIG = {
    "layers": [4, 5, 3],
    "activation": "sigmoid",
    "output_activation": "softmax",
    "loss": "cross_entropy",
    "init": "uniform",
    "seed": 0,
    "dtype": "float64",
}
RECORD = {
    "epoch": 1,
    "train_loss": 0.5,
    "train_accuracy": 0.8,
    "val_loss": None,
    "val_accuracy": None,
    "learning_rate": 0.1,
    "seconds": 0.01,
}
ZEROS = bytes(64 << 20)  # 64 MB, compressed again and again into the bombs


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def npy_header(shape: tuple, descr: str) -> bytes:
    """An .npy (version 1.0) header that declares ``shape`` and ``descr`` and nothing more."""
    header = repr({"descr": descr, "fortran_order": False, "shape": shape})
    header += " " * (-(len(header) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1")


def meta_npy(config=None, history=None, metadata=None) -> bytes:
    meta = {
        "format": "nn-lab-model/1",
        "config": CONFIG if config is None else config,
        "history": [RECORD] if history is None else history,
        "metadata": {} if metadata is None else metadata,
    }
    return npy(np.array(json.dumps(meta)))


def nested_meta(depth: int) -> bytes:
    """Metadata whose JSON nests ``depth`` lists deep (a parser that recurses runs out of stack)."""
    head = json.dumps({"format": "nn-lab-model/1", "config": CONFIG, "history": []})[:-1]
    return npy(np.array(head + ', "metadata": {"a": ' + "[" * depth + "]" * depth + "}}"))


def weights(sizes=(4, 5, 3), dtype="float64") -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    out = {}
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        out[f"w{2 * i}.npy"] = npy(rng.uniform(-1, 1, (n_in, n_out)).astype(dtype))
        out[f"w{2 * i + 1}.npy"] = npy(rng.uniform(-1, 1, n_out).astype(dtype))
    return out


def member(data: bytes, method: int = zipfile.ZIP_STORED, declared: int | None = None) -> dict:
    """A zip member: ``data`` compressed with ``method``, declaring ``declared`` bytes."""
    return {
        "payload": compress(data, method),
        "method": method,
        "crc": zlib.crc32(data),
        "size": len(data) if declared is None else declared,
    }


def bomb(n_bytes: int, method: int, prefix: bytes = b"", declared: int = 1000) -> dict:
    """A member of ``prefix`` and ``n_bytes`` zeros, compressed, declaring ``declared`` bytes."""
    return {
        "payload": compress_stream(prefix, n_bytes, method),
        "method": method,
        "crc": 0,
        "size": declared,
    }


def compress(data: bytes, method: int) -> bytes:
    return compress_stream(data, 0, method)


def compress_stream(prefix: bytes, n_zeros: int, method: int) -> bytes:
    if method == zipfile.ZIP_STORED:
        return prefix + bytes(n_zeros)
    if method == zipfile.ZIP_DEFLATED:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        head = b""
    elif method == zipfile.ZIP_BZIP2:
        c = bz2.BZ2Compressor(9)
        head = b""
    elif method == zipfile.ZIP_LZMA:
        # As zipfile writes it: a 4-byte header with the LZMA1 properties, then a raw stream.
        props = lzma._encode_filter_properties({"id": lzma.FILTER_LZMA1})
        c = lzma.LZMACompressor(
            lzma.FORMAT_RAW, filters=[lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)]
        )
        head = struct.pack("<BBH", 9, 4, len(props)) + props
    else:
        raise ValueError(method)
    parts = [head, c.compress(prefix)]
    while n_zeros > 0:
        chunk = min(n_zeros, len(ZEROS))
        parts.append(c.compress(ZEROS[:chunk]))
        n_zeros -= chunk
    parts.append(c.flush())
    return b"".join(parts)


def zip_bytes(members: dict[str, dict] | list[tuple[str, dict]], flags: int = 0) -> bytes:
    """A zip archive of ``members`` (name -> ``member(...)``), written field by field."""
    members = list(members.items()) if isinstance(members, dict) else list(members)
    out, central = io.BytesIO(), io.BytesIO()
    for name, m in members:
        raw = name.encode()
        offset = out.tell()
        fields = (20, flags, m["method"], 0, 0, m["crc"], len(m["payload"]), m["size"])
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields, len(raw), 0))
        out.write(raw + m["payload"])
        central.write(
            struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, *fields, len(raw), 0, 0, 0, 0, 0, offset)
            + raw
        )
    start, directory = out.tell(), central.getvalue()
    out.write(directory)
    n = len(members)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(directory), start, 0))
    return out.getvalue()


def model(meta: bytes | dict | None = None, **replace: dict | bytes) -> bytes:
    """The valid model file with some members replaced (bytes are stored as they are)."""
    members = {"meta.npy": meta if meta is not None else meta_npy(), **weights()}
    members.update(replace)
    return zip_bytes({k: v if isinstance(v, dict) else member(v) for k, v in members.items()})


def absurd(descr: str) -> bytes:
    """Layers [4, 10**9, 3] whose arrays have the declared shapes and a dtype of no bytes."""
    config = {**CONFIG, "layers": [4, 10**9, 3]}
    shapes = [(4, 10**9), (10**9,), (10**9, 3), (3,)]
    arrays = {f"w{i}.npy": npy_header(shape, descr) for i, shape in enumerate(shapes)}
    return model(meta_npy(config=config), **arrays)


def corpus() -> dict[str, Callable[[], bytes]]:
    """File name -> a function that makes its bytes (the bombs take a while)."""
    meta = meta_npy()
    Z = zipfile
    return {
        "valid.npz": lambda: model(),
        "valid_deflated.npz": lambda: zip_bytes(
            {k: member(v, Z.ZIP_DEFLATED) for k, v in {"meta.npy": meta, **weights()}.items()}
        ),
        "valid_float32_int8.npz": lambda: model(
            **{**weights(dtype="float32"), "w1.npy": npy(np.ones(5, "i1"))}
        ),
        # 1. compression bombs: small files that inflate to gigabytes
        "bz2_meta_bomb.npz": lambda: model(bomb(2 << 30, Z.ZIP_BZIP2, meta[:128])),
        "lzma_meta_bomb.npz": lambda: model(bomb(512 << 20, Z.ZIP_LZMA, meta[:128])),
        "bz2_weight_bomb.npz": lambda: model(
            **{"w0.npy": bomb(2 << 30, Z.ZIP_BZIP2, npy(np.zeros((4, 5))))}
        ),
        "deflate_meta_bomb.npz": lambda: model(bomb(256 << 20, Z.ZIP_DEFLATED, meta[:128])),
        "deflate_weight_bomb_honest_size.npz": lambda: model(
            **{"w0.npy": bomb(256 << 20, Z.ZIP_DEFLATED, npy(np.zeros((4, 5))), declared=256 << 20)}
        ),
        "encrypted_member.npz": lambda: zip_bytes(
            {k: member(v) for k, v in {"meta.npy": meta, **weights()}.items()}, flags=0x1
        ),
        # 2. arrays that take no bytes, or declare more than they hold
        "zero_itemsize_V0.npz": lambda: absurd("|V0"),
        "zero_itemsize_S0.npz": lambda: absurd("|S0"),
        "absurd_layers_small_arrays.npz": lambda: model(
            meta_npy(config={**CONFIG, "layers": [4, 10**9, 3]})
        ),
        "huge_header_shape.npz": lambda: model(
            **{"w0.npy": npy_header((10**12,), "<f8") + bytes(64)}
        ),
        "huge_meta_string.npz": lambda: model(npy_header((), "<U100000000") + bytes(64)),
        "many_layers_declared.npz": lambda: model(
            member(meta_npy(config={**CONFIG, "layers": [4] + [1] * 10**5 + [3]}), Z.ZIP_DEFLATED)
        ),
        # 8. weights that are not real numbers
        "complex_weights.npz": lambda: model(**{"w0.npy": npy(np.zeros((4, 5), complex))}),
        "timedelta_weights.npz": lambda: model(**{"w0.npy": npy(np.zeros((4, 5), "m8[s]"))}),
        "datetime_weights.npz": lambda: model(**{"w0.npy": npy(np.zeros((4, 5), "M8[s]"))}),
        "bool_weights.npz": lambda: model(**{"w0.npy": npy(np.zeros((4, 5), bool))}),
        "longdouble_weights.npz": lambda: model(**{"w0.npy": npy(np.zeros((4, 5), np.longdouble))}),
        "object_weights.npz": lambda: model(
            **{"w0.npy": npy(np.array([[None] * 5] * 4, dtype=object))}
        ),
        "record_weights.npz": lambda: model(**{"w0.npy": npy(np.zeros((4, 5), [("a", "<f8")]))}),
        # 8. histories that are not numbers, or not a count of epochs
        # (json.dumps writes NaN and Infinity, which are not JSON)
        "nan_history.npz": lambda: model(meta_npy(history=[{**RECORD, "train_loss": math.nan}])),
        "infinite_history.npz": lambda: model(
            meta_npy(history=[{**RECORD, "val_loss": math.inf, "val_accuracy": 0.5}])
        ),
        "negative_epoch.npz": lambda: model(meta_npy(history=[{**RECORD, "epoch": -5}])),
        "epochs_skip.npz": lambda: model(meta_npy(history=[RECORD, {**RECORD, "epoch": 7}])),
        "accuracy_above_one.npz": lambda: model(
            meta_npy(history=[{**RECORD, "train_accuracy": 3.0}])
        ),
        "deeply_nested_metadata.npz": lambda: model(member(nested_meta(100_000), Z.ZIP_DEFLATED)),
        "duplicate_members.npz": lambda: zip_bytes(
            [(k, member(v)) for k, v in {"meta.npy": meta, **weights()}.items()]
            + [("w0.npy", member(npy(np.zeros((4, 5)))))]
        ),
    }


# Files that must load; all others must be refused with a ValueError.
EXPECTED_TO_LOAD = {"valid.npz", "valid_deflated.npz", "valid_float32_int8.npz"}


def main(names: list[str]) -> None:
    """Write the corpus, or only the files named."""
    HERE.mkdir(exist_ok=True)
    for name, make in corpus().items():
        if names and name not in names:
            continue
        data = make()
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data):,} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
