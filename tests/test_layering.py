"""The structure DESIGN.md promises, read from the code's own imports: one-way layers, thin blueprints,
checks sharing helpers through one module, small modules, findable rooms."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 350
MAX_MODULES_PER_FOLDER = 15


def _modules(*tops: str) -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "--", *tops], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / p for p in listed if p.endswith(".py") and (ROOT / p).exists()]


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every import statement, at any depth (lazy imports count too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def _top(module: str) -> str:
    return module.split(".")[0]


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _violations(tops: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return [f"{_rel(path)} imports {module}" for path in _modules(*tops)
            for module, _ in _imports(path) if _top(module) in forbidden]


def test_drivers_and_firewall_never_import_hardening_or_api():
    assert _violations(("device_drivers", "firewall"), ("hardening", "api")) == []


def test_nothing_below_api_imports_api():
    assert _violations(("hardening", "device_drivers", "firewall", "store"), ("api", "app")) == []


def test_store_imports_no_higher_layer():
    assert _violations(("store",), ("hardening", "device_drivers", "firewall", "api")) == []


def test_no_blueprint_imports_another_blueprints_routes_or_views():
    bad = []
    for path in _modules("api"):
        parts = path.relative_to(ROOT / "api").parts
        own = parts[0] if len(parts) > 1 else None
        for module, _ in _imports(path):
            pieces = module.split(".")
            if len(pieces) >= 3 and pieces[0] == "api" and pieces[2] in ("routes", "views") and pieces[1] != own:
                bad.append(f"{_rel(path)} imports {module}")
    assert bad == []


def test_checks_take_helpers_only_from_the_common_module():
    checks = ROOT / "hardening" / "checks"
    bad = []
    for path in checks.glob("*.py"):
        for module, names in _imports(path):
            if not module.startswith("hardening.checks."):
                continue
            if module == "hardening.checks.common" or module == "hardening.checks.registry":
                bad += [f"{path.name} takes private {n} from {module}" for n in names if n.startswith("_")]
                continue
            bad.append(f"{path.name} imports {module} (share helpers through hardening.checks.common)")
    assert bad == []


def test_importing_the_gatherer_registers_no_check():
    code = ("import hardening.engine.gather, hardening.checks.common, hardening.checks.registry as r;"
            "assert r.REGISTRY == {}, sorted(r.REGISTRY)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("top", ["app.py", "api", "hardening", "device_drivers", "firewall", "store", "simulator"])
def test_no_module_is_over_the_size_limit(top):
    long = [f"{_rel(p)}: {n} lines" for p in _modules(top)
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert long == []


def test_hardening_rooms_stay_findable():
    crowded = {}
    for folder in [ROOT / "hardening", *(p for p in (ROOT / "hardening").rglob("*") if p.is_dir())]:
        modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        if len(modules) > MAX_MODULES_PER_FOLDER:
            crowded[_rel(folder)] = len(modules)
    assert crowded == {}
