"""The import report by category, and whether the card may be removed (and, if not, why).

Every file an import saw lands in exactly one category. The card is "safe to remove" only when
every file is in a safe one: imported and verified, an original archived and verified, a duplicate
of a photo already kept, or deliberately ignored (hidden and system files, files that are not
photos). A zero-byte, unreadable or failed file always keeps the card, and the verdict says so.

Reports written before the categories existed (no ``counts`` key) are read by their skip reasons.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from ..store import ImportState
from .scan import REASON_EMPTY

FILES_SHOWN = 200  # file names kept per category in a report (the counts are always whole)


class Category(StrEnum):
    """Where one file of an import ended up (in the order the report lists them)."""

    IMPORTED = "imported"
    ARCHIVED = "archived"  # a RAW or HEIC original, archived and verified
    DUPLICATES = "duplicates"
    UNREADABLE = "unreadable"  # corrupt or truncated content: the card keeps it
    ZERO_BYTE = "zero_byte"
    FAILED = "failed"  # could not be read from the card or written to the disk
    HIDDEN = "hidden"  # hidden and system files (._*, .DS_Store, Thumbs.db): deliberately ignored
    NOT_PHOTO = "not_photo"  # videos and other files: deliberately left on the card


SAFE = frozenset({Category.IMPORTED, Category.ARCHIVED, Category.DUPLICATES, Category.HIDDEN,
                  Category.NOT_PHOTO})
# how a count reads in the report line: "212 imported · 3 duplicates · 4 hidden files ignored"
LABELS = {
    Category.IMPORTED: "imported",
    Category.ARCHIVED: "originals archived",
    Category.DUPLICATES: "duplicates",
    Category.UNREADABLE: "unreadable",
    Category.ZERO_BYTE: "zero-byte",
    Category.FAILED: "failed",
    Category.HIDDEN: "hidden files ignored",
    Category.NOT_PHOTO: "not photos (left on the card)",
}
HIDDEN_REASONS = frozenset({"macOS metadata file (._*)", "system file", "hidden file",
                            "hidden or system folder"})
_NOT_PHOTO_STARTS = ("video (", "not a photo (", "Live Photo video")


def category_of_skip(reason: str) -> Category:
    """The category of a file skipped for ``reason`` (an unknown reason is never called safe)."""
    if reason == REASON_EMPTY:
        return Category.ZERO_BYTE
    if reason in HIDDEN_REASONS:
        return Category.HIDDEN
    if reason.startswith(_NOT_PHOTO_STARTS):
        return Category.NOT_PHOTO
    return Category.UNREADABLE


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def verdict(state: str, counts: dict[str, int], message: str = "") -> tuple[bool, str]:
    """(safe to remove, the sentence saying which files were kept, ignored or are in trouble)."""
    if state == ImportState.RUNNING:
        return False, "importing — do not remove the card"
    trouble = []
    if n := counts.get(Category.UNREADABLE, 0):
        trouble.append(_plural(n, "file could not be read", "files could not be read"))
    if n := counts.get(Category.ZERO_BYTE, 0):
        trouble.append(_plural(n, "file is empty (0 bytes)", "files are empty (0 bytes)"))
    if n := counts.get(Category.FAILED, 0):
        trouble.append(_plural(n, "file could not be copied", "files could not be copied"))
    if state != ImportState.DONE:
        trouble.insert(0, message or "the import stopped before the end")
    if trouble:
        return False, " and ".join(trouble) + " — keep the card"
    kept = counts.get(Category.IMPORTED, 0) + counts.get(Category.ARCHIVED, 0) + counts.get(
        Category.DUPLICATES, 0)
    said = ("every photo is imported and verified" if kept else "there were no photos to import")
    ignored = [_plural(n, one, many) for cat, one, many in (
        (Category.HIDDEN, "hidden file", "hidden files"),
        (Category.NOT_PHOTO, "file that is not a photo", "files that are not photos"))
        if (n := counts.get(cat, 0))]
    if ignored:
        said += "; ignored on purpose: " + " and ".join(ignored)
    return True, said


def _files(entries: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "reason": reason} for name, reason in entries[:FILES_SHOWN]]


def categorize(report: Any) -> dict[str, Any]:
    """An :class:`ImportReport`'s files by category: ``counts``, ``files`` (name and reason, the
    first :data:`FILES_SHOWN` of each), ``safe_to_remove`` and ``verdict``."""
    by: dict[Category, list[tuple[str, str]]] = {c: [] for c in Category}
    derived = {name: how for how, names in report.derived.items() for name in names}
    notices = {name: reason for reason, names in report.notices.items() for name in names}
    by[Category.IMPORTED] = [(n, f"derived from the original ({derived[n]})" if n in derived else "")
                             for n in report.imported]
    by[Category.ARCHIVED] = [(n, notices.get(n, "paired with its photo")) for n in report.raw_archived
                             if n not in derived]
    by[Category.DUPLICATES] = [(n, "already on the appliance") for n in report.duplicates]
    for reason, names in report.skipped.items():
        category = report.skip_categories.get(reason) or category_of_skip(reason)
        by[Category(category)] += [(n, reason) for n in names]
    by[Category.FAILED] += list(report.errors.items())
    counts = {c.value: len(entries) for c, entries in by.items() if entries}
    safe, said = verdict(report.state, counts, report.message)
    return {"counts": counts, "files": {c.value: _files(e) for c, e in by.items() if e},
            "safe_to_remove": safe, "verdict": said}


def read_categories(summary: dict[str, Any], state: str) -> dict[str, Any]:
    """The categories of a stored report: as written, or rebuilt from an older report's counts and
    skip reasons (its file names are the five examples it kept of each reason)."""
    if "counts" in summary:
        return {k: summary[k] for k in ("counts", "files", "safe_to_remove", "verdict")}
    counts: dict[str, int] = {}
    files: dict[str, list[dict[str, str]]] = {}
    for key, category in (("imported", Category.IMPORTED), ("raw_archived", Category.ARCHIVED),
                          ("duplicates", Category.DUPLICATES)):
        if n := summary.get(key) or 0:
            counts[category] = counts.get(category, 0) + n
    for reason, n in (summary.get("skipped") or {}).items():
        category = category_of_skip(reason)
        counts[category] = counts.get(category, 0) + n
        examples = (summary.get("skipped_examples") or {}).get(reason, [])
        files.setdefault(category, []).extend({"name": e, "reason": reason} for e in examples)
    errors = summary.get("errors") or {}
    if errors:
        counts[Category.FAILED] = len(errors)
        files[Category.FAILED] = _files(list(errors.items()))
    safe, said = verdict(state, counts, summary.get("message") or "")
    return {"counts": counts, "files": files, "safe_to_remove": safe, "verdict": said}
