"""Serve the lab from N Streamlit replicas behind HAProxy with sticky sessions, on one machine.

    python deploy/serve.py --replicas 2 --port 8501

starts ``streamlit run streamlit_app.py`` N times on local ports (headless, bound to 127.0.0.1),
waits until each answers ``/_stcore/health``, writes the HAProxy configuration from
``deploy/haproxy.cfg.template`` and runs ``haproxy -f <config> -db`` in front of them on
``--port``. HAProxy pins each visitor to one replica with a cookie (``SERVERID``): a Streamlit
session lives in one process, and its uploads and downloads must reach that process. A replica
that dies is started again on its port (the proxy sends its visitors to a live replica meanwhile,
and new visitors to it again once it answers). Ctrl-C or SIGTERM stops everything this started.

Each replica gets ``NN_LAB_BLAS_THREADS=1`` unless it is set already: the app
(``dashboard/common/threads.py``) then limits BLAS and OpenMP to one thread in that process, so N
processes on N cores do not oversubscribe them. Set it to override, for every replica:
``NN_LAB_BLAS_THREADS=2 python deploy/serve.py ...``, or ``auto`` to leave the libraries at their
own default (and to variables such as ``OMP_NUM_THREADS``, which the app sets itself otherwise).
Likewise ``NN_LAB_CV_JOBS=1``: a cross-validation on the Compare page trains its folds in that
replica's one process instead of worker processes on other replicas' cores (set it to override).

All replicas share one workspace store. ``--store URL`` sets ``NN_LAB_STORE`` for every replica:
a ``postgresql://...`` URL for a database, ``""`` for the app's default, the SQLite file
``data/store/workspaces.sqlite`` under the project root, which every process on this machine
shares, or whatever else the app accepts there (``off``: keep nothing). Without ``--store`` the
replicas inherit ``NN_LAB_STORE`` as it is (unset: that file).

HAProxy is Debian's ``haproxy`` package (``apt-get install haproxy``). ``--print-config`` prints
the configuration and exits, for running HAProxy some other way. ``--no-sticky`` leaves the
cookie out (plain round robin): a broken setup, kept for the tests' negative control.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).resolve().parent / "haproxy.cfg.template"
APP = "streamlit_app.py"
COOKIE = "SERVERID"
PERSISTENCE = f"cookie {COOKIE} insert indirect nocache httponly"
NO_PERSISTENCE = "# no session affinity (--no-sticky): uploads fail once they reach another replica"
THREADS_ENV = "NN_LAB_BLAS_THREADS"  # read by dashboard/common/threads.py
CV_JOBS_ENV = "NN_LAB_CV_JOBS"  # read by dashboard/common/limits.py
STORE_ENV = "NN_LAB_STORE"  # the workspace store every replica uses (empty: the SQLite file)
MAX_REPLICAS = 64
HAPROXY_HINT = "HAProxy is not installed: `apt-get install haproxy` (Debian/Ubuntu)."
POLL_S = 0.5  # how often the supervisor looks at its processes
STOP_WAIT_S = 10  # how long a stopped process may take before it is killed
RESTART_BACKOFF_S = (1, 2, 5, 10, 30)  # waits before restarting a replica that keeps dying
STEADY_S = 60  # a replica that lived this long starts its backoff afresh when it dies


def server_name(index: int) -> str:
    """The HAProxy server name of replica ``index`` (from 1); also its cookie value."""
    return f"replica{index}"


def render_config(
    replica_ports: list[int],
    port: int,
    address: str = "0.0.0.0",
    sticky: bool = True,
    template: str | None = None,
) -> str:
    """The HAProxy configuration for replicas on ``replica_ports`` (127.0.0.1), proxied on
    ``address:port``; with a cookie per replica when ``sticky``."""
    template = TEMPLATE.read_text() if template is None else template
    servers = []
    for index, replica_port in enumerate(replica_ports, start=1):
        name = server_name(index)
        cookie = f" cookie {name}" if sticky else ""
        servers.append(f"    server {name} 127.0.0.1:{replica_port} check{cookie}")
    return string.Template(template).substitute(
        address=address,
        port=port,
        persistence=PERSISTENCE if sticky else NO_PERSISTENCE,
        servers="\n".join(servers),
    )


def replica_env(base: dict[str, str], store: str | None = None) -> dict[str, str]:
    """``base`` with one BLAS/OpenMP thread (``NN_LAB_BLAS_THREADS=1``) and cross-validations
    in the replica's own process (``NN_LAB_CV_JOBS=1``) unless the caller chose other values,
    and ``NN_LAB_STORE=store`` unless ``store`` is None."""
    env = dict(base)
    env.setdefault(THREADS_ENV, "1")
    env.setdefault(CV_JOBS_ENV, "1")
    if store is not None:
        env[STORE_ENV] = store
    return env


def describe_store(url: str | None) -> str:
    """The workspace store ``url`` (``NN_LAB_STORE``) in words for the log, without a password."""
    if not url:
        return "the SQLite file data/store/workspaces.sqlite under the project root"
    if "://" not in url:
        return url  # a word such as "off"
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if sep and "@" in host:  # user:password@host
        rest = "...@" + host.rsplit("@", 1)[1] + slash + path
    return scheme + sep + rest


def streamlit_command(port: int) -> list[str]:
    """``streamlit run streamlit_app.py`` headless on 127.0.0.1:``port``."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        APP,
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
    ]


