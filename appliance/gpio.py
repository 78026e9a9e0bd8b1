"""Status LED and publish button with gpiozero (mock pins on a laptop)."""

from __future__ import annotations

import logging
from typing import Any

from .config import Config
from .store import Store

log = logging.getLogger(__name__)


def use_mock_pins() -> None:
    """Switch gpiozero to its MockFactory (no hardware needed)."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    Device.pin_factory = MockFactory()


def led_state(status: dict[str, Any]) -> str:
    """What the status LED shows for a store status: solid, slow blink, fast blink or off."""
    if status["online"] is False and status["queue"]["jobs"]:
        return "fast"  # offline with photos waiting
    if status["importing"] or status["queue"]["jobs"] or status["publishing"]:
        return "slow"  # busy: importing, publishing or uploading
    return "solid"  # ready, all synced


class StatusPanel:
    """Drives the status LED from the store and publishes the latest photo on a button press."""

    PATTERNS = {"solid": None, "slow": (1.0, 1.0), "fast": (0.15, 0.15)}

    def __init__(self, config: Config, store: Store, publish_latest: Any) -> None:
        from gpiozero import LED, Button

        self.store = store
        self.led = LED(config.gpio.status_led) if config.gpio.status_led else None
        self.button = Button(config.gpio.button, bounce_time=0.05) if config.gpio.button else None
        self.shown: str | None = None
        if self.button is not None:
            self.button.when_pressed = lambda: publish_latest()

    def refresh(self) -> str:
        state = led_state(self.store.status())
        if self.led is not None and state != self.shown:
            pattern = self.PATTERNS[state]
            if pattern is None:
                self.led.on()
            else:
                self.led.blink(on_time=pattern[0], off_time=pattern[1])
        self.shown = state
        return state

    def close(self) -> None:
        for device in (self.led, self.button):
            if device is not None:
                device.close()
