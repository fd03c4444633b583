"""The workspace store (dashboard/store/backend.py) on real databases: SQLite in a temporary
folder, and PostgreSQL at ``NN_LAB_TEST_POSTGRES`` (each test in a fresh schema, dropped after).

Without ``NN_LAB_TEST_POSTGRES`` the PostgreSQL tests skip with a message saying how to get one;
with ``CI=true`` they fail instead, because CI must run them (.ci/run starts a server).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dashboard.store import backend
from dashboard.store.backend import Limits, StoreFull, open_store

# Not tests.conftest's ROOT: writer processes import this module, and conftest imports Streamlit.
ROOT = Path(__file__).resolve().parent.parent
PG_ENV = "NN_LAB_TEST_POSTGRES"
PG_HINT = (
    f"{PG_ENV} is not set, so the PostgreSQL store tests cannot run: start a server and export "
    f"{PG_ENV}=postgresql://nnlab:nnlab@127.0.0.1:5432/nnlab_test (as .ci/run does)."
)
DAY = 86400.0
ROOMY = Limits(days=7, workspace_bytes=10_000_000, total_bytes=100_000_000, sweep_s=3600)


def unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} The PostgreSQL tests are mandatory in CI (CI=true).", pytrace=False)
    pytest.skip(reason)


def postgres_url() -> str:
    """The test server's URL (``NN_LAB_TEST_POSTGRES``); skips without it (fails in CI)."""
    url = os.environ.get(PG_ENV, "")
    if not url:
        unavailable(PG_HINT)
    if importlib.util.find_spec("psycopg") is None:
        unavailable("The psycopg package is missing: pip install -r requirements.txt.")
    return url


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def with_search_path(url: str, schema: str) -> str:
    """The URL with libpq's ``options`` putting new tables in ``schema``."""
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A URL for an empty store of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'workspaces.sqlite'}"
        return
    url = postgres_url()
    import psycopg

    schema = f"test_store_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def opened(store_url):
    """``opened(limits=ROOMY, clock=time.time)``: a store at ``store_url``, closed afterwards."""
    stores = []

    def make(limits: Limits = ROOMY, clock=time.time) -> backend.Store:
        store = open_store(store_url, limits, clock)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def store(opened):
    return opened()


# ---- self-checking payloads for the concurrency tests ----

NAMES = ("network", "data", "runs")


def payload(tag: str) -> bytes:
    """``tag|`` + random bytes of a size the tag decides + the SHA-256 of what precedes."""
    rng = random.Random(tag)
    body = tag.encode() + b"|" + rng.randbytes(rng.randrange(200, 6000))
    return body + hashlib.sha256(body).digest()


def tag_of(blob: bytes) -> str:
    """The tag of a complete payload (AssertionError for a torn or mixed one)."""
    body, digest = blob[:-32], blob[-32:]
    assert hashlib.sha256(body).digest() == digest, "a torn or mixed payload"
    return body.split(b"|", 1)[0].decode()


def check_consistent(items: dict[str, bytes]) -> str:
    """The one save the workspace's items come from ("who:round"): every save writes all of
    NAMES together, so they must all carry the same tag."""
    tags = {name: tag_of(items[name]) for name in NAMES}
    sources = {tag.rsplit(":", 1)[0] for tag in tags.values()}
    assert len(sources) == 1, f"items from different saves: {tags}"
    assert all(tag.endswith(f":{name}") for name, tag in tags.items())
    tag_of(items["solo"])
    return sources.pop()


def hammer(store: backend.Store, workspace: str, who: str, rounds: int, start_at: float) -> None:
    """Save every item ``rounds`` times with payloads of its own, checking what it reads back."""
    while time.time() < start_at:
        time.sleep(0.002)
    for i in range(rounds):
        store.save(workspace, {name: payload(f"{who}:{i}:{name}") for name in NAMES})
        store.save(workspace, {"solo": payload(f"{who}:{i}:solo")})
        check_consistent(store.load(workspace))


def hammer_process(url: str, workspace: str, who: str, rounds: int) -> None:
    """``hammer`` in a process of its own (run by ``python -c``): opens the store, says "ready",
    and starts when a line comes in."""
    with open_store(url, ROOMY) as store:
        print("ready", flush=True)
        sys.stdin.readline()
        hammer(store, workspace, who, rounds, start_at=0.0)