def free_ports(n: int, avoid: set[int]) -> list[int]:
    """``n`` distinct free local ports, none of them in ``avoid``."""
    ports: list[int] = []
    while len(ports) < n:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            candidate = s.getsockname()[1]
        if candidate not in avoid and candidate not in ports:
            ports.append(candidate)
    return ports


def find_haproxy(path: str | None) -> str:
    """The HAProxy program to run: ``path``, or ``haproxy`` on PATH, or /usr/sbin/haproxy."""
    for candidate in (path,) if path else ("haproxy", "/usr/sbin/haproxy"):
        found = shutil.which(candidate)
        if found:
            return found
    if path:
        raise SystemExit(f"serve.py: --haproxy {path} is not a program that can be run")
    raise SystemExit(f"serve.py: {HAPROXY_HINT}")


def healthy(url: str) -> bool:
    """True when ``url``/_stcore/health answers ``ok``."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().strip() == b"ok"
    except OSError:
        return False


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the launcher dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(command: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen:
    """Start ``command`` in a process group of its own, its output appended to ``log_path``."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stopped as a whole, not by the terminal's ^C
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )


def stop(proc: subprocess.Popen | None) -> None:
    """Terminate ``proc``'s process group; kill it if it lingers."""
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    with contextlib.suppress(ProcessLookupError):  # anything the process left in its group
        os.killpg(proc.pid, signal.SIGKILL)


def say(message: str) -> None:
    print(f"serve.py: {message}", flush=True)


@dataclass
class Replica:
    """One ``streamlit run`` process and how to start it again."""

    index: int
    port: int
    log_path: Path
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    started: float = 0.0
    failures: int = 0  # deaths in a row without a steady run between them
    restart_at: float | None = None
    up: bool = False  # answered its health check since it was (re)started

    @property
    def name(self) -> str:
        return server_name(self.index)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = spawn(streamlit_command(self.port), self.log_path, self.env)
        self.started = time.monotonic()
        self.restart_at = None
        self.up = False

    def describe(self) -> str:
        pid = self.proc.pid if self.proc else "-"
        return f"{self.name} {self.url} pid {pid} log {self.log_path}"


