"""The documentation is held to the code.

- docs/configuration.md documents every Config key (``section.key``, from the section dataclasses)
  with its default, and names no key that does not exist;
- docs/operations.md documents every ``appliance`` subcommand (and the ``r2`` tools) and names none
  that does not exist;
- every benchmark figure docs/benchmarks.md names is a key of its script's JSON line;
- README.md stays short and gives the two set-up commands; every relative link resolves and every
  repository path named in code (``appliance/device/gpio.py``) exists.

Everything is read statically (the benches are not run).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from appliance.cli import build_parser
from appliance.config import Config

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
README = REPO / "README.md"
CONFIGURATION = DOCS / "configuration.md"
OPERATIONS = DOCS / "operations.md"
BENCHMARKS = DOCS / "benchmarks.md"
README_MAX_LINES = 200

FENCE_RE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
SPAN_RE = re.compile(r"`([^`\n]+)`")
LINK_RE = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CONFIG_TOKEN_RE = re.compile(r"^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$")
FIGURE_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")
SCRIPT_RE = re.compile(r"bench/([A-Za-z0-9_]+)\.py")
REPO_PATH_RE = re.compile(r"^(?:appliance|tests|bench|functions|web|systemd|image-build|docs)/[\w./\[\]-]*$")


# --- helpers ------------------------------------------------------------------------------------

def read(path: Path) -> str:
    assert path.is_file(), f"{path.relative_to(REPO)} is missing"
    return path.read_text(encoding="utf-8")


def without_fences(text: str) -> str:
    """The text with fenced code blocks blanked out (line numbers kept)."""
    return FENCE_RE.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def fenced_blocks(text: str, lang: str | None = None) -> list[str]:
    blocks = []
    for m in FENCE_RE.finditer(text):
        first, _, body = m.group(0).partition("\n")
        if lang is None or first.strip("`~ \t") == lang:
            blocks.append(body.rsplit("\n", 1)[0])
    return blocks


def table_rows(text: str, first_header: str) -> list[list[str]]:
    """Body rows (cells) of every markdown table whose first header cell is ``first_header``."""
    rows: list[list[str]] = []
    in_table = False
    for line in without_fences(text).splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if re.fullmatch(r"[\s|:-]+", line):  # the separator row
            continue
        if not in_table:
            in_table = cells[0].lower() == first_header
            continue
        rows.append(cells)
    return rows


def config_keys() -> dict[str, Any]:
    """Every ``section.key`` of Config with its default, from the section dataclasses."""
    config = Config()
    keys: dict[str, Any] = {}
    for section in dataclasses.fields(Config):
        value = getattr(config, section.name)
        if not dataclasses.is_dataclass(value):
            continue  # e.g. ``source``: where the file was read from, not a key
        for f in dataclasses.fields(value):
            keys[f"{section.name}.{f.name}"] = getattr(value, f.name)
    return keys


def documented_config_rows(text: str) -> list[tuple[list[str], str]]:
    """(keys, default cell) of each row of the ``| key | default | meaning |`` tables."""
    rows = []
    for cells in table_rows(text, "key"):
        keys = SPAN_RE.findall(cells[0])
        assert keys, f"configuration.md: a key row names no key in backticks: {cells[0]!r}"
        rows.append((keys, cells[1] if len(cells) > 1 else ""))
    return rows


def default_matches(documented: str, value: Any) -> bool:
    """Whether a default as written in the docs (one backticked literal, or a word) equals ``value``."""
    if documented == "unset":
        return value is None
    if documented == "generated":
        return value == ""
    if documented.startswith("`") and documented.endswith("`"):
        literal = documented[1:-1]
        if isinstance(value, bool):
            return literal == ("true" if value else "false")
        if isinstance(value, int | float):
            try:
                return float(literal) == value
            except ValueError:
                return False
        if isinstance(value, tuple):
            return literal == "[]" and value == ()
        if isinstance(value, Path):
            return literal == str(value)
        if isinstance(value, str):
            return literal == ('""' if value == "" else value)
    return False


def subcommands() -> dict[str, list[str]]:
    """``appliance`` subcommands, each with its own subcommands (``r2 list`` ...)."""

    def choices(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        found: dict[str, argparse.ArgumentParser] = {}
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                found.update(action.choices)
        return found

    return {name: sorted(choices(sub)) for name, sub in choices(build_parser()).items()}


def code_text(text: str) -> list[str]:
    """The lines of fenced blocks and the inline code spans: where a command is written down."""
    lines = [line.strip() for block in fenced_blocks(text) for line in block.splitlines()]
    return lines + SPAN_RE.findall(without_fences(text))


def key_pattern(node: ast.expr) -> re.Pattern[str] | None:
    """A figure name as a pattern: a string literal, or an f-string with its fields as wildcards."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.compile(re.escape(node.value))
    if isinstance(node, ast.JoinedStr):
        parts = [re.escape(v.value) if isinstance(v, ast.Constant) else "[a-z0-9_]*" for v in node.values]
        return re.compile("".join(parts))
    return None


