"""A visitor's workspace as the store keeps it: a few items, each in a format of our own.

No Streamlit here. ``dashboard.state`` decides what goes into the items and what comes back
out of them; this module turns them into bytes and back, checking everything it reads (a store
may be shared, old, or tampered with), and never unpickles anything:

- ``settings``: JSON. The experiment's settings as the URL codec writes them (every one, not
  only those that differ from a default), how an uploaded CSV was read, and small extras such as
  the Predict form's last sample and the run counter of Compare.
- ``data``: an uploaded CSV's bytes, as they were uploaded (absent for a bundled or generated
  set: its settings say how to make it again).
- ``network``: a zip of the model file (``nn.io``: npz weights + JSON), the run's training
  state (the optimizer's moments, the shuffling stream, early stopping: JSON + npz, so that
  Resume goes on as if the run had never stopped) and the trainer's own state as JSON (status,
  message, tag, compute used).
- ``runs``: JSON, the finished runs kept for Compare (plain data already).

Each item is saved on its own, so two writers (two tabs of one workspace, two replicas) can only
replace a whole item, never mix two versions of one: the last writer wins per item.
"""

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np

import nn
from dashboard.common import limits
from dashboard.training import loop

SETTINGS, DATA, NETWORK, RUNS = "settings", "data", "network", "runs"
ITEMS = (SETTINGS, DATA, NETWORK, RUNS)
FORMAT = "nn-lab-workspace/1"
MAX_JSON_BYTES = 16 * 1024 * 1024  # the runs item of ten 2,000-epoch runs takes ~3 MB
MODEL_MEMBER, TRAINER_MEMBER = "model.npz", "trainer.json"
TRAINING_MEMBER, TRAINING_ARRAYS = "training.json", "training.npz"
NETWORK_MEMBERS = {MODEL_MEMBER, TRAINER_MEMBER, TRAINING_MEMBER, TRAINING_ARRAYS}
# The CSV reading choices that ``datasets.load_uploaded_csv`` takes, and their types.
CSV_KEYS = {
    "file_name": str,
    "target": str,
    "task": str,
    "roles": dict,
    "types": dict,
    "missing": str,
    "fill": dict,
}
# A run that was on when it was saved comes back paused: its session and thread are gone.
RESTORED_STATUS = {loop.RUNNING: loop.PAUSED, loop.QUEUED: loop.PAUSED}


