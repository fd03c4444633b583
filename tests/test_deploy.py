"""deploy/serve.py without a browser: the HAProxy configuration it writes for N replicas (checked
by HAProxy itself), its arguments, the replicas' environment, and how it restarts a replica that
dies. The replicas behind a real proxy in Chromium: tests/e2e/test_e2e_proxy.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dashboard.common import threads
from deploy import serve

HAPROXY = shutil.which("haproxy") or shutil.which("/usr/sbin/haproxy")
SERVER = re.compile(r"^server (\S+) 127\.0\.0\.1:(\d+) check(?: cookie (\S+))?$")


def config_lines(config: str) -> list[str]:
    """The configuration without comments and blank lines."""
    return [line.strip() for line in config.splitlines() if line.strip() and "#" not in line]


def backend(config: str) -> list[str]:
    lines = config_lines(config)
    return lines[lines.index("backend replicas") + 1 :]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_the_config_has_one_checked_sticky_server_per_replica(n):
    ports = [9101 + i for i in range(n)]
    config = serve.render_config(ports, 9000, address="127.0.0.1")
    servers = [SERVER.match(line) for line in config_lines(config) if line.startswith("server ")]
    assert all(servers), config
    assert [int(m[2]) for m in servers] == ports
    assert [m[1] for m in servers] == [f"replica{i}" for i in range(1, n + 1)]
    assert [m[3] for m in servers] == [m[1] for m in servers]  # a cookie value per replica
    lines = backend(config)
    assert "cookie SERVERID insert indirect nocache httponly" in lines
    assert "option httpchk GET /_stcore/health" in lines
    assert "http-check expect string ok" in lines
    assert "bind 127.0.0.1:9000" in config_lines(config)
    tunnel = [line for line in config_lines(config) if line.startswith("timeout tunnel")]
    assert tunnel == ["timeout tunnel 1h"]  # a WebSocket lives as long as the visit


def test_the_no_sticky_config_has_no_cookie_and_still_checks_every_replica():
    config = serve.render_config([9101, 9102], 9000, sticky=False)
    assert not [line for line in config_lines(config) if "cookie" in line]
    servers = [SERVER.match(line) for line in config_lines(config) if line.startswith("server ")]
    assert [(m[1], m[3]) for m in servers] == [("replica1", None), ("replica2", None)]
    assert "option httpchk GET /_stcore/health" in backend(config)
    assert "balance roundrobin" in backend(config)


def test_every_placeholder_of_the_template_is_filled():
    config = serve.render_config([9101], 9000)
    assert "$" not in config


@pytest.fixture
def haproxy():
    if HAPROXY is None:
        reason = "HAProxy is not installed: `apt-get install haproxy`."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} CI installs it (.ci/run).", pytrace=False)
        pytest.skip(reason)
    return HAPROXY


@pytest.mark.parametrize("sticky", [True, False], ids=["sticky", "no-sticky"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_haproxy_accepts_the_config(haproxy, tmp_path, n, sticky):
    path = tmp_path / "haproxy.cfg"
    path.write_text(serve.render_config([9101 + i for i in range(n)], 9000, sticky=sticky))
    result = subprocess.run([haproxy, "-c", "-f", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    serve.check_config(haproxy, path)  # what the launcher runs before it starts HAProxy


def test_the_launcher_s_check_refuses_a_broken_config(haproxy, tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text(serve.render_config([9101], 9000).replace("balance", "balanse"))
    with pytest.raises(RuntimeError, match="HAProxy refused") as error:
        serve.check_config(haproxy, path)
    assert "balanse" in str(error.value)  # HAProxy's own words name the line


def test_print_config_prints_what_the_launcher_writes(capsys):
    argv = ["--replicas", "3", "--port", "9000", "--first-replica-port", "9100", "--no-sticky"]
    assert serve.main([*argv, "--address", "127.0.0.1", "--print-config"]) == 0
    printed = capsys.readouterr().out
    assert printed == serve.render_config([9100, 9101, 9102], 9000, "127.0.0.1", sticky=False)


def test_print_config_runs_as_a_script():
    result = subprocess.run(
        [sys.executable, str(Path(serve.__file__)), "--replicas", "2", "--print-config"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "server replica2 127.0.0.1:8503 check cookie replica2" in result.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--replicas", "0"], "0 replicas: give 1 to 64"),
        (["--replicas", "65"], "65 replicas: give 1 to 64"),
        (["--replicas", "two"], "'two' is not a whole number"),
        (["--port", "70000"], "70000 is not a port number (1 to 65535)"),
        (["--port", "http"], "'http' is not a port number"),
        (["--first-replica-port", "65535", "--replicas", "2"], "leaves no room for 2 replicas"),
        (
            ["--first-replica-port", "8500", "--replicas", "2", "--port", "8501"],
            "--port 8501 is one of the replicas' ports (8500 to 8501)",
        ),
        (["--start-timeout", "0"], "--start-timeout must be a positive number"),
        (["--sticky"], "unrecognized arguments: --sticky"),
    ],
)
def test_argument_errors_say_what_is_wrong(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        serve.parse_args(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_missing_haproxy_is_named_before_anything_starts(monkeypatch):
    monkeypatch.setattr(serve.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match=r"apt-get install haproxy"):
        serve.main(["--replicas", "1"])
    with pytest.raises(SystemExit, match=r"--haproxy /no/haproxy is not a program"):
        serve.main(["--replicas", "1", "--haproxy", "/no/haproxy"])


def test_replicas_get_one_blas_thread_unless_the_caller_chose():
    assert serve.THREADS_ENV == threads.ENV  # the variable the app reads
    env = serve.replica_env({"PATH": "/bin"})
    assert threads.parse(env[threads.ENV]) == 1
    assert env["PATH"] == "/bin"
    # the app sets the libraries' own variables itself, from NN_LAB_BLAS_THREADS
    assert not set(threads.LIBRARY_ENV) & set(env)
    for chosen in ("2", "auto"):
        assert serve.replica_env({threads.ENV: chosen})[threads.ENV] == chosen
    assert serve.replica_env({"OMP_NUM_THREADS": "4"})["OMP_NUM_THREADS"] == "4"  # passed on


def test_replicas_cross_validate_in_their_own_process_unless_the_caller_chose():
    def cv_jobs(env: dict) -> int:
        code = "from dashboard.common import limits; print(limits.MAX_CV_JOBS)"
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=Path(__file__).parents[1],
            capture_output=True,
            text=True,
        )
        return int(out.stdout)

    base = {k: v for k, v in os.environ.items() if k != serve.CV_JOBS_ENV}
    assert serve.replica_env(base)[serve.CV_JOBS_ENV] == "1"
    assert cv_jobs(serve.replica_env(base)) == 1  # the variable the app reads
    assert cv_jobs(base) == min(2, os.cpu_count() or 1)  # the app's own default
    assert serve.replica_env({serve.CV_JOBS_ENV: "2"})[serve.CV_JOBS_ENV] == "2"


def test_store_is_set_for_the_replicas_only_when_given():
    assert serve.STORE_ENV == "NN_LAB_STORE"
    url = "postgresql://lab:secret@db.example/lab"
    assert serve.replica_env({}, store=url)["NN_LAB_STORE"] == url
    assert (
        serve.replica_env({"NN_LAB_STORE": "postgresql://old/x"}, store=url)["NN_LAB_STORE"] == url
    )
    assert serve.replica_env({}, store="")["NN_LAB_STORE"] == ""  # the SQLite file
    assert serve.replica_env({"NN_LAB_STORE": url})["NN_LAB_STORE"] == url  # inherited
    assert "NN_LAB_STORE" not in serve.replica_env({})
    assert serve.parse_args([]).store is None
    assert serve.parse_args(["--store", url]).store == url
    assert serve.parse_args(["--store", ""]).store == ""


def test_the_store_s_password_stays_out_of_the_log():
    described = serve.describe_store("postgresql://lab:secret@db.example:5432/lab")
    assert described == "postgresql://...@db.example:5432/lab"
    assert "data/store/workspaces.sqlite" in serve.describe_store("")
    assert "data/store/workspaces.sqlite" in serve.describe_store(None)


# A stand-in replica: writes the two variables it was started with, then sleeps.
ENV_PRINTER = (
    "import os, time; "
    "print('env', *(os.environ.get(k, '-') for k in ('NN_LAB_STORE', 'NN_LAB_BLAS_THREADS')), "
    "flush=True); time.sleep(60)"
)


@pytest.mark.parametrize(
    ("argv", "inherited", "expected"),
    [
        (["--store", "postgresql://lab@db.example/lab"], None, "postgresql://lab@db.example/lab"),
        (["--store", "postgresql://new/lab"], "postgresql://old/lab", "postgresql://new/lab"),
        ([], "postgresql://old/lab", "postgresql://old/lab"),
        ([], None, "-"),
    ],
    ids=["store", "store-over-caller", "inherited", "unset"],
)
def test_every_replica_process_starts_with_the_store(
    monkeypatch, tmp_path, argv, inherited, expected
):
    monkeypatch.setattr(
        serve, "streamlit_command", lambda port: [sys.executable, "-c", ENV_PRINTER]
    )
    monkeypatch.setattr(serve, "healthy", lambda url: True)
    monkeypatch.delenv(threads.ENV, raising=False)
    if inherited is None:
        monkeypatch.delenv("NN_LAB_STORE", raising=False)
    else:
        monkeypatch.setenv("NN_LAB_STORE", inherited)
    args = serve.parse_args(["--replicas", "3", *argv])
    launcher = serve.Launcher(args, "haproxy", tmp_path)
    try:
        launcher.start_replicas()
        assert len(launcher.replicas) == 3
        for replica in launcher.replicas:
            deadline = time.monotonic() + 30
            while "env " not in replica.log_path.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert replica.log_path.read_text().split() == ["env", expected, "1"]
    finally:
        launcher.stop_all()


def test_a_replica_is_streamlit_headless_on_localhost():
    command = serve.streamlit_command(8600)
    assert command[:5] == [sys.executable, "-m", "streamlit", "run", "streamlit_app.py"]
    assert {"--server.headless=true", "--server.address=127.0.0.1"} <= set(command)
    assert "--server.port=8600" in command


def test_free_ports_are_distinct_and_avoid_the_proxy_s():
    ports = serve.free_ports(5, avoid={8501})
    assert len(set(ports)) == 5 and 8501 not in ports


@pytest.fixture
def sleeper(monkeypatch, tmp_path):
    """A Replica whose "server" is a sleeping Python process (``.ports``: the port of every
    start); stopped afterwards."""
    ports = []

    def command(port: int) -> list[str]:
        ports.append(port)
        return [sys.executable, "-c", "import time; time.sleep(60)"]

    monkeypatch.setattr(serve, "streamlit_command", command)
    (port,) = serve.free_ports(1, set())
    replica = serve.Replica(1, port, tmp_path / "replica1.log", serve.replica_env(dict(os.environ)))
    replica.ports = ports
    replica.start()
    yield replica
    serve.stop(replica.proc)


def test_a_replica_that_dies_is_restarted_on_its_port_after_a_growing_wait(sleeper, tmp_path):
    launcher = serve.Launcher(serve.parse_args([]), "haproxy", tmp_path, replicas=[sleeper])
    waits = []
    now = sleeper.started  # the launcher's clock, moved by hand
    for _ in range(3):
        old = sleeper.proc
        launcher.look_after(sleeper, now)
        assert sleeper.restart_at is None  # alive: nothing to do
        serve.stop(old)  # it dies
        launcher.look_after(sleeper, now)
        waits.append(sleeper.restart_at - now)
        launcher.look_after(sleeper, now)
        assert sleeper.proc is old  # not before its wait is over
        now = sleeper.restart_at
        launcher.look_after(sleeper, now)
        assert sleeper.proc is not old and sleeper.proc.poll() is None
    assert waits == list(serve.RESTART_BACKOFF_S[:3])  # a crash loop does not spin
    assert len(sleeper.ports) == 4 and set(sleeper.ports) == {sleeper.port}  # the same port

    # after a steady run, the next death waits the shortest time again
    serve.stop(sleeper.proc)
    later = sleeper.started + serve.STEADY_S + 1
    launcher.look_after(sleeper, later)
    assert sleeper.restart_at - later == serve.RESTART_BACKOFF_S[0]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_stop_ends_the_whole_process_group(tmp_path):
    # a process that starts a child in its own group, as a server with workers would
    script = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
    script += "'import time; time.sleep(60)']); print('ready', flush=True); time.sleep(60)"
    log = tmp_path / "out.log"
    proc = serve.spawn([sys.executable, "-c", script], log, dict(os.environ))
    deadline = time.monotonic() + 30
    while "ready" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    members = [
        int(pid)
        for pid in os.listdir("/proc")
        if pid.isdigit() and _pgid(int(pid)) == proc.pid and int(pid) != proc.pid
    ]
    assert members, "the child did not start"
    serve.stop(proc)
    deadline = time.monotonic() + 5  # a killed process takes a moment to be gone
    while [pid for pid in members if _running(pid)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in members if _running(pid)]


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
