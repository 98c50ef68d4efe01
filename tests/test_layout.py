"""The layering of the code base, read from the import statements (ast, nothing imported).

Bottom to top: `kim_settings` (paths) → `ingest` → `expectations` → `reports` → `dagster_project`
(wiring). A module may import from its own layer or below, never from above. Imports inside
functions and `if TYPE_CHECKING:` blocks count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = ("ingest", "expectations", "reports")
ORCHESTRATION = ("dagster_project", "dagster", "dagster_dbt")
PROJECT = ("kim_settings", *LIBRARIES, "dagster_project")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules_of(root: Path, package: str) -> dict[str, Path]:
    """Module name → file, for a package folder or a single top-level module."""
    single = root / f"{package}.py"
    if single.is_file():
        return {package: single}
    return {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}


def imports_of(path: Path, module: str) -> set[str]:
    """Every module named by an import anywhere in the file; `from a import b` yields a and a.b
    (b may be a submodule), relative imports resolved against `module`."""
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def top_level(name: str) -> str:
    return name.split(".", 1)[0]


def violations(root: Path, packages: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    """'module imports name' for each import of a forbidden top-level package."""
    found = []
    for package in packages:
        for module, path in modules_of(root, package).items():
            for name in sorted(imports_of(path, module)):
                if top_level(name) in forbidden:
                    found.append(f"{module} imports {name}")
    return sorted(set(found))


def import_cycle(root: Path, package: str) -> list[str] | None:
    """One import cycle among the modules of `package` (as a path a → b → … → a), or None.

    A submodule's import of its own parent package is not an edge: Python loads the parent
    first anyway, and a package's __init__ re-exporting its submodules is no cycle."""
    modules = modules_of(root, package)
    graph = {
        module: sorted(
            n
            for n in imports_of(path, module)
            if n in modules and n != module and not module.startswith(f"{n}.")
        )
        for module, path in modules.items()
    }
    state: dict[str, str] = {}  # 'open' while on the DFS stack, 'done' after

    def visit(module: str, stack: list[str]) -> list[str] | None:
        state[module] = "open"
        for target in graph[module]:
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], module, target]
            if target not in state:
                cycle = visit(target, [*stack, module])
                if cycle:
                    return cycle
        state[module] = "done"
        return None

    for module in graph:
        if module not in state:
            cycle = visit(module, [])
            if cycle:
                return cycle
    return None


# --- the code base -------------------------------------------------------------------------


def test_libraries_and_settings_do_not_import_orchestration():
    assert violations(ROOT, ("kim_settings", *LIBRARIES), ORCHESTRATION) == []


def test_settings_module_imports_nothing_of_the_project():
    assert violations(ROOT, ("kim_settings",), PROJECT) == []


def test_ingest_imports_neither_reports_nor_expectations():
    assert violations(ROOT, ("ingest",), ("reports", "expectations")) == []


def test_expectations_do_not_import_reports():
    assert violations(ROOT, ("expectations",), ("reports",)) == []


def test_no_import_cycle_between_ingest_modules():
    assert import_cycle(ROOT, "ingest") is None


def test_reports_is_a_top_level_package_and_the_old_places_are_gone():
    assert (ROOT / "reports" / "__init__.py").is_file()
    assert (ROOT / "reports" / "report.css").is_file()
    assert not (ROOT / "dagster_project" / "reports").exists()
    assert not (ROOT / "dagster_project" / "settings.py").exists()


# --- the checks themselves, on a hand-made tree -----------------------------------------------


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_checks_find_lazy_relative_and_type_checking_imports(tmp_path):
    # lib/a.py imports lib.b at module level; lib/b.py imports lib.a only inside a function, so
    # the cycle is a → b → a. lib/c.py reaches the orchestration through a TYPE_CHECKING block
    # and lib/d.py through a relative import of a sibling that is fine (lib.a).
    write_tree(
        tmp_path,
        {
            "lib/__init__.py": "",
            "lib/a.py": "from lib.b import helper\n",
            "lib/b.py": "def helper():\n    from lib import a\n    return a\n",
            "lib/c.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from dagster_project.resources import X\n"
            ),
            "lib/d.py": "from . import a\nfrom .a import helper\n",
            "solo.py": "import os\n",
        },
    )
    assert import_cycle(tmp_path, "lib") == ["lib.a", "lib.b", "lib.a"]
    assert violations(tmp_path, ("lib", "solo"), ("dagster_project",)) == [
        "lib.c imports dagster_project.resources",
        "lib.c imports dagster_project.resources.X",
    ]
    assert imports_of(tmp_path / "lib" / "d.py", "lib.d") == {
        "lib",
        "lib.a",
        "lib.a.helper",
    }
    assert violations(tmp_path, ("solo",), ("os",)) == ["solo imports os"]


def test_no_cycle_reported_for_a_layered_tree(tmp_path):
    # a → b → c, a → c: no way back; lib.sub → lib.sub.x → lib.sub.y, and x naming its parent
    # lib.sub is no edge back.
    write_tree(
        tmp_path,
        {
            "lib/__init__.py": "",
            "lib/a.py": "import lib.b\nimport lib.c\n",
            "lib/b.py": "from lib import c\n",
            "lib/c.py": "import json\n",
            # a package re-exporting its submodule, which imports a sibling via the parent
            "lib/sub/__init__.py": "from lib.sub.x import f\n",
            "lib/sub/x.py": "from lib.sub import y\nf = y.g\n",
            "lib/sub/y.py": "g = 1\n",
        },
    )
    assert import_cycle(tmp_path, "lib") is None
