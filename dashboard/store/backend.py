"""Where visitors' workspaces are kept: opaque named items under a workspace token, in SQLite or
PostgreSQL, bounded in size and in time.

- **Which database.** ``NN_LAB_STORE`` unset or empty: one SQLite file, ``DEFAULT_PATH``
  (standard library ``sqlite3``, WAL mode so readers never wait for the writer). A
  ``sqlite:///path`` URL puts it elsewhere (SQLAlchemy's spelling: ``sqlite:///data/x.sqlite``
  is relative to the project folder, ``sqlite:////var/lib/x.sqlite`` absolute). A
  ``postgresql://`` (or ``postgres://``) URL keeps the workspaces in PostgreSQL, so that replicas
  on several machines share them; ``off`` keeps nothing (``open_store`` returns None).
- **Why psycopg 3.** It is PostgreSQL's reference driver for Python, small, with binary wheels
  (``psycopg[binary]``, no compiler or libpq needed); two tables of plain SQL need no ORM, and the
  same statements (``INSERT ... ON CONFLICT ... DO UPDATE``) run on both databases. It is
  imported only when a PostgreSQL URL is given.
- **Bounds.** A workspace may hold ``NN_LAB_WORKSPACE_MB`` (a save that would make it bigger
  raises ``StoreFull`` and writes nothing); the store ``NN_LAB_STORE_MB`` in all (past it, the
  least recently seen other workspaces go); a workspace unseen for ``NN_LAB_STORE_DAYS`` days is
  deleted (when it is next asked for, and by the background sweep every ``NN_LAB_STORE_SWEEP_S``
  seconds). Sizes count the items' bytes only (1 MB = 1,000,000 bytes). ``forget`` deletes
  every row of a workspace.
- **Tables.** ``nn_lab_workspaces`` (id, created, last_seen), ``nn_lab_items`` (workspace, name,
  data, size, updated) and ``nn_lab_meta`` (the schema version), prefixed so that they can share
  a PostgreSQL database with other applications' tables.
- **Several writers.** Every call is one transaction; tabs (threads) share one connection
  behind a lock, and several processes may open the same file or database: SQLite serializes
  writers (``BEGIN IMMEDIATE``, a 10 s busy timeout), PostgreSQL locks the workspace's row
  first. Per item, the last writer wins; a save's items land together or not at all.
- **Damage.** A SQLite file that is not a database, or fails ``PRAGMA quick_check``, is moved
  aside (``<name>.corrupt-<UTC time>``, with its -wal/-shm files) with a WARNING on the
  ``nn_lab.store`` logger, and a fresh, empty store starts in its place.

Items are bytes given by the caller and returned as they were: nothing is pickled here.
"""

from __future__ import annotations

import logging
import math
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ENV_URL = "NN_LAB_STORE"
ENV_DAYS = "NN_LAB_STORE_DAYS"
ENV_WORKSPACE_MB = "NN_LAB_WORKSPACE_MB"
ENV_TOTAL_MB = "NN_LAB_STORE_MB"
ENV_SWEEP_S = "NN_LAB_STORE_SWEEP_S"
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PATH = ROOT / "data" / "store" / "workspaces.sqlite"
TOKEN_PARAM = "ws"
MB = 1_000_000
DEFAULT_DAYS = 7.0
DEFAULT_WORKSPACE_MB = 20.0
DEFAULT_TOTAL_MB = 1000.0
DEFAULT_SWEEP_S = 3600.0
SQLITE_BUSY_TIMEOUT_S = 10.0
POSTGRES_CONNECT_TIMEOUT_S = 5
SCHEMA_VERSION = 1
MAX_NAME_LENGTH = 200  # workspace and item names: ours are short; a bound keeps rows small
WORKSPACES, ITEMS, META = "nn_lab_workspaces", "nn_lab_items", "nn_lab_meta"

log = logging.getLogger("nn_lab.store")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


class StoreFull(ValueError):  # noqa: N818 (the name the app's code and tests use)
    """A save would make the workspace bigger than one workspace may be (nothing was written)."""

    def __init__(self, size: int, limit: int):
        self.size, self.limit = size, limit
        super().__init__(
            f"it would hold {human_size(size)}, more than the {human_size(limit)} "
            "one workspace may keep on this server."
        )