@dataclass
class Launcher:
    """The replicas and HAProxy: started, watched, stopped."""

    args: argparse.Namespace
    haproxy: str
    workdir: Path
    replicas: list[Replica] = field(default_factory=list)
    proxy: subprocess.Popen | None = None

    def start_replicas(self) -> None:
        """Start every replica and wait until all answer; with automatic ports, a replica whose
        port was taken meanwhile is tried again on another one."""
        args = self.args
        if args.first_replica_port:
            ports = list(range(args.first_replica_port, args.first_replica_port + args.replicas))
        else:
            ports = free_ports(args.replicas, {args.port})
        env = replica_env(dict(os.environ), store=args.store)
        self.replicas = [
            Replica(i, port, self.workdir / f"{server_name(i)}.log", env)
            for i, port in enumerate(ports, start=1)
        ]
        for replica in self.replicas:
            replica.start()
        deadline = time.monotonic() + args.start_timeout
        waiting = list(self.replicas)
        attempts = {r.index: 1 for r in self.replicas}
        while waiting:
            for replica in list(waiting):
                if healthy(replica.url):
                    replica.up = True
                    waiting.remove(replica)
                    say(f"{replica.describe()} is up")
                elif replica.proc.poll() is not None:
                    if args.first_replica_port or attempts[replica.index] >= 3:
                        raise RuntimeError(
                            f"{replica.name} exited with {replica.proc.returncode} before it "
                            f"answered:\n{tail(replica.log_path)}"
                        )
                    taken = {args.port} | {r.port for r in self.replicas}
                    replica.port = free_ports(1, taken)[0]
                    attempts[replica.index] += 1
                    replica.start()
            if waiting and time.monotonic() > deadline:
                names = ", ".join(r.name for r in waiting)
                raise RuntimeError(f"{names} did not answer within {args.start_timeout:.0f} s")
            if waiting:
                time.sleep(0.25)

    def start_proxy(self) -> Path:
        """Write the configuration, start HAProxy, wait until the app answers through it."""
        config = render_config(
            [r.port for r in self.replicas],
            self.args.port,
            address=self.args.address,
            sticky=not self.args.no_sticky,
        )
        config_path = self.workdir / "haproxy.cfg"
        config_path.write_text(config)
        check_config(self.haproxy, config_path)
        log_path = self.workdir / "haproxy.log"
        self.proxy = spawn([self.haproxy, "-f", str(config_path), "-db"], log_path, os.environ)
        url = f"http://127.0.0.1:{self.args.port}"
        deadline = time.monotonic() + 30
        while not healthy(url):
            if self.proxy.poll() is not None:
                code = self.proxy.returncode
                raise RuntimeError(f"HAProxy exited with {code}:\n{tail(log_path)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"HAProxy did not answer on {url}:\n{tail(log_path)}")
            time.sleep(0.2)
        say(f"haproxy pid {self.proxy.pid} config {config_path} log {log_path}")
        return config_path

    def watch(self) -> int:
        """Restart replicas that die, until HAProxy itself stops (its exit code)."""
        while True:
            if self.proxy.poll() is not None:
                say(f"HAProxy exited with {self.proxy.returncode}; stopping")
                return self.proxy.returncode or 1
            now = time.monotonic()
            for replica in self.replicas:
                self.look_after(replica, now)
            time.sleep(POLL_S)

    def look_after(self, replica: Replica, now: float) -> None:
        """Schedule a restart for a replica that died, and restart it when its wait is over."""
        if replica.restart_at is None:
            code = replica.proc.poll()
            if code is None:
                if not replica.up and healthy(replica.url):
                    replica.up = True
                    say(f"{replica.describe()} is up")
                return
            if now - replica.started > STEADY_S:
                replica.failures = 0
            wait = RESTART_BACKOFF_S[min(replica.failures, len(RESTART_BACKOFF_S) - 1)]
            replica.failures += 1
            replica.restart_at = now + wait
            say(f"{replica.name} (pid {replica.proc.pid}) exited with {code}; restart in {wait} s")
        elif now >= replica.restart_at:
            replica.start()
            say(f"{replica.describe()} restarted")

    def stop_all(self) -> None:
        """Stop HAProxy first (no new requests), then every replica."""
        stop(self.proxy)
        for replica in self.replicas:
            stop(replica.proc)


def check_config(haproxy: str, config_path: Path) -> None:
    """``haproxy -c``: RuntimeError with HAProxy's words if it refuses the configuration."""
    result = subprocess.run([haproxy, "-c", "-f", str(config_path)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"HAProxy refused {config_path}:\n{result.stdout}{result.stderr}")


def tail(path: Path, n: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return "(no log)"


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 1..65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1 to 65535)")
    return value


def replica_count(text: str) -> int:
    """An argparse type: how many replicas, 1..MAX_REPLICAS."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_REPLICAS:
        raise argparse.ArgumentTypeError(f"{value} replicas: give 1 to {MAX_REPLICAS}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="serve.py",
        description="Serve the lab from N Streamlit replicas behind HAProxy (sticky sessions).",
    )
    parser.add_argument("--replicas", type=replica_count, default=2, help="server processes (2)")
    parser.add_argument("--port", type=port_number, default=8501, help="the proxy's port (8501)")
    parser.add_argument(
        "--address", default="0.0.0.0", help="the proxy's address (0.0.0.0: every interface)"
    )
    parser.add_argument(
        "--first-replica-port",
        type=port_number,
        help="replicas on this port and the next ones (default: free ports; with --print-config, "
        "the port after --port)",
    )
    parser.add_argument(
        "--no-sticky", action="store_true", help="no session affinity (broken; for tests)"
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help=f"the workspace store all replicas share, set as {STORE_ENV} for each: a "
        "postgresql://... URL, '' for the SQLite file data/store/workspaces.sqlite under the "
        f"project root, or off (default: {STORE_ENV} as it is; unset means that file)",
    )
    parser.add_argument("--haproxy", help="the HAProxy program (default: haproxy on PATH)")
    parser.add_argument(
        "--workdir", type=Path, help="where the configuration and logs go (default: a temp dir)"
    )
    parser.add_argument(
        "--start-timeout", type=float, default=90, help="seconds for the replicas to start (90)"
    )
    parser.add_argument(
        "--print-config", action="store_true", help="print the HAProxy configuration and exit"
    )
    args = parser.parse_args(argv)
    if args.first_replica_port:
        last = args.first_replica_port + args.replicas - 1
        if last > 65535:
            parser.error(
                f"--first-replica-port {args.first_replica_port} leaves no room for "
                f"{args.replicas} replicas (the last port would be {last})"
            )
        if args.first_replica_port <= args.port <= last:
            parser.error(
                f"--port {args.port} is one of the replicas' ports "
                f"({args.first_replica_port} to {last})"
            )
    if args.start_timeout <= 0:
        parser.error("--start-timeout must be a positive number of seconds")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.print_config:
        first = args.first_replica_port or args.port + 1
        ports = list(range(first, first + args.replicas))
        print(render_config(ports, args.port, args.address, sticky=not args.no_sticky), end="")
        return 0
    haproxy = find_haproxy(args.haproxy)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nn-lab-serve-"))
    workdir.mkdir(parents=True, exist_ok=True)
    launcher = Launcher(args, haproxy, workdir)

    def stop_on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    signal.signal(signal.SIGHUP, stop_on_signal)
    try:
        say(f"starting {args.replicas} replica(s); logs in {workdir}")
        if args.store is not None:
            say(f"workspace store (--store): {describe_store(args.store)}")
        else:
            say(f"workspace store ({STORE_ENV}): {describe_store(os.environ.get(STORE_ENV))}")
        launcher.start_replicas()
        launcher.start_proxy()
        host = "127.0.0.1" if args.address in ("0.0.0.0", "::", "") else args.address
        sticky = "without session affinity" if args.no_sticky else "sticky sessions"
        say(f"the app is at http://{host}:{args.port} ({args.replicas} replicas, {sticky})")
        return launcher.watch()
    except KeyboardInterrupt:
        say("stopping")
        return 0
    except RuntimeError as error:
        say(str(error))
        return 1
    finally:
        # Signals would interrupt the clean-up itself: ignore them while it runs.
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        launcher.stop_all()
        say("stopped")


if __name__ == "__main__":
    sys.exit(main())
