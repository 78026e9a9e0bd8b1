"""Status LEDs and the one-press publish button, with gpiozero.

gpiozero picks its default pin factory: lgpio on the Pi 5 and the Pi 4 (``/dev/gpiochip*``);
``gpio.mock`` (or ``GPIOZERO_PIN_FACTORY=mock``) uses its MockFactory on a laptop or in tests.

Status LED patterns (one LED; an RGB LED shows the same rhythm in the colour in brackets):

=========== ======================================== ===========================================
state       pattern                                  meaning
=========== ======================================== ===========================================
starting    even blink, 0.5 s on / 0.5 s off (blue)  services are starting
ready       steady on (green)                        every photo is in the bucket
importing   fast flicker, 0.1 s / 0.1 s (yellow)     reading the card: do not remove it
uploading   on, with a 0.2 s dip every 1.8 s (cyan)  photos are being rendered or uploaded
offline     double flash every 2 s (magenta)         no uplink, photos are waiting to upload
error       triple flash every 2 s (red)             needs you: disk full, bucket refused the
                                                     credentials or does not exist
=========== ======================================== ===========================================

Card LED (``gpio.card_led``): fast flicker while the card is read, steady on when it is **safe to
remove**, off without a card. With a single LED the card is safe to remove whenever the status LED
is not flickering.

Button (``gpio.button``; released after):

- a press (under ``hold_seconds``, 3 s): publish the newest buffered photo with the default recipe;
  the LED winks three times to acknowledge, or shows the error flash once if the buffer is empty;
- a hold (``hold_seconds`` to ``shutdown_seconds``): the LED goes dark at 3 s; releasing then undoes
  the last button publish (the photo leaves the gallery; nothing is deleted locally);
- a long hold (from ``shutdown_seconds``, 10 s): the LED strobes; releasing then shuts the Pi down
  cleanly (``systemctl poweroff``);
- held for more than 30 s: nothing happens (a stuck button or something leaning on it).

The action is chosen on release, so a press and a hold never both fire. Contact bounce is filtered
in software (an edge counts once the pin has been stable for 50 ms), the same on every pin factory.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..config import Config, GpioConfig
from .button import ButtonActions, ButtonController, Feedback

log = logging.getLogger(__name__)

Colour = tuple[int, int, int]  # on/off per channel: plain (non-PWM) pins work everywhere


@dataclass(frozen=True)
class Pattern:
    """A looping LED rhythm: (level, seconds) steps; a single step is steady."""

    steps: tuple[tuple[int, float], ...]
    colour: Colour = (1, 1, 1)

    @property
    def steady(self) -> bool:
        return len(self.steps) == 1


def _flashes(count: int, period: float = 2.0, on: float = 0.15, gap: float = 0.25) -> tuple:
    steps: list[tuple[int, float]] = []
    for i in range(count):
        steps.append((1, on))
        steps.append((0, gap if i < count - 1 else period - count * on - (count - 1) * gap))
    return tuple(steps)


class Panel(StrEnum):
    """What the status LED says, most urgent first in :func:`panel_state`."""

    STARTING = "starting"
    READY = "ready"
    IMPORTING = "importing"
    UPLOADING = "uploading"
    OFFLINE = "offline"
    ERROR = "error"


class CardLed(StrEnum):
    """The card LED: no card, an import running, safe to remove, or keep it (some of its files
    could not be imported: it may come out, but must not be formatted)."""

    ABSENT = "absent"
    BUSY = "busy"
    SAFE = "safe"
    KEEP = "keep"


PATTERNS: dict[str, Pattern] = {
    Panel.STARTING: Pattern(((1, 0.5), (0, 0.5)), (0, 0, 1)),
    Panel.READY: Pattern(((1, 1.0),), (0, 1, 0)),
    Panel.IMPORTING: Pattern(((1, 0.1), (0, 0.1)), (1, 1, 0)),
    Panel.UPLOADING: Pattern(((1, 1.6), (0, 0.2)), (0, 1, 1)),
    Panel.OFFLINE: Pattern(_flashes(2), (1, 0, 1)),
    Panel.ERROR: Pattern(_flashes(3), (1, 0, 0)),
    Feedback.HOLD: Pattern(((0, 1.0),)),
    Feedback.SHUTDOWN: Pattern(((1, 0.05), (0, 0.05)), (1, 0, 0)),
    Feedback.ACK: Pattern(((0, 0.15), (1, 0.15)) * 3, (1, 1, 1)),
}
CARD_PATTERNS: dict[str, Pattern] = {
    CardLed.ABSENT: Pattern(((0, 1.0),)),
    CardLed.BUSY: Pattern(((1, 0.1), (0, 0.1))),
    CardLed.SAFE: Pattern(((1, 1.0),)),
    CardLed.KEEP: Pattern(((1, 0.5), (0, 0.5))),
}
MEANING = {
    Panel.STARTING: "services are starting",
    Panel.READY: "every photo is in the bucket",
    Panel.IMPORTING: "reading the card",
    Panel.UPLOADING: "rendering or uploading photos",
    Panel.OFFLINE: "offline, photos waiting",
    Panel.ERROR: "needs attention",
}


def use_mock_pins() -> None:
    """Switch gpiozero to its MockFactory (no hardware needed)."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    Device.pin_factory = MockFactory()