def human_size(n: int) -> str:
    """Bytes in words: "512 bytes", "3.4 kB", "20 MB"."""
    if n >= MB:
        return f"{n / MB:.1f} MB".replace(".0 MB", " MB")
    if n >= 1000:
        return f"{n / 1000:.1f} kB".replace(".0 kB", " kB")
    return f"{n} byte{'' if n == 1 else 's'}"


def new_token() -> str:
    """A fresh unguessable workspace token (192 random bits, 32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def valid_token(text: object) -> bool:
    """True for exactly the shape ``new_token`` makes, False for anything else."""
    return isinstance(text, str) and _TOKEN.fullmatch(text) is not None


@dataclass(frozen=True)
class Limits:
    """How long and how much the store keeps."""

    days: float = DEFAULT_DAYS  # a workspace unseen for longer is deleted
    workspace_bytes: int = int(DEFAULT_WORKSPACE_MB * MB)  # one workspace's items at most
    total_bytes: int = int(DEFAULT_TOTAL_MB * MB)  # all items at most (least recently seen go)
    sweep_s: float = DEFAULT_SWEEP_S  # the background sweep's interval


def _positive(environ: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(environ.get(name, ""))
    except ValueError:
        return default
    return value if math.isfinite(value) and value > 0 else default


def _bytes(environ: Mapping[str, str], name: str, default_mb: float) -> int:
    return max(1, int(_positive(environ, name, default_mb) * MB))


def limits_from_env(environ: Mapping[str, str] = os.environ) -> Limits:
    """The limits set in the environment; a missing, unreadable, infinite or non-positive value
    falls back to its default."""
    return Limits(
        days=_positive(environ, ENV_DAYS, DEFAULT_DAYS),
        workspace_bytes=_bytes(environ, ENV_WORKSPACE_MB, DEFAULT_WORKSPACE_MB),
        total_bytes=_bytes(environ, ENV_TOTAL_MB, DEFAULT_TOTAL_MB),
        sweep_s=_positive(environ, ENV_SWEEP_S, DEFAULT_SWEEP_S),
    )


def _check_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"A {what} name must be a text of 1 to {MAX_NAME_LENGTH} characters.")
    return name


def _check_items(items: Mapping[str, bytes | None]) -> dict[str, bytes | None]:
    if not isinstance(items, Mapping):
        raise TypeError("The items to save must be a dict of name -> bytes (or None).")
    checked: dict[str, bytes | None] = {}
    for name, data in items.items():
        _check_name(name, "item")
        if data is not None and not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"Item {name!r} must be bytes or None, not {type(data).__name__}.")
        checked[name] = None if data is None else bytes(data)
    return checked


class Store:
    """The SQL both databases share. Statements are written with ``?`` placeholders; a backend
    runs a function of a cursor in one transaction (``_run``), serialized by its lock."""

    kind = ""
    placeholder = "?"

    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.time):
        self.limits = limits if limits is not None else limits_from_env()
        self.clock = clock
        self._lock = threading.Lock()
        self._closed = False

    # ---- what a backend provides ----

    def _run(self, work: Callable[[Any], Any], write: bool = True) -> Any:
        """``work(cursor)`` in one transaction (committed, or rolled back when it raises)."""
        raise NotImplementedError

    def describe(self) -> str:
        """Where the workspaces are kept, in words (never a password)."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def _schema(self) -> list[str]:
        raise NotImplementedError

    # ---- helpers ----

    def _q(self, cur, sql: str, params: tuple = ()):
        cur.execute(sql.replace("?", self.placeholder), params)
        return cur

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"The workspace store ({self.describe()}) is closed.")

    def _cutoff(self, now: float) -> float:
        return now - self.limits.days * 86400.0

    def _create_tables(self, cur) -> None:
        for statement in self._schema():
            self._q(cur, statement)
        self._q(
            cur,
            f"INSERT INTO {META} (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            ("schema_version", str(SCHEMA_VERSION)),
        )
        found = self._q(cur, f"SELECT value FROM {META} WHERE name = ?", ("schema_version",))
        version = int(found.fetchone()[0])
        if version > SCHEMA_VERSION:
            raise ValueError(
                f"The workspace store ({self.describe()}) was written by a newer version of the "
                f"app (schema {version}; this one knows {SCHEMA_VERSION})."
            )

    def _delete(self, cur, workspace: str, seen_before: float | None = None) -> bool:
        """Delete a workspace's rows; with ``seen_before``, only if it was not seen since (a
        visit or save by another writer in the meantime keeps it)."""
        if seen_before is None:
            gone = self._q(cur, f"DELETE FROM {WORKSPACES} WHERE id = ?", (workspace,)).rowcount
        else:
            gone = self._q(
                cur,
                f"DELETE FROM {WORKSPACES} WHERE id = ? AND last_seen <= ?",
                (workspace, seen_before),
            ).rowcount
        if gone or seen_before is None:
            self._q(cur, f"DELETE FROM {ITEMS} WHERE workspace = ?", (workspace,))
        return bool(gone)

    # ---- the API ----

    def load(self, workspace: str) -> dict[str, bytes] | None:
        """All items of a workspace, marking it seen now; None when it is unknown or expired (an
        expired one is deleted)."""
        _check_name(workspace, "workspace")
        self._check_open()
        now = self.clock()

        def work(cur):
            row = self._q(
                cur, f"SELECT last_seen FROM {WORKSPACES} WHERE id = ?", (workspace,)
            ).fetchone()
            if row is None:
                return None
            if row[0] < self._cutoff(now):
                self._delete(cur, workspace, seen_before=row[0])
                return None
            self._q(cur, f"UPDATE {WORKSPACES} SET last_seen = ? WHERE id = ?", (now, workspace))
            found = self._q(
                cur, f"SELECT name, data FROM {ITEMS} WHERE workspace = ?", (workspace,)
            ).fetchall()
            return {name: bytes(data) for name, data in found}

        return self._run(work)

    def save(self, workspace: str, items: Mapping[str, bytes | None]) -> None:
        """Write items (None deletes one) in one transaction, marking the workspace seen now.

        Raises ``StoreFull`` (writing nothing) when the workspace's items would pass
        ``limits.workspace_bytes``. Afterwards, a store past ``limits.total_bytes`` drops the
        least recently seen other workspaces until it is not."""
        _check_name(workspace, "workspace")
        items = _check_items(items)
        self._check_open()
        now = self.clock()

        def work(cur):
            # The workspace's row first: on PostgreSQL its row lock orders concurrent saves.
            self._q(
                cur,
                f"INSERT INTO {WORKSPACES} (id, created, last_seen) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen",
                (workspace, now, now),
            )
            sizes = dict(
                self._q(
                    cur, f"SELECT name, size FROM {ITEMS} WHERE workspace = ?", (workspace,)
                ).fetchall()
            )
            for name, data in items.items():
                sizes[name] = 0 if data is None else len(data)
            size = sum(int(s) for s in sizes.values())
            if size > self.limits.workspace_bytes:
                raise StoreFull(size, self.limits.workspace_bytes)
            for name in sorted(items):
                data = items[name]
                if data is None:
                    self._q(
                        cur,
                        f"DELETE FROM {ITEMS} WHERE workspace = ? AND name = ?",
                        (workspace, name),
                    )
                else:
                    self._q(
                        cur,
                        f"INSERT INTO {ITEMS} (workspace, name, data, size, updated) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (workspace, name) DO UPDATE SET "
                        "data = excluded.data, size = excluded.size, updated = excluded.updated",
                        (workspace, name, data, len(data), now),
                    )

        self._run(work)
        if self.total_bytes() > self.limits.total_bytes:
            self._evict(keep=workspace)

    def forget(self, workspace: str) -> None:
        """Delete every row of a workspace (its items and itself)."""
        _check_name(workspace, "workspace")
        self._check_open()
        self._run(lambda cur: self._delete(cur, workspace))

    def sweep(self, now: float | None = None) -> int:
        """Delete the workspaces unseen for more than ``limits.days``, then the least recently
        seen ones while the store is past ``limits.total_bytes``; how many went."""
        self._check_open()
        now = self.clock() if now is None else now
        cutoff = self._cutoff(now)
        stale = self._run(
            lambda cur: self._q(
                cur, f"SELECT id, last_seen FROM {WORKSPACES} WHERE last_seen < ?", (cutoff,)
            ).fetchall(),
            write=False,
        )
        removed = 0
        for workspace, seen in stale:  # one transaction each: writers wait at most one delete
            removed += self._run(lambda cur, w=workspace, s=seen: self._delete(cur, w, s))
        if self.total_bytes() > self.limits.total_bytes:
            removed += self._evict(keep="")
        if removed:
            log.info("Swept %d workspace(s) from %s.", removed, self.describe())
        return removed

    def _evict(self, keep: str) -> int:
        """Delete least recently seen workspaces other than ``keep`` until the store fits."""
        total = self.total_bytes()
        candidates = self._run(
            lambda cur: self._q(
                cur,
                f"SELECT w.id, w.last_seen, COALESCE(SUM(i.size), 0) FROM {WORKSPACES} w "
                f"LEFT JOIN {ITEMS} i ON i.workspace = w.id WHERE w.id <> ? "
                "GROUP BY w.id, w.last_seen ORDER BY w.last_seen, w.id",
                (keep,),
            ).fetchall(),
            write=False,
        )
        removed = 0
        for workspace, seen, size in candidates:
            if total <= self.limits.total_bytes:
                break
            if self._run(lambda cur, w=workspace, s=seen: self._delete(cur, w, s)):
                total -= int(size)
                removed += 1
        if removed:
            log.info(
                "The store was past %s: %d least recently seen workspace(s) deleted.",
                human_size(self.limits.total_bytes),
                removed,
            )
        return removed

    def rows(self, workspace: str) -> int:
        """Rows of a workspace in all tables (0 once it is forgotten)."""
        self._check_open()

        def work(cur):
            own = self._q(cur, f"SELECT COUNT(*) FROM {WORKSPACES} WHERE id = ?", (workspace,))
            count = int(own.fetchone()[0])
            items = self._q(cur, f"SELECT COUNT(*) FROM {ITEMS} WHERE workspace = ?", (workspace,))
            return count + int(items.fetchone()[0])

        return self._run(work, write=False)

    def workspace_bytes(self, workspace: str) -> int:
        """The bytes of a workspace's items."""
        self._check_open()
        return self._run(
            lambda cur: int(
                self._q(
                    cur,
                    f"SELECT COALESCE(SUM(size), 0) FROM {ITEMS} WHERE workspace = ?",
                    (workspace,),
                ).fetchone()[0]
            ),
            write=False,
        )

    def total_bytes(self) -> int:
        """The bytes of all items in the store."""
        self._check_open()
        return self._run(
            lambda cur: int(
                self._q(cur, f"SELECT COALESCE(SUM(size), 0) FROM {ITEMS}").fetchone()[0]
            ),
            write=False,
        )

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()!r}, {self.limits})"