def run_processes(url: str, workspace: str, whos: list[str], rounds: int) -> None:
    """One writer process per name in ``whos``, all started together once all are ready."""
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from tests.test_store import hammer_process as h; "
                "h(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))",
                url,
                workspace,
                who,
                str(rounds),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in whos
    ]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready", proc.communicate(timeout=60)
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, f"a writer process failed:\n{out}\n{err}"
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def run_threads(store: backend.Store, workspace: str, whos: list[str], rounds: int) -> None:
    errors = []

    def work(who: str) -> None:
        try:
            hammer(store, workspace, who, rounds, start_at)
        except BaseException as exc:
            errors.append(exc)

    start_at = time.time() + 0.2
    threads = [threading.Thread(target=work, args=(who,)) for who in whos]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert not errors, errors


# ---- tokens, limits, URLs ----


def test_new_tokens_are_valid_distinct_and_32_characters():
    tokens = {backend.new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(t) == 32 and backend.valid_token(t) for t in tokens)


@pytest.mark.parametrize(
    "text",
    [
        None,
        123,
        b"A" * 32,
        ["A" * 32],
        "",
        "A" * 31,
        "A" * 33,
        "A" * 31 + "=",
        "A" * 31 + "+",
        "A" * 31 + "/",
        "A" * 31 + " ",
        "A" * 31 + "\n",
        "A" * 32 + "\n",
        "A" * 31 + "é",
        "A" * 31 + "٣",  # a digit, but not an ASCII one
        "../" + "A" * 29,
    ],
)
def test_valid_token_rejects_anything_new_token_does_not_make(text):
    assert backend.valid_token(text) is False


def test_valid_token_accepts_the_whole_alphabet():
    assert backend.valid_token("abcdefghijklmnopqrstuvwxyz-_0189")
    assert backend.valid_token("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345")


def test_limits_come_from_the_environment():
    limits = backend.limits_from_env(
        {
            backend.ENV_DAYS: "0.5",
            backend.ENV_WORKSPACE_MB: "2",
            backend.ENV_TOTAL_MB: "3.5",
            backend.ENV_SWEEP_S: "10",
        }
    )
    assert limits == Limits(days=0.5, workspace_bytes=2_000_000, total_bytes=3_500_000, sweep_s=10)


@pytest.mark.parametrize("bad", ["", "  ", "abc", "nan", "inf", "-inf", "1e400", "0", "-3"])
def test_unreadable_or_non_positive_limits_fall_back_to_the_defaults(bad):
    names = (backend.ENV_DAYS, backend.ENV_WORKSPACE_MB, backend.ENV_TOTAL_MB, backend.ENV_SWEEP_S)
    limits = backend.limits_from_env(dict.fromkeys(names, bad))
    assert limits == backend.limits_from_env({})
    assert limits == Limits(
        days=7, workspace_bytes=20_000_000, total_bytes=1_000_000_000, sweep_s=3600
    )


def test_default_path_and_relative_sqlite_urls_are_in_the_project_folder():
    assert backend.DEFAULT_PATH == ROOT / "data" / "store" / "workspaces.sqlite"
    assert backend.sqlite_path("sqlite:///data/x.sqlite") == ROOT / "data" / "x.sqlite"
    assert backend.sqlite_path("sqlite:////var/x.sqlite") == Path("/var/x.sqlite")
    assert backend.TOKEN_PARAM == "ws"


def test_off_means_no_store(monkeypatch):
    assert open_store("off") is None
    assert open_store(" OFF ") is None
    monkeypatch.setenv(backend.ENV_URL, "off")
    assert open_store() is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://me:s3cret-pw@db.example/app", "'mysql'"),
        ("sqlite://relative.sqlite", "three slashes"),
        ("data/workspaces.sqlite", "sqlite:///"),
        ("postgresql:/nohost", "'postgresql'"),
    ],
)
def test_unsupported_urls_are_refused_in_words(url, words):
    with pytest.raises(ValueError, match=backend.ENV_URL) as caught:
        open_store(url)
    assert words in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_an_unreachable_postgresql_names_the_host_but_not_the_password(scheme):
    with pytest.raises(ValueError) as caught:
        open_store(f"{scheme}://nnlab:s3cret-pw@127.0.0.1:1/nnlab_test")
    message = str(caught.value)
    assert "127.0.0.1:1" in message and "nnlab_test" in message
    assert "s3cret-pw" not in message


