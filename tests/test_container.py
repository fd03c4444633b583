"""The container (Dockerfile, .dockerignore): checked on their text where Docker is missing, so
they cannot rot silently, and built where it exists.

What the image must copy is derived from the repository: the local packages the pages import
(followed through those packages), the data folder the engine reads, the pages and the config.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PORT = "8501"
HEALTH = "/_stcore/health"
CMD = ["streamlit", "run", "streamlit_app.py", "--server.port=8501", "--server.address=0.0.0.0"]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    out, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        whole = (pending + stripped).strip()
        pending = ""
        if whole:
            keyword, _, args = whole.partition(" ")
            out.append((keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def command(args: str) -> list[str]:
    """A CMD/RUN argument as a list: exec form (JSON) or shell form (split like a shell)."""
    if args.startswith("["):
        return json.loads(args)
    return shlex.split(args)


def env_values(steps: list[tuple[str, str]]) -> dict[str, str]:
    values = {}
    for keyword, args in steps:
        if keyword == "ENV":
            for word in shlex.split(args):
                name, sep, value = word.partition("=")
                assert sep, f"ENV {args!r}: use the NAME=value form"
                values[name] = value
    return values


def copy_sources(steps: list[tuple[str, str]]) -> list[str]:
    """Every source path of every COPY/ADD (options such as --chown left out)."""
    sources = []
    for keyword, args in steps:
        if keyword in ("COPY", "ADD"):
            words = [w for w in command(args) if not w.startswith("--")]
            sources += [w.rstrip("/").removeprefix("./") for w in words[:-1]]
    return sources


@pytest.fixture(scope="module")
def steps() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text(encoding="utf-8"))


def test_the_parser_joins_continued_lines_and_drops_comments():
    text = "# c\nFROM a\nENV A=1 \\\n    # inside\n    B=2\n\nrun  echo hi\n"
    assert instructions(text) == [("FROM", "a"), ("ENV", "A=1 B=2"), ("RUN", "echo hi")]


def test_one_stage_on_slim_python_3_11(steps):
    froms = [args for keyword, args in steps if keyword == "FROM"]
    assert froms == ["python:3.11-slim"]
    assert steps[0][0] == "FROM"


def test_the_app_runs_as_a_user_that_is_not_root(steps):
    keywords = [k for k, _ in steps]
    users = [(i, args) for i, (k, args) in enumerate(steps) if k == "USER"]
    assert users, "no USER: the app would run as root"
    last_index, last_user = users[-1]
    assert last_index < keywords.index("CMD")
    assert last_user.split(":")[0] not in ("root", "0")
    # the user exists: the image creates it
    name = last_user.split(":")[0]
    assert any(k == "RUN" and "useradd" in a and name in a.split() for k, a in steps), name


def test_it_exposes_streamlit_on_8501_on_every_interface(steps):
    assert ("EXPOSE", PORT) in steps
    cmds = [command(args) for keyword, args in steps if keyword == "CMD"]
    assert cmds == [CMD]


def test_the_python_environment(steps):
    env = env_values(steps)
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env.get("NN_LAB_BLAS_THREADS", "1") == "1"  # one BLAS thread per process


def workdir(steps) -> str:
    [path] = [args for keyword, args in steps if keyword == "WORKDIR"]
    return path.rstrip("/")


def store_folder(steps) -> str:
    """Where the image keeps the SQLite store: the app's default path under its WORKDIR."""
    from dashboard.store import backend

    return f"{workdir(steps)}/{backend.DEFAULT_PATH.parent.relative_to(ROOT).as_posix()}"


def app_user(steps) -> str:
    return [args for keyword, args in steps if keyword == "USER"][-1].split(":")[0]


def test_the_store_defaults_to_sqlite_in_a_volume_the_app_user_owns(steps):
    folder = store_folder(steps)
    assert folder == "/app/data/store"
    assert env_values(steps).get("NN_LAB_STORE") == ""  # the SQLite default, said out loud
    keywords = [k for k, _ in steps]
    made = [
        i
        for i, (k, a) in enumerate(steps)
        if k == "RUN" and re.search(rf"\bmkdir -p {re.escape(folder)}(\s|$)", a)
    ]
    assert made, f"no RUN creates {folder}"
    run = steps[made[-1]][1]
    user = app_user(steps)
    owner = re.search(rf"\bchown (?:-R )?(\S+) {re.escape(folder)}(\s|$)", run)
    assert owner and owner[1].split(":")[0] == user, f"{folder} must belong to {user}: {run}"
    # after the COPY of data/ (which would bring a root-owned data/ over it) and before USER
    copies_of_data = [i for i, (k, a) in enumerate(steps) if k == "COPY" and "data/" in a]
    assert copies_of_data and made[-1] > max(copies_of_data)
    assert made[-1] < keywords.index("USER")
    volumes = [
        (i, command(a) if a.startswith("[") else a.split())
        for i, (k, a) in enumerate(steps)
        if k == "VOLUME"
    ]
    assert [folder] in [v for _, v in volumes], f"{folder} is not a VOLUME"
    # a VOLUME after the chown: Docker seeds a new named volume with that folder and its owner
    assert all(i > made[-1] for i, v in volumes if folder in v)


