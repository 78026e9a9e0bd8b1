"""Small modules: no module in appliance/ or web/ over 400 lines, no Python function over 80 lines
unless a comment right above it (``# Long because …``) says why."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
REASON = "# Long because"


def sources() -> list[Path]:
    found = [*(ROOT / "appliance").rglob("*.py"), *(ROOT / "appliance").rglob("*.js"),
             *(ROOT / "web").rglob("*.js")]
    npm = {"node_modules", "vendor", "face-api"}  # npm code (web/face-api/: staged by face-model.mjs)
    return sorted(p for p in found if not npm & set(p.parts))


def long_modules(paths: list[Path]) -> list[str]:
    return [f"{p.relative_to(p.parents[1])}: {n} lines" for p in paths
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES]


def long_functions(path: Path) -> list[str]:
    """Functions over the limit with no reason on the line above their first decorator or def."""
    lines = path.read_text().splitlines()
    found = []
    for node in ast.walk(ast.parse("\n".join(lines), str(path))):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        above = lines[first - 2].strip() if first >= 2 else ""
        if length > MAX_FUNCTION_LINES and not above.startswith(REASON):
            found.append(f"{path.name}:{node.lineno} {node.name}: {length} lines")
    return found


def test_no_module_over_the_limit() -> None:
    assert long_modules(sources()) == []


def test_no_long_function_without_a_reason() -> None:
    assert [f for p in sources() if p.suffix == ".py" for f in long_functions(p)] == []


def test_a_long_function_is_caught_unless_its_reason_is_written(tmp_path: Path) -> None:
    body = "".join(f"    x = {i}\n" for i in range(MAX_FUNCTION_LINES))
    bare = tmp_path / "bare.py"
    bare.write_text(f"import os\n\n\ndef big():\n{body}")
    explained = tmp_path / "explained.py"
    explained.write_text(f"import os\n\n\n{REASON} it is one table.\n@staticmethod\ndef big():\n{body}")
    assert long_functions(bare) == [f"bare.py:4 big: {MAX_FUNCTION_LINES + 1} lines"]
    assert long_functions(explained) == []


def test_a_long_module_is_caught(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    path = tmp_path / "pkg" / "big.py"
    path.write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    assert long_modules([path]) == [f"pkg/big.py: {MAX_MODULE_LINES + 1} lines"]