def test_the_url_comes_from_the_environment_and_folders_are_made(monkeypatch, tmp_path):
    path = tmp_path / "deep" / "er" / "ws.sqlite"
    monkeypatch.setenv(backend.ENV_URL, f"sqlite:///{path}")
    with open_store(limits=ROOMY) as store:
        assert store.kind == "sqlite"
        assert store.describe() == f"SQLite file {path}"
        assert path.is_file()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# ---- the API on both databases ----


def test_binary_items_come_back_byte_for_byte(store):
    ws = backend.new_token()
    items = {
        "all bytes": bytes(range(256)),
        "empty": b"",
        "nul": b"\x00" * 10,
        "big": random.Random(1).randbytes(300_000),
        "a name with spaces, é and ?": b"?%s\\x00",
    }
    store.save(ws, items)
    loaded = store.load(ws)
    assert loaded == items
    assert all(type(data) is bytes for data in loaded.values())
    assert store.workspace_bytes(ws) == sum(len(d) for d in items.values())
    assert store.rows(ws) == 1 + len(items)


def test_bytearray_and_memoryview_are_saved_as_bytes(store):
    ws = backend.new_token()
    store.save(ws, {"a": bytearray(b"abc"), "b": memoryview(b"xyz")})
    assert store.load(ws) == {"a": b"abc", "b": b"xyz"}


def test_an_unknown_workspace_is_none_and_not_created(store):
    ws = backend.new_token()
    assert store.load(ws) is None
    assert store.rows(ws) == 0
    assert store.workspace_bytes(ws) == 0


def test_saving_replaces_items_and_none_deletes_one(store):
    ws = backend.new_token()
    store.save(ws, {"a": b"first", "b": b"bee"})
    store.save(ws, {"a": b"second", "c": None})  # deleting an item that is not there is fine
    assert store.load(ws) == {"a": b"second", "b": b"bee"}
    store.save(ws, {"a": None})
    assert store.load(ws) == {"b": b"bee"}
    assert store.rows(ws) == 2
    assert store.workspace_bytes(ws) == 3
    store.save(ws, {"b": None})
    assert store.load(ws) == {}  # known, but empty


@pytest.mark.parametrize(
    ("workspace", "items", "error", "words"),
    [
        ("", {"a": b""}, ValueError, "workspace name"),
        (None, {"a": b""}, ValueError, "workspace name"),
        ("w", {"": b"x"}, ValueError, "item name"),
        ("w", {"a": b"ok", "b": "text"}, TypeError, "'b' must be bytes"),
        ("w", [("a", b"")], TypeError, "dict"),
    ],
)
def test_bad_saves_are_refused_and_write_nothing(store, workspace, items, error, words):
    with pytest.raises(error, match=words):
        store.save(workspace, items)
    assert store.total_bytes() == 0
    assert store.rows("w") == 0


def test_forget_removes_every_row_and_leaves_others_alone(store):
    mine, other = backend.new_token(), backend.new_token()
    store.save(mine, {"a": b"1", "b": b"2"})
    store.save(other, {"a": b"3"})
    assert store.rows(mine) == 3
    store.forget(mine)
    assert store.rows(mine) == 0
    assert store.load(mine) is None
    assert store.load(other) == {"a": b"3"}
    assert store.rows(other) == 2
    assert store.total_bytes() == 1
    store.forget(mine)  # twice is fine