def panel_state(status: dict[str, Any], services_ready: bool, problems: list[str]) -> str:
    """Which status pattern to show; the most urgent condition wins."""
    waiting = bool(status["queue"]["jobs"] or status["publishing"])
    if problems:
        return Panel.ERROR
    if not services_ready:
        return Panel.STARTING
    if status["importing"]:
        return Panel.IMPORTING
    if waiting and status["online"] is False:
        return Panel.OFFLINE
    if waiting:
        return Panel.UPLOADING
    return Panel.READY


def card_state(status: dict[str, Any], card: dict[str, Any] | None) -> str:
    """busy while an import runs; keep when a card's import left files in trouble; safe when a card
    (or watch folder) is present; else absent."""
    if status["importing"]:
        return CardLed.BUSY
    if card and card.get("present") and card.get("keep"):
        return CardLed.KEEP
    return CardLed.SAFE if card and card.get("present") else CardLed.ABSENT


class PatternPlayer:
    """Plays a looping pattern on one LED or RGB LED in a thread, with one-off overlays."""

    def __init__(self, device: Any, patterns: dict[str, Pattern], rgb: bool = False) -> None:
        self.device = device
        self.patterns = patterns
        self.rgb = rgb
        self.base: str | None = None
        self.overlay: str | None = None
        self.overlay_once = False
        self._changed = threading.Event()
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="led-pattern", daemon=True)
        self._thread.start()

    @property
    def showing(self) -> str | None:
        return self.overlay or self.base

    def show(self, name: str) -> None:
        """Make ``name`` the base pattern (restarted only when it changes)."""
        with self._lock:
            if name == self.base:
                return
            self.base = name
        self._changed.set()

    def flash(self, name: str | None, once: bool = True) -> None:
        """Show ``name`` over the base pattern: one cycle (``once``) or until cleared with None."""
        with self._lock:
            self.overlay, self.overlay_once = name, once
        self._changed.set()

    def _set(self, level: int, pattern: Pattern) -> None:
        if self.rgb:
            self.device.color = pattern.colour if level else (0, 0, 0)
        else:
            self.device.value = level

    def _run(self) -> None:
        while not self._closed:
            with self._lock:
                self._changed.clear()
                name = self.overlay or self.base
                once = self.overlay is not None and self.overlay_once
            if name is None:
                self._changed.wait()
                continue
            pattern = self.patterns[name]
            interrupted = False
            for level, seconds in pattern.steps:
                self._set(level, pattern)
                if pattern.steady and not once:
                    self._changed.wait()
                    interrupted = True
                    break
                if self._changed.wait(seconds):
                    interrupted = True
                    break
            if once and not interrupted:
                with self._lock:
                    if self.overlay == name:
                        self.overlay = None

    def close(self) -> None:
        self._closed = True
        self._changed.set()
        self._thread.join(timeout=2)