# ---- SQLite ----


def _sqlite_damaged(error: sqlite3.DatabaseError) -> bool:
    """Whether an error opening a SQLite file means the file is damaged (not busy, not a
    permission problem)."""
    name = getattr(error, "sqlite_errorname", None) or ""
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_IOERR_SHORT_READ")):
        return True
    return not isinstance(error, sqlite3.OperationalError)


class SQLiteStore(Store):
    """Workspaces in one SQLite file (WAL mode); several processes may open it at once."""

    kind = "sqlite"
    placeholder = "?"

    def __init__(
        self,
        path: str | os.PathLike,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.time,
    ):
        super().__init__(limits, clock)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = self._open()

    def _check(self) -> None:
        """Raise sqlite3.DatabaseError when the file is there and fails ``PRAGMA quick_check``.
        Read-only: closing a read-write connection to a damaged file deletes its -wal and -shm,
        which may hold its last commits."""
        if not self.path.is_file() or self.path.stat().st_size == 0:
            return
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_S)
        try:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
        finally:
            conn.close()
        if problems != ["ok"]:
            raise sqlite3.DatabaseError("quick_check: " + "; ".join(problems[:5]))

    def _connect(self) -> sqlite3.Connection:
        self._check()
        # Autocommit mode: transactions are begun and ended explicitly in _run.
        conn = sqlite3.connect(
            self.path,
            timeout=SQLITE_BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,  # one connection for every thread, behind self._lock
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("%s: WAL mode refused (journal mode %s).", self.path, mode)
            # WAL with synchronous=NORMAL never corrupts; a power cut may lose the last commits.
            conn.execute("PRAGMA synchronous = NORMAL")
            self._begin(conn)
            try:
                self._create_tables(conn.cursor())
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except BaseException:
            conn.close()
            raise
        return conn

    def _open(self) -> sqlite3.Connection:
        """Connect; a damaged file is moved aside and a fresh one started."""
        for _ in range(3):
            before = _file_id(self.path)
            try:
                return self._connect()
            except sqlite3.DatabaseError as exc:
                if not _sqlite_damaged(exc):
                    raise
                if _file_id(self.path) != before:
                    continue  # another process replaced it meanwhile: check the new one
                aside = self._move_aside()
                log.warning(
                    "The workspace store %s is damaged (%s); it was moved to %s and a fresh, "
                    "empty store started.",
                    self.path,
                    exc,
                    aside,
                )
        return self._connect()

    def _move_aside(self) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
            n += 1
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                os.replace(source, Path(f"{aside}{suffix}"))
        return aside

    @staticmethod
    def _begin(conn: sqlite3.Connection, write: bool = True) -> None:
        # IMMEDIATE takes the write lock at once (waiting up to the busy timeout), so a
        # transaction never fails half-way on another process's write.
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def _run(self, work, write: bool = True):
        with self._lock:
            self._check_open()
            conn = self._conn
            self._begin(conn, write)
            try:
                result = work(conn.cursor())
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result

    def _schema(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {META} (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {WORKSPACES} (id TEXT PRIMARY KEY, "
            "created REAL NOT NULL, last_seen REAL NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {WORKSPACES}_seen ON {WORKSPACES} (last_seen)",
            f"CREATE TABLE IF NOT EXISTS {ITEMS} (workspace TEXT NOT NULL, name TEXT NOT NULL, "
            "data BLOB NOT NULL, size INTEGER NOT NULL, updated REAL NOT NULL, "
            "PRIMARY KEY (workspace, name))",
        ]

    def describe(self) -> str:
        try:
            shown = self.path.resolve().relative_to(ROOT)
        except ValueError:
            shown = self.path
        return f"SQLite file {shown}"


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///`` URL (relative paths from the project folder)."""
    rest = url[len("sqlite:///") :]
    if not rest:
        raise ValueError("A SQLite store URL needs a file: sqlite:///data/store/x.sqlite.")
    path = Path(rest).expanduser()
    return path if path.is_absolute() else ROOT / path


# ---- PostgreSQL ----


class PostgresStore(Store):
    """Workspaces in a PostgreSQL database, over one connection guarded by a lock (reconnected
    once when it breaks); several processes may share the database."""

    kind = "postgresql"
    placeholder = "%s"

    def __init__(
        self, url: str, limits: Limits | None = None, clock: Callable[[], float] = time.time
    ):
        super().__init__(limits, clock)
        try:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict
        except ImportError as exc:
            raise ValueError(
                "A PostgreSQL store needs the psycopg package: pip install 'psycopg[binary]'."
            ) from exc
        self._psycopg = psycopg
        self._url = url
        try:
            info = conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise ValueError(f"The PostgreSQL URL in {ENV_URL} cannot be read.") from exc
        self._password = str(info.get("password") or "")
        self.host = str(info.get("host") or "localhost")
        self.port = str(info.get("port") or "5432")
        self.dbname = str(info.get("dbname") or info.get("user") or "")
        self._conn = self._connect()
        try:
            self._run(self._setup)
        except BaseException:
            self._conn.close()
            raise

    def _setup(self, cur) -> None:
        # Several processes may start at once: CREATE TABLE IF NOT EXISTS can still race.
        self._q(cur, "SELECT pg_advisory_xact_lock(?)", (0x6E6E6C6162,))
        self._create_tables(cur)

    def _connect(self):
        psycopg = self._psycopg
        try:
            return psycopg.connect(
                self._url,
                autocommit=True,  # transactions are explicit: conn.transaction() in _run
                connect_timeout=POSTGRES_CONNECT_TIMEOUT_S,
                application_name="nn-lab-store",
            )
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if self._password:
                reason = reason.replace(self._password, "***")
            raise ValueError(
                f"The workspace store cannot connect to PostgreSQL at {self.host}:{self.port} "
                f"(database {self.dbname}): {reason}"
            ) from exc

    def _run(self, work, write: bool = True):
        psycopg = self._psycopg
        with self._lock:
            self._check_open()
            for attempt in range(2):
                try:
                    with self._conn.transaction(), self._conn.cursor() as cur:
                        return work(cur)
                except (psycopg.OperationalError, psycopg.InterfaceError):
                    # A dropped connection, or a deadlock/serialization failure: the whole
                    # transaction was rolled back, so it is safe to run it once more.
                    if attempt:
                        raise
                    if self._conn.closed or self._conn.broken:
                        self._conn.close()
                        self._conn = self._connect()

    def _schema(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {META} (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {WORKSPACES} (id TEXT PRIMARY KEY, "
            "created DOUBLE PRECISION NOT NULL, last_seen DOUBLE PRECISION NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {WORKSPACES}_seen ON {WORKSPACES} (last_seen)",
            f"CREATE TABLE IF NOT EXISTS {ITEMS} (workspace TEXT NOT NULL, name TEXT NOT NULL, "
            "data BYTEA NOT NULL, size INTEGER NOT NULL, updated DOUBLE PRECISION NOT NULL, "
            "PRIMARY KEY (workspace, name))",
        ]

    def describe(self) -> str:
        return f"PostgreSQL database {self.dbname} on {self.host}:{self.port}"


# ---- opening and sweeping ----


def open_store(
    url: str | None = None,
    limits: Limits | None = None,
    clock: Callable[[], float] = time.time,
) -> Store | None:
    """The store a URL names (None: ``NN_LAB_STORE``), its folders and tables created; None for
    "off". ValueError for an unsupported URL or an unreachable database."""
    url = (os.environ.get(ENV_URL, "") if url is None else url).strip()
    limits = limits if limits is not None else limits_from_env()
    if url.lower() == "off":
        return None
    if not url:
        return SQLiteStore(DEFAULT_PATH, limits, clock)
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        if not url.startswith("sqlite:///"):
            raise ValueError(
                f"A SQLite store in {ENV_URL} is written sqlite:///relative/path.sqlite or "
                "sqlite:////absolute/path.sqlite (three slashes, then the path)."
            )
        return SQLiteStore(sqlite_path(url), limits, clock)
    if scheme in ("postgresql", "postgres") and url[len(scheme) :].startswith("://"):
        return PostgresStore(url, limits, clock)
    raise ValueError(
        f"{ENV_URL} must be empty (a SQLite file in data/store/), sqlite:///path, "
        f"postgresql://user:password@host:port/database or off; "
        f"{'the scheme ' + repr(scheme) if scheme else 'this value'} is not supported."
    )


def start_sweeper(store: Store, interval_s: float) -> tuple[threading.Thread, threading.Event]:
    """A daemon thread sweeping the store now and every ``interval_s`` seconds until the event
    is set; a failed sweep is logged and the next one tried."""
    if not (math.isfinite(interval_s) and interval_s > 0):
        raise ValueError(f"The sweep interval must be a positive number of seconds: {interval_s}")
    stop = threading.Event()

    def sweep_forever() -> None:
        while not stop.is_set():
            try:
                store.sweep()
            except Exception:
                log.exception("Sweeping the workspace store failed; it is tried again later.")
            stop.wait(interval_s)

    thread = threading.Thread(target=sweep_forever, name="nn-lab-store-sweeper", daemon=True)
    thread.start()
    return thread, stop