def test_the_workspace_cap_raises_store_full_and_writes_nothing(opened):
    store = opened(Limits(days=7, workspace_bytes=1000, total_bytes=1_000_000, sweep_s=3600))
    ws = backend.new_token()
    store.save(ws, {"a": b"a" * 600})
    with pytest.raises(StoreFull) as caught:
        store.save(ws, {"c": b"c" * 10, "b": b"b" * 490})
    assert isinstance(caught.value, ValueError)
    assert (caught.value.size, caught.value.limit) == (1100, 1000)
    assert "1.1 kB" in str(caught.value) and "1 kB" in str(caught.value)
    assert store.load(ws) == {"a": b"a" * 600}
    assert store.rows(ws) == 2
    store.save(ws, {"a": None, "b": b"b" * 1000})  # replacing within the cap is fine
    assert store.load(ws) == {"b": b"b" * 1000}
    fresh = backend.new_token()
    with pytest.raises(StoreFull, match="1 kB"):
        store.save(fresh, {"x": b"x" * 1001})
    assert store.rows(fresh) == 0  # not even the workspace's row
    assert store.load(fresh) is None


def test_the_total_cap_evicts_least_recently_seen_others(opened):
    clock = Clock()
    store = opened(Limits(days=7, workspace_bytes=5000, total_bytes=3000, sweep_s=3600), clock)
    a, b, c, d = (backend.new_token() for _ in range(4))
    for ws, size in ((a, 1000), (b, 1000), (c, 800)):
        clock.advance(1)
        store.save(ws, {"x": b"x" * size})
    clock.advance(1)
    assert store.load(a) is not None  # a is now seen after b and c
    clock.advance(1)
    store.save(d, {"x": b"x" * 900})  # 3700 bytes: b (least recently seen) goes
    assert store.rows(b) == 0
    assert [store.rows(ws) for ws in (a, c, d)] == [2, 2, 2]
    assert store.total_bytes() == 2700
    clock.advance(1)
    store.save(a, {"x": b"x" * 2000})  # 3700 again: c goes, never a (being saved)
    assert store.rows(c) == 0
    assert store.load(a) == {"x": b"x" * 2000}
    assert store.load(d) == {"x": b"x" * 900}


def test_the_workspace_being_saved_is_never_evicted(opened):
    clock = Clock()
    store = opened(Limits(days=7, workspace_bytes=5000, total_bytes=1000, sweep_s=3600), clock)
    x, y = backend.new_token(), backend.new_token()
    store.save(x, {"big": b"x" * 3000})  # alone past the total: nothing else to evict
    assert store.load(x) == {"big": b"x" * 3000}
    clock.advance(1)
    store.save(y, {"small": b"y" * 500})
    assert store.rows(x) == 0
    assert store.load(y) == {"small": b"y" * 500}
    assert store.total_bytes() == 500


def test_sweep_enforces_a_smaller_total_cap(store_url, opened):
    clock = Clock()
    big = opened(ROOMY, clock)
    spaces = [backend.new_token() for _ in range(3)]
    for ws in spaces:
        clock.advance(1)
        big.save(ws, {"x": b"x" * 1000})
    small = opened(Limits(days=7, workspace_bytes=5000, total_bytes=1500, sweep_s=3600), clock)
    assert small.sweep() == 2
    assert [small.rows(ws) for ws in spaces] == [0, 0, 2]


def test_workspaces_expire_after_days_without_a_visit(opened):
    clock = Clock()
    store = opened(Limits(days=1, workspace_bytes=5000, total_bytes=100_000, sweep_s=3600), clock)
    a, b, c = backend.new_token(), backend.new_token(), backend.new_token()
    store.save(a, {"x": b"a"})
    clock.advance(0.5 * DAY)
    store.save(b, {"x": b"b"})
    clock.advance(0.7 * DAY)  # a unseen for 1.2 days, b for 0.7
    assert store.load(a) is None
    assert store.rows(a) == 0
    assert store.load(b) == {"x": b"b"}  # and seen again now
    assert store.sweep() == 0
    clock.advance(0.9 * DAY)
    store.save(c, {"x": b"c"})
    assert store.sweep() == 0  # b unseen for 0.9 days
    clock.advance(0.2 * DAY)
    assert store.sweep() == 1  # b (1.1 days) goes, c (0.2 days) stays
    assert store.rows(b) == 0 and store.rows(c) == 2
    assert store.sweep(now=clock() + 2 * DAY) == 1
    assert store.rows(c) == 0
    assert store.total_bytes() == 0