def _json_bytes(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def _read_json(data: bytes, what: str) -> dict:
    """``data`` as a JSON object of our format; ``ValueError`` naming ``what`` otherwise."""
    if not isinstance(data, (bytes, bytearray)) or len(data) > MAX_JSON_BYTES:
        raise ValueError(f"the saved {what} are missing or too large")
    try:
        value = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ValueError(f"the saved {what} are not readable") from None
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise ValueError(f"the saved {what} are not in this app's format")
    return value


# ---- settings ----


def settings_item(
    params: dict[str, str], csv: dict | None = None, extra: dict | None = None
) -> bytes:
    """The settings item: every URL parameter (``link.to_params``), how an uploaded CSV is read
    (None for any other dataset) and ``extra`` (JSON values)."""
    return _json_bytes(
        {
            "format": FORMAT,
            "params": {str(k): str(v) for k, v in params.items()},
            "csv": None if csv is None else {k: csv[k] for k in CSV_KEYS if k in csv},
            "extra": dict(extra or {}),
        }
    )


def read_settings(data: bytes) -> dict:
    """The settings item back as ``{"params", "csv", "extra"}``; ``ValueError`` when its shape
    is wrong. Values are only type-checked: the app checks them as it checks a link's."""
    value = _read_json(data, "settings")
    params, csv, extra = value.get("params"), value.get("csv"), value.get("extra", {})
    if not isinstance(params, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in params.items()
    ):
        raise ValueError("the saved settings are malformed")
    if csv is not None:
        if not isinstance(csv, dict) or set(csv) != set(CSV_KEYS):
            raise ValueError("the saved settings of the uploaded file are malformed")
        for key, kind in CSV_KEYS.items():
            if not isinstance(csv[key], kind):
                raise ValueError("the saved settings of the uploaded file are malformed")
    if not isinstance(extra, dict):
        raise ValueError("the saved settings are malformed")
    return {"params": params, "csv": csv, "extra": extra}


def read_sample(value, n_features: int) -> list[float] | None:
    """A saved Predict form sample: ``n_features`` finite numbers, else None."""
    if not isinstance(value, list) or len(value) != n_features:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return None
    numbers = [float(v) for v in value]
    return numbers if all(math.isfinite(v) for v in numbers) else None


# ---- the network and its trainer ----


def network_item(
    net: nn.Network, status: str, message: str = "", tag: str = "", cpu_s=0.0
) -> bytes:
    """The network item: the model file (``nn.io.save``) and the trainer's state, zipped."""
    model = io.BytesIO()
    net.save(model)
    trainer = {
        "format": FORMAT,
        "status": str(status),
        "message": str(message),
        "tag": str(tag),
        "cpu_s": float(cpu_s),
    }
    training, arrays = net.training_state_data()
    saved_arrays = io.BytesIO()
    np.savez(saved_arrays, **arrays)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(MODEL_MEMBER, model.getvalue())
        archive.writestr(TRAINER_MEMBER, _json_bytes(trainer))
        archive.writestr(TRAINING_MEMBER, json.dumps(training, allow_nan=False).encode("utf-8"))
        archive.writestr(TRAINING_ARRAYS, saved_arrays.getvalue())
    return out.getvalue()


def read_network(data: bytes) -> tuple[nn.Network, dict]:
    """The network and the trainer's state from a network item; ``ValueError`` for anything
    that is not one (the model part is read by ``nn.io.load``, bounded by the demo's limit)."""
    try:
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
            names = set(archive.namelist())
            if names != NETWORK_MEMBERS:
                raise ValueError("the saved network is not in this app's format")
            if any(archive.getinfo(name).file_size > MAX_JSON_BYTES for name in JSON_MEMBERS):
                raise ValueError("the saved network's state is too large")
            trainer = _read_json(archive.read(TRAINER_MEMBER), "network's state")
            with archive.open(MODEL_MEMBER) as model:
                net = nn.Network.load(model, max_params=limits.MAX_PARAMS)
            _restore_training(net, archive)
    except zipfile.BadZipFile:
        raise ValueError("the saved network is not readable") from None
    statuses = {s.value for s in loop.Status}
    status = trainer.get("status")
    cpu_s = trainer.get("cpu_s")
    if (
        status not in statuses
        or not isinstance(trainer.get("message"), str)
        or not isinstance(trainer.get("tag"), str)
        or not isinstance(cpu_s, (int, float))
        or not math.isfinite(cpu_s)
        or cpu_s < 0
    ):
        raise ValueError("the saved network's state is malformed")
    status = loop.Status(status)
    return net, {
        "status": RESTORED_STATUS.get(status, status),
        "message": trainer["message"][:2000],
        "tag": trainer["tag"][:40],
        "cpu_s": float(cpu_s),
    }


JSON_MEMBERS = (TRAINER_MEMBER, TRAINING_MEMBER)


def _restore_training(net: nn.Network, archive: zipfile.ZipFile) -> None:
    """Give ``net`` the run's saved training state (checked by the engine: shapes, ranges and
    the generator's state; ``ValueError`` otherwise). The arrays are at most a few copies of the
    network's parameters, which ``nn.Network.load`` has bounded already."""
    try:
        meta = json.loads(archive.read(TRAINING_MEMBER).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ValueError("the saved training state is not readable") from None
    limit = 4 * (limits.MAX_PARAMS * 8 + 4096)
    if archive.getinfo(TRAINING_ARRAYS).file_size > limit:
        raise ValueError("the saved training state is too large")
    try:
        with np.load(io.BytesIO(archive.read(TRAINING_ARRAYS)), allow_pickle=False) as saved:
            arrays = {name: saved[name] for name in saved.files}
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile):
        raise ValueError("the saved training state's arrays are not readable") from None
    net.restore_training_state(meta, arrays)


# ---- the runs of Compare ----

RECORD_KEYS = ("name", "task", "settings", "metrics", "history")


def runs_item(records: list[dict], counter: int, current_net=None) -> bytes:
    """The runs item: the kept runs as plain data (which of them is ``current_net``'s run is
    remembered, so that continuing it replaces its record as before), and the run counter."""
    kept = []
    for record in records:
        ref = record.get("net")
        current = current_net is not None and ref is not None and ref() is current_net
        kept.append({**{k: record[k] for k in RECORD_KEYS}, "current": bool(current)})
    return _json_bytes({"format": FORMAT, "counter": int(counter), "records": kept})


def read_runs(data: bytes, max_runs: int) -> tuple[list[dict], int]:
    """The kept runs (``current`` marks the current network's) and the run counter; ``ValueError``
    when the item's shape is wrong. At most the last ``max_runs`` runs come back."""
    value = _read_json(data, "runs")
    records, counter = value.get("records"), value.get("counter")
    if not isinstance(records, list) or not isinstance(counter, int) or counter < 0:
        raise ValueError("the saved runs are malformed")
    for record in records:
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("name"), str)
            or record.get("task") not in (nn.task.CLASSIFICATION, nn.task.REGRESSION)
            or not isinstance(record.get("settings"), dict)
            or not isinstance(record.get("metrics"), dict)
            or not isinstance(record.get("history"), list)
            or not all(isinstance(h, dict) for h in record["history"])
        ):
            raise ValueError("a saved run is malformed")
    records = records[-max_runs:] if max_runs > 0 else []
    return [
        {**r, "name": r["name"][:100], "current": bool(r.get("current"))} for r in records
    ], counter