def test_the_comment_says_how_to_choose_the_store():
    text = DOCKERFILE.read_text(encoding="utf-8")
    comments = " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))
    for words in ["NN_LAB_STORE", "postgresql://", '"off"', "/app/data/store", "psycopg[binary]"]:
        assert words in comments, f"the Dockerfile's comment does not mention {words}"


def test_the_postgres_driver_needs_nothing_the_slim_image_lacks(steps):
    """psycopg's binary wheel brings its own libpq: no apt-get, no compiler in the image."""
    lines = [
        line.split("#")[0].strip().lower()
        for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    ]
    drivers = [line for line in lines if re.match(r"psycopg(?![-_]?2)\b", line)]
    assert drivers, "requirements.txt has no psycopg, which a postgresql:// store needs"
    assert all(re.match(r"psycopg\[([^\]]*,)?binary(,[^\]]*)?\]", d) for d in drivers), drivers
    assert not [a for k, a in steps if k == "RUN" and re.search(r"\bapt(-get)?\b", a)]


def health_command(steps) -> list[str]:
    [args] = [args for keyword, args in steps if keyword == "HEALTHCHECK"]
    options, sep, cmd = args.partition("CMD ")
    assert sep, "HEALTHCHECK without CMD"
    assert all(o.startswith("--") for o in options.split()), options
    return command(cmd.strip())


def test_the_health_check_asks_streamlit_without_curl(steps):
    argv = health_command(steps)
    assert argv[:2] == ["python", "-c"], argv
    assert f"http://127.0.0.1:{PORT}{HEALTH}" in argv[2]
    assert not {"curl", "wget"} & set(re.findall(r"\w+", " ".join(argv)))
    ast.parse(argv[2])  # valid Python


def test_the_health_check_command_tells_a_live_server_from_none(steps, tmp_path):
    """Run the image's health command against a real server (and against a closed port)."""
    from tests.e2e.ui import free_port, start_server, stop_server, wait_healthy

    code = health_command(steps)[2]
    dead = subprocess.run(
        [sys.executable, "-c", code.replace(PORT, str(free_port()))],
        capture_output=True,
        timeout=30,
    )
    assert dead.returncode != 0
    log_path = tmp_path / "server.log"
    proc, url = start_server(log_path)
    try:
        wait_healthy(proc, url, log_path, timeout=60)
        port = url.rsplit(":", 1)[1]
        alive = subprocess.run(
            [sys.executable, "-c", code.replace(PORT, port)], capture_output=True, timeout=30
        )
        assert alive.returncode == 0, alive.stderr
    finally:
        stop_server(proc)


def test_only_the_runtime_requirements_are_installed(steps):
    runs = [args for keyword, args in steps if keyword == "RUN"]
    installs = [r for r in runs if re.search(r"\bpip\b.*\binstall\b", r)]
    assert installs, "no pip install"
    for run in installs:
        words = shlex.split(run)
        i = words.index("install")
        packages = [w for w in words[i + 1 :] if not w.startswith("-")]
        assert packages == ["requirements.txt"], run  # nothing but -r requirements.txt
        assert "-r" in words and "requirements-dev.txt" not in run
    # the requirements are copied before they are installed, and nothing else is yet
    first_install = next(i for i, (k, a) in enumerate(steps) if k == "RUN" and a in installs)
    earlier = copy_sources(steps[:first_install])
    assert earlier == ["requirements.txt"]


def local_top_level(name: str) -> str | None:
    """The repository's own top-level module or package that ``name`` belongs to, if any."""
    top = name.split(".")[0]
    if (ROOT / top / "__init__.py").is_file() or (ROOT / f"{top}.py").is_file():
        return top
    return None


def runtime_packages() -> set[str]:
    """The local top-level packages the app imports, followed through those packages."""
    todo = [ROOT / "streamlit_app.py", *sorted((ROOT / "pages").glob("*.py"))]
    seen_files, packages = set(), set()
    while todo:
        path = todo.pop()
        if path in seen_files:
            continue
        seen_files.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = local_top_level(name)
                if top and top not in packages:
                    packages.add(top)
                    todo += sorted((ROOT / top).rglob("*.py"))
    return packages


def covered(path: str, sources: list[str]) -> bool:
    return any(path == s or path.startswith(s + "/") for s in sources)