def machine_figures() -> list[str]:
    """The keys bench/machine.py's ``report`` adds to a script's figures (``MACHINE_KEYS``)."""
    tree = ast.parse(read(REPO / "bench" / "machine.py"))
    found = [node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == "MACHINE_KEYS" for t in node.targets)]
    assert len(found) == 1 and isinstance(found[0], ast.Tuple)
    return [elt.value for elt in found[0].elts if isinstance(elt, ast.Constant)]


def printed_figures(script: Path) -> list[re.Pattern[str]]:
    """The keys of the dicts a bench script prints with ``json.dumps``: dict displays passed to it,
    and the dict variables passed to it (their displays and ``name[key] = ...`` assignments), and
    the machine's keys where the script passes its figures through ``report`` (bench/machine.py)."""
    tree = ast.parse(read(script))
    names: set[str] = set()
    keys: list[ast.expr] = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "dumps" and node.args):
            arg = node.args[0]
            if isinstance(arg, ast.Dict):
                keys += [k for k in arg.keys if k is not None]
            elif isinstance(arg, ast.Name):
                names.add(arg.id)
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and target.id in names and isinstance(value, ast.Dict):
                keys += [k for k in value.keys if k is not None]
            if (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                    and target.value.id in names):
                keys.append(target.slice)
    reports = any(isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id == "report" for node in ast.walk(tree))
    machine = [re.compile(re.escape(key)) for key in machine_figures()] if reports else []
    return [p for p in map(key_pattern, keys) if p is not None] + machine


def bench_figures(text: str) -> list[tuple[int, str, list[str]]]:
    """(line, figure, scripts) for every figure named in benchmarks.md: a backticked snake_case
    name. It belongs to the scripts named on its own line, else to its section's script."""
    figures = []
    section: list[str] = []
    for number, line in enumerate(without_fences(text).splitlines(), 1):
        if line.startswith("#"):
            section = SCRIPT_RE.findall(line)
            continue
        for token in SPAN_RE.findall(line):
            if FIGURE_RE.match(token):
                figures.append((number, token, SCRIPT_RE.findall(line) or section))
    return figures


def doc_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md")), REPO / "functions" / "README.md",
            REPO / "image-build" / "README.md"]


# --- configuration ------------------------------------------------------------------------------

def test_every_config_key_is_documented() -> None:
    documented = {key for keys, _ in documented_config_rows(read(CONFIGURATION)) for key in keys}
    missing = sorted(set(config_keys()) - documented)
    assert not missing, f"Config keys missing from docs/configuration.md: {missing}"


def test_every_documented_config_key_exists() -> None:
    text = read(CONFIGURATION)
    known = config_keys()
    sections = {key.split(".")[0] for key in known}
    unknown = sorted({key for keys, _ in documented_config_rows(text) for key in keys} - set(known))
    assert not unknown, f"docs/configuration.md documents keys that Config does not have: {unknown}"
    # Keys named in the prose, e.g. `importer.watch` (files such as `appliance.toml` are not keys)
    named = {t for t in SPAN_RE.findall(without_fences(text)) if (m := CONFIG_TOKEN_RE.match(t))
             and m.group(1) in sections}
    assert named <= set(known), f"docs/configuration.md names unknown keys: {sorted(named - set(known))}"
    # ... and in its TOML examples
    for block in fenced_blocks(text, "toml"):
        example = tomllib.loads(block)
        for section, table in example.items():
            for key in table:
                assert f"{section}.{key}" in known, f"the TOML example sets unknown key {section}.{key}"


def test_documented_defaults_match_the_code() -> None:
    known = config_keys()
    wrong = []
    for keys, cell in documented_config_rows(read(CONFIGURATION)):
        parts = [p.strip() for p in re.split(r",\s*(?=`)", cell)] if cell.startswith("`") else [cell]
        if len(parts) == 1:
            parts = parts * len(keys)
        assert len(parts) == len(keys), f"configuration.md: {keys} has defaults {cell!r}"
        wrong += [f"{key}: documented {part}, code {known[key]!r}"
                  for key, part in zip(keys, parts, strict=True)
                  if key in known and not default_matches(part, known[key])]
    assert not wrong, "docs/configuration.md defaults differ from Config:\n" + "\n".join(wrong)


