"""The code's layout rules (CONTRIBUTING.md): what may import Streamlit, which way imports point,
and who owns the session-state keys. Checked on the source, so a new module is covered as soon as
it exists."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import ROOT

DASHBOARD = ROOT / "dashboard"


def module_name(path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def is_ui(path) -> bool:
    return path.name.endswith("_ui.py") or path == DASHBOARD / "state.py"


PURE = sorted(module_name(p) for p in DASHBOARD.rglob("*.py") if not is_ui(p))
NN = sorted(module_name(p) for p in (ROOT / "nn").rglob("*.py") if p.name != "__main__.py")


def imported_modules(path) -> set[str]:
    """Every module ``path`` imports (absolute names; relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module_name(path).split(".")
                base = ".".join(package[: len(package) - node.level] + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def first_importer(modules: list[str], forbidden: tuple[str, ...]) -> str:
    """Import ``modules`` one by one in a fresh interpreter; the first that loads a forbidden
    package, or "" when none does."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"    if any(m.split('.')[0] in {forbidden!r} for m in sys.modules):\n"
        "        print(name); break\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_pure_modules_exist_in_every_feature_folder():
    folders = {p.parent.name for p in DASHBOARD.rglob("*_ui.py")}
    assert {"data", "architecture", "training", "predict", "inside", "compare", "share"} <= folders
    for folder in folders - {"common"}:
        pure = [p for p in (DASHBOARD / folder).glob("*.py") if not is_ui(p)]
        assert any(p.name != "__init__.py" for p in pure), f"dashboard/{folder} has no logic"


def test_no_pure_dashboard_module_imports_streamlit():
    assert len(PURE) >= 20
    assert first_importer(PURE, ("streamlit",)) == ""


def test_nn_imports_neither_streamlit_nor_plotly_nor_the_app():
    assert first_importer(NN, ("streamlit", "plotly", "dashboard")) == ""


@pytest.mark.parametrize("folder", ["nn", "dashboard"])
def test_imports_point_from_pages_to_dashboard_to_nn(folder):
    below = {"nn": ("dashboard", "pages", "streamlit_app"), "dashboard": ("pages", "streamlit_app")}
    for path in (ROOT / folder).rglob("*.py"):
        wrong = {m for m in imported_modules(path) if m.split(".")[0] in below[folder]}
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


def session_keys_used(tree: ast.AST) -> set[str]:
    """String keys read or written through ``st.session_state`` in a module."""
    keys = set()

    def is_session_state(node) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "session_state"

    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and is_session_state(node.value):
            target = node.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and is_session_state(node.func.value)
            and node.args
        ):
            target = node.args[0]
        elif isinstance(node, ast.Compare) and any(is_session_state(c) for c in node.comparators):
            target = node.left
        else:
            continue
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            keys.add(target.value)
    return keys


def widget_keys(tree: ast.AST) -> set[str]:
    return {
        kw.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg == "key" and isinstance(kw.value, ast.Constant)
    }


def test_only_state_names_session_keys_other_modules_read_their_own_widgets():
    """Outside dashboard/state.py a literal session key is the key of a widget drawn in the
    same module; every other key is a name from dashboard.state."""
    checked = 0
    for path in [*DASHBOARD.rglob("*.py"), *(ROOT / "pages").glob("*.py")]:
        if path == DASHBOARD / "state.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        stray = session_keys_used(tree) - widget_keys(tree)
        assert not stray, f"{path.relative_to(ROOT)} uses session keys {sorted(stray)}"
        checked += 1
    assert checked > 20


def test_the_key_finder_sees_literal_keys():
    tree = ast.parse(
        "st.session_state['a.b'] = 1\nx = st.session_state.get('c.d')\n'e' in st.session_state\n"
        "st.slider('x', key='a.b')\n"
    )
    assert session_keys_used(tree) == {"a.b", "c.d", "e"}
    assert session_keys_used(tree) - widget_keys(tree) == {"c.d", "e"}


def test_inspect_uses_only_public_members_of_other_modules():
    """nn/inspect.py reads the engine through its public API (no ``net._x`` or ``module._y``)."""
    tree = ast.parse((ROOT / "nn" / "inspect.py").read_text(encoding="utf-8"))
    private = [
        f"{ast.unparse(node.value)}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
    ]
    assert private == []