def test_every_path_the_app_needs_at_runtime_is_copied(steps):
    from dashboard.common import page_ui
    from nn import data

    sources = copy_sources(steps)
    packages = runtime_packages()
    assert {"dashboard", "nn"} <= packages  # the finder finds what the pages import
    needed = {
        "streamlit_app.py",
        ".streamlit/config.toml",
        data.DATA_DIR.relative_to(ROOT).as_posix() + "/Iris.csv",  # the bundled data
        *(p.path for p in page_ui.PAGES),
        *packages,
    }
    missing = sorted(p for p in needed if not covered(p, sources))
    assert not missing, f"the Dockerfile does not COPY {missing}"
    assert not [s for s in sources if covered(s, ["tests", "benchmarks", "docs", ".git"])]


def ignore_patterns() -> list[tuple[bool, re.Pattern]]:
    """The .dockerignore's patterns as (is an exception "!", regex over paths from the root)."""
    patterns = []
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.removeprefix("!").strip("/").removeprefix("./")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            elif pattern[i] == "[":
                end = pattern.index("]", i)
                regex, i = regex + pattern[i : end + 1], end + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        patterns.append((negate, re.compile(regex)))
    return patterns


def ignored(path: str, patterns) -> bool:
    """Docker's rule: the last pattern that matches the path or one of its folders decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for negate, regex in patterns:
        if any(regex.fullmatch(p) for p in prefixes):
            verdict = not negate
    return verdict


def test_the_ignore_matcher_follows_dockers_rules():
    patterns = [(False, re.compile("tests")), (False, re.compile("(?:.*/)?__pycache__"))]
    assert ignored("tests/test_x.py", patterns)
    assert ignored("nn/__pycache__/a.pyc", patterns)
    assert not ignored("nn/tests_helper.py", patterns)


def test_dockerignore_keeps_development_files_out_and_the_app_in(steps):
    patterns = ignore_patterns()
    for path in [
        ".git/HEAD",
        "tests/test_threads.py",
        "tests/e2e/ui.py",
        "benchmarks/LOAD.md",
        "docs/screenshots/x.png",
        "requirements-dev.txt",
        ".venv/bin/python",
        "nn/__pycache__/network.cpython-311.pyc",
        ".pytest_cache/v/cache",
        "data/workspaces.sqlite3",
        # the workspace store wherever it is, its WAL companions, a damaged copy moved aside
        "data/store/workspaces.sqlite",
        "data/store/workspaces.sqlite-wal",
        "data/store/workspaces.sqlite-shm",
        "data/store/workspaces.sqlite.corrupt-20261202T101500Z",
        "data/store/notes.txt",
        "elsewhere/workspaces.sqlite",
        "elsewhere/workspaces.sqlite-wal",
        "elsewhere/workspaces.sqlite-shm",
    ]:
        assert ignored(path, patterns), f".dockerignore lets {path} into the build"
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, timeout=60
    ).stdout.split()
    sources = copy_sources(steps)
    shipped = [p for p in tracked if covered(p, sources)]
    assert "nn/network.py" in shipped and "data/Iris.csv" in shipped
    kept_out = [p for p in shipped if ignored(p, patterns)]
    assert not kept_out, f".dockerignore keeps files the image copies out: {kept_out}"


def docker_unavailable() -> str:
    """Why ``docker build`` cannot run here, or "" when it can."""
    if shutil.which("docker") is None:
        return "the docker binary is not installed here: only the Dockerfile's text is checked"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        return (
            "the docker client is installed but reaches no Docker daemon here: only the "
            "Dockerfile's text is checked"
        )
    return ""


def test_the_image_builds_and_holds_the_app():
    if reason := docker_unavailable():
        pytest.skip(reason)
    tag = f"nn-lab-test:{Path(tempfile.mkdtemp()).name.lower()}"
    try:
        built = subprocess.run(
            ["docker", "build", "-t", tag, "."], cwd=ROOT, capture_output=True, timeout=1800
        )
        assert built.returncode == 0, built.stderr.decode(errors="replace")[-4000:]
        check = (
            "import os, dashboard.common.page_ui, nn.recipe; from nn import data; "
            "assert os.getuid() != 0; assert (data.DATA_DIR / 'Iris.csv').is_file(); "
            "import pathlib; assert not pathlib.Path('tests').exists(); "
            "store = pathlib.Path('data/store'); (store / 'w').write_text('x'); "
            "assert not [p for p in store.iterdir() if p.name != 'w']"
        )
        ran = subprocess.run(
            ["docker", "run", "--rm", tag, "python", "-c", check],
            capture_output=True,
            timeout=300,
        )
        assert ran.returncode == 0, ran.stderr.decode(errors="replace")[-4000:]
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)
