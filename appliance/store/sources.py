"""Where an import came from, read from its source label in this one place.

Each door labels its imports: ``card <label> (<device>)``, ``hot folder <path>``, ``ftp <user>``,
``tether <camera>``, ``upload <file>`` (the admin's upload); anything else (``appliance import PATH``)
is ``other``.
The import row keeps the kind and name beside the label (:meth:`Imports.start_import`), so a photo's
source is its import's. Auto-publish rules are per kind, and per account for FTP
(:func:`rule_name`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SourceKind(StrEnum):
    CARD = "card"
    HOT_FOLDER = "hotfolder"
    TETHER = "tether"
    FTP = "ftp"
    UPLOAD = "upload"
    OTHER = "other"


PREFIXES = (("hot folder ", SourceKind.HOT_FOLDER), ("card ", SourceKind.CARD),
            ("ftp ", SourceKind.FTP), ("tether ", SourceKind.TETHER), ("upload ", SourceKind.UPLOAD))


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    name: str


def parse_source(label: str) -> Source:
    """The kind and name of an import's source label (a card's name is its label, no device)."""
    for prefix, kind in PREFIXES:
        if label.startswith(prefix):
            name = label[len(prefix):]
            if kind == SourceKind.CARD and name.endswith(")") and " (" in name:
                name = name.rsplit(" (", 1)[0]
            return Source(kind, name)
    return Source(SourceKind.OTHER, label)


def rule_name(kind: str, name: str) -> str:
    """The name a rule is kept under: the account for FTP; one rule for any card, the hot folder
    and any tethered camera."""
    return name if kind == SourceKind.FTP else ""
