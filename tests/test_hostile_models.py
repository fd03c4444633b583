"""Hostile model files (tests/data/hostile_models/): each loads or is refused, fast and small.

Every file is loaded in its own Python process whose address space is capped 300 MB above what
it holds before the call (``resource.RLIMIT_AS``) and whose CPU time is capped too, so a file
that inflates or allocates without bound shows as a crash or a MemoryError instead of taking
the test run down with it.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import nn

ROOT = Path(__file__).resolve().parents[1]
MAKER = ROOT / "tests" / "data" / "make_hostile_models.py"
_spec = importlib.util.spec_from_file_location("make_hostile_models", MAKER)
make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make)
FILES = sorted(make.HERE.glob("*.npz"))
EXTRA_MB = 300
CPU_S = 2.0

PROBE = r"""
import json, resource, sys, time
import nn, nn.io

def vm_kb(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])

path, extra_mb = sys.argv[1], int(sys.argv[2])
limit = (vm_kb("VmSize") + extra_mb * 1024) * 1024
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
resource.setrlimit(resource.RLIMIT_CPU, (20, 20))
rss_before = vm_kb("VmRSS")
cpu = time.process_time()
try:
    net = nn.Network.load(path)
    outcome, message = "loaded", repr(net)
except ValueError as exc:
    outcome, message = "ValueError", str(exc)
except BaseException as exc:
    outcome, message = type(exc).__name__, str(exc)
print(json.dumps({
    "outcome": outcome,
    "message": message,
    "cpu_s": time.process_time() - cpu,
    "extra_rss_mb": (vm_kb("VmHWM") - rss_before) / 1024,
}))
"""


def load_in_a_capped_process(path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(path), str(EXTRA_MB)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, f"{path.name} crashed the loader: {done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_corpus_is_complete():
    assert [p.name for p in FILES] == sorted(make.corpus())
    assert set(make.corpus()) > make.EXPECTED_TO_LOAD


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_a_hostile_model_loads_or_is_refused_quickly_in_little_memory(path):
    result = load_in_a_capped_process(path)
    expected = "loaded" if path.name in make.EXPECTED_TO_LOAD else "ValueError"
    assert result["outcome"] == expected, result
    # Hitting the memory cap would show as a MemoryError turned into "too large to load".
    assert "too large to load" not in result["message"], result
    assert result["cpu_s"] < CPU_S, result
    assert result["extra_rss_mb"] < EXTRA_MB, result


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("bz2_meta_bomb.npz", "only stored or deflated members are read"),
        ("lzma_meta_bomb.npz", "only stored or deflated members are read"),
        ("bz2_weight_bomb.npz", "only stored or deflated members are read"),
        ("deflate_meta_bomb.npz", "meta.npy"),
        ("deflate_weight_bomb_honest_size.npz", "w0.npy"),
        ("encrypted_member.npz", "encrypted"),
        ("zero_itemsize_V0.npz", "at most 10,000,000 can be loaded"),
        ("zero_itemsize_S0.npz", "at most 10,000,000 can be loaded"),
        ("absurd_layers_small_arrays.npz", "at most 10,000,000 can be loaded"),
        ("huge_header_shape.npz", r"layer 1 W must have shape (4, 5), got (1000000000000,)"),
        ("huge_meta_string.npz", "metadata is larger than 8 MB"),
        ("many_layers_declared.npz", "weight arrays and the metadata"),
        ("complex_weights.npz", "real numbers (float or int), not complex128"),
        ("timedelta_weights.npz", "not timedelta64[s]"),
        ("datetime_weights.npz", "not datetime64[s]"),
        ("bool_weights.npz", "not bool"),
        ("longdouble_weights.npz", "not float128"),
        ("object_weights.npz", "objects or records"),
        ("record_weights.npz", "objects or records"),
        ("nan_history.npz", "holds NaN, which is not a number"),
        ("infinite_history.npz", "holds Infinity, which is not a number"),
        ("negative_epoch.npz", "bad 'epoch'"),
        ("epochs_skip.npz", "do not count 1, 2, 3"),
        ("accuracy_above_one.npz", "bad 'train_accuracy'"),
        ("deeply_nested_metadata.npz", "not valid JSON"),
        ("duplicate_members.npz", "weight arrays and the metadata"),
    ],
)
def test_each_refusal_names_the_problem(name, words):
    with pytest.raises(ValueError) as info:
        nn.Network.load(make.HERE / name)
    assert words in str(info.value)


def test_the_app_limit_is_checked_before_the_network_is_built():
    path = make.HERE / "valid.npz"
    assert nn.Network.load(path, max_params=43).n_params == 43
    with pytest.raises(ValueError, match="43 parameters; at most 42 can be loaded"):
        nn.Network.load(path, max_params=42)


@pytest.mark.parametrize(
    "name", ["valid.npz", "zero_itemsize_V0.npz", "nan_history.npz", "huge_meta_string.npz"]
)
def test_the_corpus_files_are_what_the_script_writes(name):
    """The committed files match the script (rerun it when the corpus changes)."""
    assert (make.HERE / name).read_bytes() == make.corpus()[name]()