# --- subcommands --------------------------------------------------------------------------------

def test_every_subcommand_is_documented() -> None:
    code = "\n".join(code_text(read(OPERATIONS)))
    missing = []
    for name, tools in subcommands().items():
        for words in [name] + [f"{name} {tool}" for tool in tools]:
            if not re.search(rf"(?<![\w/.-])appliance {re.escape(words)}(?![\w-])", code):
                missing.append(words)
    assert not missing, f"subcommands missing from docs/operations.md: {missing}"


def test_every_documented_subcommand_exists() -> None:
    commands = subcommands()
    unknown = set()
    for piece in code_text(read(OPERATIONS)):
        for m in re.finditer(r"(?<![\w/.-])appliance ([a-z][a-z0-9-]*)(?: ([a-z][a-z0-9-]*))?", piece):
            name, tool = m.groups()
            if name not in commands:
                unknown.add(name)
            elif commands[name] and tool not in commands[name]:
                unknown.add(f"{name} {tool}")
    assert not unknown, f"docs/operations.md names subcommands that do not exist: {sorted(unknown)}"


# --- benchmarks ---------------------------------------------------------------------------------

def test_documented_bench_figures_are_printed_by_their_script() -> None:
    figures = bench_figures(read(BENCHMARKS))
    assert figures, "docs/benchmarks.md names no figure"
    printed: dict[str, list[re.Pattern[str]]] = {}
    wrong = []
    for number, figure, scripts in figures:
        if not scripts:
            wrong.append(f"line {number}: `{figure}` is not under a bench/<name>.py heading")
            continue
        for script in scripts:
            path = REPO / "bench" / f"{script}.py"
            if not path.is_file():
                wrong.append(f"line {number}: bench/{script}.py does not exist")
            elif script not in printed:
                printed[script] = printed_figures(path)
        if not any(p.fullmatch(figure) for s in scripts for p in printed.get(s, [])):
            wrong.append(f"line {number}: `{figure}` is not a figure printed by "
                         + " or ".join(f"bench/{s}.py" for s in scripts))
    assert not wrong, "docs/benchmarks.md:\n" + "\n".join(wrong)


def test_printed_figures_are_found() -> None:
    """The static reading of the scripts finds literal and f-string keys (guards the check above)."""
    publish = printed_figures(REPO / "bench" / "publish.py")
    assert any(p.fullmatch("speedup_vs_naive_24mp") for p in publish)
    assert not any(p.fullmatch("speedup_vs_naive_24mp") for p in printed_figures(REPO / "bench" / "sync.py"))


# --- README and links ---------------------------------------------------------------------------

def test_readme_is_short_and_gives_the_set_up_commands() -> None:
    text = read(README)
    lines = text.count("\n") + (not text.endswith("\n"))
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines (at most {README_MAX_LINES})"
    commands = {line.split("#")[0].strip()
                for block in fenced_blocks(text, "sh") for line in block.splitlines()}
    makefile = read(REPO / "Makefile")
    for command in ("make demo", "make test"):
        assert command in commands, f"README.md's set-up block does not give `{command}`"
        assert re.search(rf"^{command.split()[1]}:", makefile, re.M), f"the Makefile has no {command}"


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_named_repository_paths_exist(path: Path) -> None:
    """A file or folder of the repository named in code, e.g. `appliance/device/gpio.py`, exists
    (catches module paths left stale by a move)."""
    named = {t for t in SPAN_RE.findall(without_fences(read(path)))
             if REPO_PATH_RE.match(t) and "/." not in t  # not build output such as image-build/.pi-gen
             and not t.startswith("tests/artifacts")}  # nor the browser tests' screenshots (made by them)
    missing = sorted(t for t in named if not (REPO / t).exists())
    assert not missing, f"{path.relative_to(REPO)} names paths that do not exist: {missing}"


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(path: Path) -> None:
    broken = []
    for target in LINK_RE.findall(without_fences(read(path))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue  # a URL (http:, mailto:) or an anchor in the same page
        file = target.split("#", 1)[0]
        if not (path.parent / file).exists():
            broken.append(target)
    assert not broken, f"{path.relative_to(REPO)} links to missing files: {broken}"


def test_the_sdist_carries_what_the_readme_links_to() -> None:
    include = tomllib.loads(read(REPO / "pyproject.toml"))["tool"]["hatch"]["build"]["targets"]["sdist"][
        "include"]
    missing = []
    for target in LINK_RE.findall(without_fences(read(README))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue
        first = Path(target.split("#", 1)[0]).parts[0]
        if first not in include:
            missing.append(target)
    assert not missing, f"README links to files the sdist leaves out: {missing}"
