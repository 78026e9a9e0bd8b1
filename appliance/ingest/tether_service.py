"""The USB tether service: frames from a camera on USB (:mod:`.tether`), under the service life cycle.

udev starts it when a camera is plugged in (``systemd/70-appliance-tether.rules``); it stops by
itself, with success, once no camera has been connected for ``tether.linger_seconds``.
"""

from __future__ import annotations

from ..config import Config
from ..lifecycle import Lifecycle
from ..store import Store
from .tether import Tether, keep_frames_on_the_card


def run(config: Config, store: Store, service: Lifecycle) -> None:
    """Pull frames until told to stop or the camera has been gone long enough."""
    keep_frames_on_the_card(config.folder("state") / "tether")
    tether = Tether(config, store, service.status)
    linger = config.tether.linger_seconds
    service.ready(f"USB tether: looking for a camera (stops {linger:g} s after the last one goes)"
                  if linger else "USB tether: looking for a camera", store)
    tether.serve(service.running, service.alive, service.sleep)
