"""The layout is the architecture: every import in appliance/ goes down the dependency order.

store, imaging <- ingest, publish <- sync <- device <- admin, dev <- cli (docs/architecture.md);
config/, fsutil.py and lifecycle.py are leaves any package may use. Packages on the same level
do not import each other; nothing imports a level above its own. Lazy imports inside functions
count too. imaging/ is the pure render: it sits beside store/ (so it cannot import it) and imports
nothing that talks to a database or the network.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "appliance"
LEVELS = {
    "config": 0, "fsutil": 0, "lifecycle": 0,
    "store": 1, "imaging": 1, "ingest": 2, "publish": 2, "sync": 3, "device": 4,
    "admin": 5, "dev": 5, "cli": 6, "__main__": 7, "web": 7,
}


def unit_of(module: str) -> str:
    """The top-level unit of a dotted module under appliance ('' for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every appliance import in a file."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "appliance":
                continue
            if target == "appliance":  # from appliance import x: each name is a unit
                found += [(node.lineno, f"appliance.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, target))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("appliance.")]
    return found


def violations(root: Path = PACKAGE) -> list[str]:
    """Every import against the order, as 'file:line: unit -> unit'."""
    found = []
    for path in sorted(root.rglob("*.py")):
        source = unit_of(module_name(path, root))
        if source == "":
            continue
        for line, target in imports_of(path, root):
            dest = unit_of(target)
            if dest in ("", source):
                continue
            if dest not in LEVELS or source not in LEVELS:
                found.append(f"{path.relative_to(root.parent)}:{line}: unknown unit {source} -> {dest}")
            elif LEVELS[dest] >= LEVELS[source]:
                found.append(f"{path.relative_to(root.parent)}:{line}: {source} -> {dest}")
    return found


def test_every_unit_of_appliance_has_a_level() -> None:
    units = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").is_file()) and p.name != "__init__.py"}
    assert units - set(LEVELS) == set()


def test_imports_follow_the_dependency_order() -> None:
    assert violations() == []


IMPURE = {"sqlite3", "sqlite_utils", "boto3", "botocore", "socket", "http", "urllib", "requests"}


def impure_imports(root: Path = PACKAGE) -> list[str]:
    """Imports in imaging/ of anything that reaches a database or the network."""
    found = []
    for path in sorted((root / "imaging").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            found += [f"{path.name}:{node.lineno}: {n}" for n in names if n.split(".")[0] in IMPURE]
    return found


def test_imaging_is_pure() -> None:
    assert impure_imports() == []


def test_an_impure_import_in_imaging_is_caught(tmp_path: Path) -> None:
    (tmp_path / "imaging").mkdir()
    (tmp_path / "imaging" / "oops.py").write_text("import sqlite3\nfrom urllib.request import urlopen\n")
    assert impure_imports(tmp_path) == ["oops.py:1: sqlite3", "oops.py:2: urllib.request"]


@pytest.mark.parametrize("source, line", [
    ("store/oops.py", "from ..publish import worker\n"),  # a lower layer importing a higher one
    ("imaging/oops.py", "from ..store import Store\n"),  # the render may not reach the store
    ("ingest/oops.py", "from ..publish.worker import Publisher\n"),  # peers on one level
    ("imaging/oops.py", "def f():\n    from appliance.device import gpio\n"),  # a lazy import
])
def test_a_forbidden_import_is_caught(tmp_path: Path, source: str, line: str) -> None:
    root = tmp_path / "appliance"
    for path in PACKAGE.rglob("*.py"):
        dest = root / path.relative_to(PACKAGE)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(path.read_text())
    (root / source).write_text(line)
    assert [v.split(":")[0] for v in violations(root)] == [f"appliance/{source}"]
