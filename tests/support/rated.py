"""Camera frames carrying an in-camera rating: a real sample re-saved with the EXIF Rating /
RatingPercent tags (IFD0, as Sony, Canon and Nikon write them) and/or an XMP packet with
xmp:Rating (as Lightroom and Nikon write it)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

XMP_TEMPLATE = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" {attr}>{element}'
    "</rdf:Description></rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>"
)


def xmp_rating(stars: int, as_element: bool = False) -> bytes:
    """An XMP packet with xmp:Rating as an attribute (the compact form) or as an element."""
    if as_element:
        return XMP_TEMPLATE.format(attr="", element=f"<xmp:Rating>{stars}</xmp:Rating>").encode()
    return XMP_TEMPLATE.format(attr=f'xmp:Rating="{stars}"', element="").encode()


def rated_frame(sample: Path, dest: Path, rating: int | None = None, percent: int | None = None,
                xmp: bytes | None = None, description: str | None = None) -> Path:
    """``sample`` re-saved with the given EXIF Rating (0x4746), RatingPercent (0x4749) and XMP
    (``description``, an ImageDescription, makes frames of one sample distinct)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(sample) as image:
        exif = image.getexif()
        if description is not None:
            exif[0x010E] = description
        if rating is not None:
            exif[0x4746] = rating
        if percent is not None:
            exif[0x4749] = percent
        params = {"exif": exif.tobytes(), "quality": 90}
        if xmp is not None:
            params["xmp"] = xmp
        image.save(dest, "JPEG", **params)
    return dest
