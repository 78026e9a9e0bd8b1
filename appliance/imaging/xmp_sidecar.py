"""XMP sidecars carrying a photo's rating and pick/reject flag, for Lightroom and Photo Mechanic.

What each reads (ExifTool's tag tables for both namespaces; the XMP specification for Rating):
- ``xmp:Rating``: 0-5 stars, -1 for a rejected photo (Lightroom shows -1 as rejected);
- ``xmp:Label``: the colour label; a pick is labelled ``Select`` (a label Lightroom's default set
  and Photo Mechanic both show);
- ``photomechanic:Tagged`` (``http://ns.camerabits.com/photomechanic/1.0/``): Photo Mechanic's
  tag, its pick;
- ``xmpMM:PreservedFileName``: the camera's file name (the archive names files by their sha256).

A sidecar pairs with its image by base name (``ab12….xmp`` beside ``ab12….jpg`` or ``….cr2``), so
it is named after the file it sits beside. Lightroom reads sidecars of RAW files (for a JPEG it
reads only the XMP inside the file); Photo Mechanic reads them for both.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

from ..fsutil import atomic_write_bytes

PHOTO_MECHANIC = "http://ns.camerabits.com/photomechanic/1.0/"
PICK_LABEL = "Select"


def sidecar_path(original: Path) -> Path:
    """Where the sidecar of ``original`` goes: beside it, same base name, ``.xmp``."""
    return original.with_suffix(".xmp")


def sidecar_xml(rating: int, flag: str | None, original_name: str) -> bytes:
    """The XMP packet of a photo: stars 0-5 (-1 when ``flag`` is ``rejected``), the pick."""
    stars = -1 if flag == "rejected" else max(0, min(5, rating))
    label = f"\n    xmp:Label={quoteattr(PICK_LABEL)}" if flag == "picked" else ""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        '    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"\n'
        f'    xmlns:photomechanic="{PHOTO_MECHANIC}"\n'
        f'    xmp:Rating="{stars}"{label}\n'
        f'    photomechanic:Tagged="{"True" if flag == "picked" else "False"}"\n'
        f"    xmpMM:PreservedFileName={quoteattr(original_name)}/>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>\n'
    ).encode()


def write_sidecar(original: Path, data: bytes) -> bool:
    """Write the sidecar of ``original`` atomically unless it holds ``data`` already; True when
    written. The original is never opened."""
    path = sidecar_path(original)
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    atomic_write_bytes(path, data)
    return True
