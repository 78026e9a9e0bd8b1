"""The gpio service: the status LED, the card LED and the publish button, refreshed from the store."""

from __future__ import annotations

import os

from ..config import Config
from ..lifecycle import Lifecycle
from ..store import Store
from . import gpio


def mock_pins(config: Config) -> bool:
    """Whether this run uses gpiozero's MockFactory (``gpio.mock`` or GPIOZERO_PIN_FACTORY=mock)."""
    return config.gpio.mock or os.environ.get("GPIOZERO_PIN_FACTORY") == "mock"


def run(config: Config, store: Store, service: Lifecycle) -> None:
    """Drive the LEDs and the button until the service is told to stop."""
    mock = mock_pins(config)
    panel = gpio.StatusPanel(config.gpio, gpio.StoreActions(config, mock=mock))

    def describe() -> str:
        text = f"LED {panel.state}: {gpio.MEANING[panel.state or gpio.Panel.STARTING]}"
        if panel.card_state == gpio.CardLed.SAFE:
            text += "; card safe to remove"
        elif panel.card_state == gpio.CardLed.KEEP:
            text += "; keep the card: some of its files could not be imported (see the admin)"
        elif panel.card_state == gpio.CardLed.BUSY:
            text += "; card busy, do not remove"
        return text + (" (mock pins)" if mock else "")

    panel.refresh(config, store)
    service.ready(describe(), store)
    while service.running():
        service.alive()
        panel.refresh(config, store)
        service.status(describe())
        service.sleep(0.5)
    panel.close()