class StoreActions:
    """What the button does, against the store (one connection per call: it runs in a thread)."""

    LAST = "gpio:last_button_publication"

    def __init__(self, config: Config, mock: bool = False) -> None:
        self.config = config
        self.mock = mock

    def _store(self) -> Any:
        from ..store import Store

        return Store(self.config.db_path)

    def publish(self) -> bool:
        """Queue the newest buffered photo with the default recipe (the publisher renders it)."""
        from ..publish.worker import Publisher

        store = self._store()
        try:
            photo = store.latest_photo()
            if photo is None:
                log.info("button: the buffer is empty, nothing to publish")
                return False
            pub_id = Publisher(self.config, store).request(photo["id"], {})
            store.set_setting(self.LAST, pub_id)
            log.info("button: queued %s for publishing (publication %d)", photo["original_name"], pub_id)
            return True
        finally:
            store.close()

    def undo(self) -> bool:
        """Unpublish the last button-published photo, if it is still published."""
        from ..publish.worker import Publisher
        from ..store import PublicationState

        store = self._store()
        try:
            pub_id = store.get_setting(self.LAST)
            pub = store.publication(pub_id) if pub_id is not None else None
            if pub is None or pub["state"] != PublicationState.PUBLISHED:
                log.info("button: nothing to undo (%s)", pub["state"] if pub else "no button publish")
                return False
            Publisher(self.config, store).unpublish(pub_id)
            store.set_setting(self.LAST, None)
            log.info("button: unpublished %s", pub["name"])
            return True
        finally:
            store.close()

    def shutdown(self) -> bool:
        """Power off cleanly through logind (the install script's polkit rule allows it)."""
        if self.mock:
            log.warning("button: shutdown requested; not powering off with mock pins")
            return True
        result = subprocess.run(["systemctl", "poweroff"], capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            log.error("button: systemctl poweroff failed: %s", result.stderr.strip())
        return result.returncode == 0


class StatusPanel:
    """The status LED(s), the card LED and the button, built from ``[gpio]``."""

    def __init__(self, gpio: GpioConfig, actions: ButtonActions) -> None:
        from gpiozero import LED, RGBLED, Button

        self.players: list[PatternPlayer] = []
        if gpio.status_led:
            self.players.append(PatternPlayer(LED(gpio.status_led), PATTERNS))
        if gpio.rgb_red:
            rgb = RGBLED(gpio.rgb_red, gpio.rgb_green, gpio.rgb_blue, pwm=False)
            self.players.append(PatternPlayer(rgb, PATTERNS, rgb=True))
        self.card = PatternPlayer(LED(gpio.card_led), CARD_PATTERNS) if gpio.card_led else None
        self.button = None
        if gpio.button:
            self.button = ButtonController(
                Button(gpio.button, pull_up=True), actions, gpio.hold_seconds,
                gpio.shutdown_seconds, feedback=self._feedback, done=self._done,
            )
        self.state: str | None = None
        self.card_state: str | None = None
        self.show(Panel.STARTING, CardLed.ABSENT)

    def show(self, state: str, card: str) -> None:
        self.state, self.card_state = state, card
        for player in self.players:
            player.show(state)
        if self.card is not None:
            self.card.show(card)

    def _feedback(self, stage: str | None) -> None:
        for player in self.players:
            player.flash(stage, once=False)

    def _done(self, action: str, ok: bool) -> None:
        for player in self.players:
            player.flash(Feedback.ACK if ok else Panel.ERROR, once=True)

    def refresh(self, config: Config, store: Any) -> str:
        """Read the store and show what it says; returns the status state."""
        from .health import attention
        from .systemd import services_ready

        status = store.status()
        state = panel_state(status, services_ready(store), attention(config, store))
        self.show(state, card_state(status, store.get_setting("card")))
        return state

    def close(self) -> None:
        if self.button is not None:
            self.button.close()
            self.button.button.close()
        for player in [*self.players, *([self.card] if self.card else [])]:
            player.close()
            player.device.close()
