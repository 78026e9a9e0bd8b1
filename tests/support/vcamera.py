"""libgphoto2's virtual PTP camera ("vusb", bundled in the gphoto2 wheel): a folder of files that
libgphoto2 sees as a camera's card, with real PTP events (a capture adds a frame and announces it).

vusb reads its folder once per process, the first time a camera is opened, and keeps what it read
(and the frames captured since) for the life of the process. So the tests of one process share one
virtual card (:func:`camera_env` for the folder given first), and a subprocess started with
:func:`camera_env` of another folder gets a camera of its own.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import gphoto2

VUSB = Path(gphoto2.__file__).parent / "libgphoto2" / "vusb"  # the virtual camera's port driver
IDENTITY = "GP VC 0.1"  # manufacturer, model and serial number it reports


def camera_env(folder: Path) -> dict[str, str]:
    """Environment making libgphoto2 find the virtual camera whose card is ``folder``."""
    return {"VCAMERADIR": str(folder), "IOLIBS": str(VUSB)}


def fill_card(folder: Path, photos: list[Path], first: int = 1) -> list[Path]:
    """Copy ``photos`` onto the card as DCIM/100TEST/IMG_nnnn.JPG (numbered from ``first``)."""
    dcim = folder / "DCIM" / "100TEST"
    dcim.mkdir(parents=True, exist_ok=True)
    placed = []
    for number, photo in enumerate(photos, start=first):
        placed.append(Path(shutil.copyfile(photo, dcim / f"IMG_{number:04d}.JPG")))
    return placed