def test_describe_names_the_place_and_never_the_password(store, store_url):
    text = store.describe()
    if store.kind == "sqlite":
        assert text == f"SQLite file {backend.sqlite_path(store_url)}"
        return
    parts = urlsplit(store_url)
    assert text == f"PostgreSQL database {parts.path.lstrip('/')} on {parts.hostname}:{parts.port}"
    assert parts.password and f":{parts.password}@" not in text + repr(store)
    assert store_url not in repr(store)


def test_a_closed_store_says_so(opened):
    store = opened()
    store.close()
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.load(backend.new_token())


def test_a_second_store_on_the_same_database_sees_the_same_workspaces(store, opened):
    ws = backend.new_token()
    store.save(ws, {"a": b"1"})
    other = opened()
    assert other.load(ws) == {"a": b"1"}
    other.save(ws, {"a": b"2"})
    assert store.load(ws) == {"a": b"2"}


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_postgresql_reconnects_once_when_its_connection_is_dropped(store):
    import psycopg

    ws = backend.new_token()
    store.save(ws, {"a": b"1"})
    pid = store._conn.info.backend_pid
    with psycopg.connect(os.environ[PG_ENV], autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    assert store.load(ws) == {"a": b"1"}
    assert store._conn.info.backend_pid != pid


# ---- several writers ----


def test_threads_writing_the_same_items_leave_one_complete_save(store):
    ws = backend.new_token()
    whos = [f"thread{n}" for n in range(4)]
    run_threads(store, ws, whos, rounds=25)
    source = check_consistent(store.load(ws))
    who, i = source.split(":")
    assert who in whos and 0 <= int(i) < 25
    run_threads(store, ws, ["first"], rounds=1)  # sequenced: the last completed write wins
    run_threads(store, ws, ["second"], rounds=1)
    assert check_consistent(store.load(ws)) == "second:0"
    assert tag_of(store.load(ws)["solo"]) == "second:0:solo"


def test_processes_writing_the_same_items_leave_one_complete_save(store, store_url):
    ws = backend.new_token()
    whos = [f"process{n}" for n in range(4)]
    run_processes(store_url, ws, whos, rounds=20)
    source = check_consistent(store.load(ws))
    who, i = source.split(":")
    assert who in whos and 0 <= int(i) < 20
    run_processes(store_url, ws, ["first"], rounds=1)  # sequenced: the last completed write wins
    assert check_consistent(store.load(ws)) == "first:0"
    run_threads(store, ws, ["second"], rounds=1)
    run_processes(store_url, ws, ["third"], rounds=1)
    assert check_consistent(store.load(ws)) == "third:0"
    assert store.rows(ws) == 1 + len(NAMES) + 1


# ---- the background sweep ----


def wait_until(condition, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_the_sweeper_removes_expired_workspaces_until_stopped(opened):
    clock = Clock()
    store = opened(Limits(days=1, workspace_bytes=5000, total_bytes=100_000, sweep_s=0.05), clock)
    first, second, kept = backend.new_token(), backend.new_token(), backend.new_token()
    store.save(first, {"x": b"1"})
    clock.advance(2 * DAY)
    thread, stop = backend.start_sweeper(store, 0.05)
    try:
        assert thread.daemon
        assert wait_until(lambda: store.rows(first) == 0)
        store.save(second, {"x": b"2"})
        clock.advance(2 * DAY)
        store.save(kept, {"x": b"3"})
        assert wait_until(lambda: store.rows(second) == 0)  # swept again, later
        assert store.rows(kept) == 2
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def test_a_failing_sweep_is_logged_and_the_sweeper_goes_on(caplog):
    class Flaky:
        calls = 0

        def sweep(self) -> int:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("disk on fire")
            return 0

    flaky = Flaky()
    with caplog.at_level(logging.ERROR, logger="nn_lab.store"):
        thread, stop = backend.start_sweeper(flaky, 0.02)
        try:
            assert wait_until(lambda: flaky.calls >= 3)
        finally:
            stop.set()
            thread.join(5)
    assert not thread.is_alive()
    failed = [r for r in caplog.records if r.name == "nn_lab.store" and r.exc_info]
    assert failed and "disk on fire" in str(failed[0].exc_info[1])


@pytest.mark.parametrize("interval", [0, -1, float("nan"), float("inf")])
def test_the_sweep_interval_must_be_positive(interval):
    with pytest.raises(ValueError, match="sweep interval"):
        backend.start_sweeper(None, interval)


# ---- a damaged SQLite file ----


def filled_store(path: Path) -> str:
    """A real store at ``path`` with ~200 kB in it, closed; the workspace's token."""
    ws = backend.new_token()
    with open_store(f"sqlite:///{path}", ROOMY) as store:
        for n in range(10):
            store.save(ws, {f"item{n}": random.Random(n).randbytes(20_000)})
    assert not Path(f"{path}-wal").exists()  # checkpointed on close: the file holds everything
    return ws


def garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database\n" * 2000)
    Path(f"{path}-wal").write_bytes(b"nor is this a log" * 100)
    Path(f"{path}-shm").write_bytes(b"\x01" * 32768)


def truncated(path: Path) -> None:
    filled_store(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def zeroed_header(path: Path) -> None:
    filled_store(path)
    data = path.read_bytes()
    path.write_bytes(b"\0" * 100 + data[100:])


@pytest.mark.parametrize("damage", [garbage, truncated, zeroed_header])
def test_a_damaged_sqlite_file_is_moved_aside_and_a_fresh_store_used(tmp_path, caplog, damage):
    path = tmp_path / "store" / "workspaces.sqlite"
    path.parent.mkdir()
    damage(path)
    damaged = path.read_bytes()
    sidecars = {
        s: Path(f"{path}{s}").read_bytes() for s in ("-wal", "-shm") if Path(f"{path}{s}").exists()
    }
    with caplog.at_level(logging.WARNING, logger="nn_lab.store"):
        store = open_store(f"sqlite:///{path}", ROOMY)
    try:
        aside = [p for p in path.parent.iterdir() if ".corrupt-" in p.name]
        moved = [p for p in aside if not p.name.endswith(("-wal", "-shm"))]
        assert len(moved) == 1, aside
        assert moved[0].name.startswith("workspaces.sqlite.corrupt-2")
        assert moved[0].read_bytes() == damaged
        if sidecars:  # the log as it was (the -shm is only an index SQLite rebuilds)
            assert Path(f"{moved[0]}-wal").read_bytes() == sidecars["-wal"]
            assert Path(f"{moved[0]}-shm").exists()
        warnings = [
            r for r in caplog.records if r.name == "nn_lab.store" and r.levelno == logging.WARNING
        ]
        assert len(warnings) == 1
        assert str(path) in warnings[0].getMessage() and str(moved[0]) in warnings[0].getMessage()
        assert store.total_bytes() == 0
        ws = backend.new_token()
        store.save(ws, {"a": b"works"})
        assert store.load(ws) == {"a": b"works"}
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_healthy_sqlite_file_is_kept_as_it_is(tmp_path, caplog):
    path = tmp_path / "workspaces.sqlite"
    ws = filled_store(path)
    with (
        caplog.at_level(logging.WARNING, logger="nn_lab.store"),
        open_store(f"sqlite:///{path}", ROOMY) as first,
        open_store(f"sqlite:///{path}", ROOMY) as second,  # as a second process would
    ):
        assert len(first.load(ws)) == 10
        assert second.load(ws) == first.load(ws)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name] == []


@pytest.mark.parametrize("shm", ["kept", "lost"])
def test_a_store_left_by_a_crashed_process_is_recovered_not_moved_aside(tmp_path, caplog, shm):
    path = tmp_path / "workspaces.sqlite"
    ws = backend.new_token()
    crash = (
        "import os, sys; from dashboard.store.backend import open_store; "
        "s = open_store(sys.argv[1]); s.save(sys.argv[2], {'a': b'x' * 100_000}); os._exit(0)"
    )
    subprocess.run(
        [sys.executable, "-c", crash, f"sqlite:///{path}", ws], cwd=ROOT, check=True, timeout=60
    )
    assert Path(f"{path}-wal").stat().st_size > 100_000  # the save is only in the log
    if shm == "lost":
        Path(f"{path}-shm").unlink()
    with (
        caplog.at_level(logging.WARNING, logger="nn_lab.store"),
        open_store(f"sqlite:///{path}", ROOMY) as store,
    ):
        assert store.load(ws) == {"a": b"x" * 100_000}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name] == []
