"""Status LEDs and the publish button on gpiozero's MockFactory, against a real store.

LED patterns are checked from the mock pins' recorded state changes (level and how long it was
held); the button is driven by pulling its pin low/high with contact bounce, as a real one does.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero import LED, RGBLED, Device
from gpiozero.pins.mock import MockFactory
from support.polling import wait_for

from appliance.config import Config, ConfigError, GpioConfig, parse
from appliance.device import gpio
from appliance.device.button import ButtonController
from appliance.device.health import attention
from appliance.device.systemd import CORE_SERVICES, boot_id
from appliance.ingest.importer import Importer
from appliance.publish.worker import Publisher
from appliance.store import Store

STATUS_PIN, BUTTON_PIN, CARD_PIN, RGB_PINS = 17, 27, 22, (5, 6, 13)
# The documented rhythms (docs/operations.md, appliance/device/gpio.py): (level, seconds), looping.
SPEC = {
    "starting": ((1, 0.5), (0, 0.5)),
    "importing": ((1, 0.1), (0, 0.1)),
    "uploading": ((1, 1.6), (0, 0.2)),
    "offline": ((1, 0.15), (0, 0.25), (1, 0.15), (0, 1.45)),
    "error": ((1, 0.15), (0, 0.25), (1, 0.15), (0, 0.25), (1, 0.15), (0, 1.05)),
}


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    previous = Device.pin_factory
    Device.pin_factory = factory = MockFactory()
    yield factory
    factory.reset()
    Device.pin_factory = previous


def held(pin: Any) -> list[tuple[bool, float]]:
    """(level, seconds held) for every complete level the pin went through."""
    states = list(pin.states)
    return [(cur.state, nxt.timestamp) for cur, nxt in zip(states, states[1:], strict=False)]


def merged(steps: tuple[tuple[int, float], ...]) -> list[tuple[bool, float]]:
    out: list[tuple[bool, float]] = []
    for level, seconds in steps:
        if out and out[-1][0] == bool(level):
            out[-1] = (out[-1][0], out[-1][1] + seconds)
        else:
            out.append((bool(level), seconds))
    return out


def assert_cycles(pin: Any, steps: tuple[tuple[int, float], ...], cycles: float = 1.5) -> None:
    """The pin went through the steps, in order, each lasting its time (median per step ±50 ms + 10 %).

    Levels must follow the pattern exactly; durations are compared as medians over the cycles seen,
    so one late wake-up of a thread on a busy machine does not fail the test.
    """
    expected = merged(steps)
    seen = held(pin)[1:]  # the first level was entered before the pattern started
    n = len(expected)
    assert len(seen) >= int(n * cycles), f"too few changes: {seen}"
    shown = [(lvl, round(sec, 3)) for lvl, sec in seen]
    best: tuple[float, int] | None = None
    for offset in range(n):
        if all(level == expected[(offset + i) % n][0] for i, (level, _) in enumerate(seen)):
            error = sum(abs(sec - expected[(offset + i) % n][1]) for i, (_, sec) in enumerate(seen))
            best = min(best or (error, offset), (error, offset))
    assert best is not None, f"pin went {shown}, wanted levels of {expected}"
    offset = best[1]
    for k, (_, want) in enumerate(expected):
        durations = [sec for i, (_, sec) in enumerate(seen) if (offset + i) % n == k]
        got = statistics.median(durations)
        assert abs(got - want) <= 0.05 + 0.1 * want, f"step {k}: {got:.3f} s, wanted {want} ({shown})"


def period(steps: tuple[tuple[int, float], ...]) -> float:
    return sum(seconds for _, seconds in steps)


@pytest.mark.parametrize("state", ["starting", "importing", "uploading", "offline", "error"])
def test_each_blinking_state_drives_its_pattern(factory: MockFactory, state: str) -> None:
    led = LED(STATUS_PIN)
    player = gpio.PatternPlayer(led, gpio.PATTERNS)
    try:
        player.show(state)
        time.sleep(max(2.2 * period(SPEC[state]), 1.0))
        assert_cycles(factory.pin(STATUS_PIN), SPEC[state])
    finally:
        player.close()


def test_ready_is_steady_on_and_patterns_are_distinct(factory: MockFactory) -> None:
    led = LED(STATUS_PIN)
    player = gpio.PatternPlayer(led, gpio.PATTERNS)
    try:
        player.show("ready")
        time.sleep(1.0)
        pin = factory.pin(STATUS_PIN)
        assert [s.state for s in pin.states] == [False, True]
    finally:
        player.close()
    shapes = {name: tuple(merged(gpio.PATTERNS[name].steps)) for name in gpio.Panel}
    assert len(set(shapes.values())) == len(gpio.Panel), "two states look the same"


def test_rgb_led_shows_the_rhythm_in_the_state_colour(factory: MockFactory) -> None:
    rgb = RGBLED(*RGB_PINS, pwm=False)
    player = gpio.PatternPlayer(rgb, gpio.PATTERNS, rgb=True)
    try:
        player.show("error")
        time.sleep(2.2 * period(SPEC["error"]))
        red, green, blue = (factory.pin(p) for p in RGB_PINS)
        assert_cycles(red, SPEC["error"])
        assert [s.state for s in green.states] == [False]
        assert [s.state for s in blue.states] == [False]
        for pin in (red, green, blue):
            pin.clear_states()
        player.show("ready")
        time.sleep(0.5)
        assert rgb.color == (0, 1, 0)
        assert [s.state for s in green.states] == [False, True]
    finally:
        player.close()


def test_card_led_busy_safe_absent(factory: MockFactory) -> None:
    led = LED(CARD_PIN)
    player = gpio.PatternPlayer(led, gpio.CARD_PATTERNS)
    try:
        player.show("busy")
        time.sleep(1.0)
        assert_cycles(factory.pin(CARD_PIN), ((1, 0.1), (0, 0.1)), cycles=3)
        player.show("safe")
        time.sleep(0.3)
        assert led.value == 1
        factory.pin(CARD_PIN).clear_states()
        time.sleep(0.5)
        assert [s.state for s in factory.pin(CARD_PIN).states] == [True]  # steady
        player.show("absent")
        time.sleep(0.3)
        assert led.value == 0
    finally:
        player.close()


# -- state from the store ------------------------------------------------------------------------
def mark_services_ready(store: Store) -> None:
    for name in CORE_SERVICES:
        store.set_setting(f"service:{name}", {"state": "ready", "boot_id": boot_id(), "status": ""})


def test_panel_follows_the_store(factory: MockFactory, config: Config) -> None:
    config.ensure_folders()
    store = Store(config.db_path)
    store.ensure_event(config.event.slug, config.event.title)
    panel = gpio.StatusPanel(GpioConfig(status_led=STATUS_PIN, button=0, card_led=CARD_PIN),
                             gpio.StoreActions(config, mock=True))
    try:
        assert panel.refresh(config, store) == "starting"  # no service has said it is ready
        store.set_setting("service:sync", {"state": "ready", "boot_id": "an-earlier-boot"})
        assert panel.refresh(config, store) == "starting"  # readiness from an earlier boot
        mark_services_ready(store)
        assert panel.refresh(config, store) == "ready"
        assert panel.card_state == "absent"
        store.set_setting("card", {"present": True, "source": "/media/card"})
        panel.refresh(config, store)
        assert panel.card_state == "safe"
        store.set_setting("card", {"present": True, "keep": ["EOS_DIGITAL"]})  # files in trouble
        panel.refresh(config, store)
        assert panel.card_state == "keep"
        store.set_setting("card", {"present": True, "keep": []})
        panel.refresh(config, store)
        assert panel.card_state == "safe"

        import_id = store.start_import("/media/card")
        assert panel.refresh(config, store) == "importing"
        assert panel.card_state == "busy"
        store.update_import(import_id, state="done")

        event = store.current_event()
        store.enqueue("upload", event["id"], "events/x/photos/A.jpg", path="/nonexistent", size=10)
        assert panel.refresh(config, store) == "uploading"
        store.set_sync_state(online=0, last_error="offline: no route", last_error_at="2030-01-01T00:00:00Z")
        assert panel.refresh(config, store) == "offline"
        factory.pin(STATUS_PIN).clear_states()
        time.sleep(2.2 * period(SPEC["offline"]))
        assert_cycles(factory.pin(STATUS_PIN), SPEC["offline"])

        store.set_sync_state(online=1, last_error="403: Forbidden", last_error_at="2030-01-01T00:00:01Z")
        assert panel.refresh(config, store) == "error"
        store.set_sync_state(last_success_at="2030-01-01T00:00:02Z")  # credentials fixed
        assert panel.refresh(config, store) == "uploading"
    finally:
        panel.close()
        store.close()


def test_disk_full_and_missing_bucket_need_attention(config: Config) -> None:
    config.ensure_folders()
    store = Store(config.db_path)
    try:
        assert attention(config, store) == []
        full = attention(config, store, min_free=1 << 60)
        assert full and "disk nearly full" in full[0]
        store.set_sync_state(last_error="NoSuchBucket: The specified bucket does not exist",
                             last_error_at="2030-01-01T00:00:00Z")
        assert any("does not exist" in p for p in attention(config, store))
        status = {"queue": {"jobs": 0}, "publishing": 0, "importing": False, "online": True}
        assert gpio.panel_state(status, True, ["disk nearly full"]) == "error"
        assert gpio.panel_state(status, False, []) == "starting"
    finally:
        store.close()


# -- the button ----------------------------------------------------------------------------------
def press(factory: MockFactory, seconds: float, bounce: int = 3) -> None:
    """Press the button for ``seconds`` with contact bounce on press and on release."""
    pin = factory.pin(BUTTON_PIN)
    for _ in range(bounce):
        pin.drive_low()
        time.sleep(0.003)
        pin.drive_high()
        time.sleep(0.003)
    pin.drive_low()
    time.sleep(seconds)
    for _ in range(bounce):
        pin.drive_high()
        time.sleep(0.003)
        pin.drive_low()
        time.sleep(0.003)
    pin.drive_high()


@pytest.fixture
def buffered_config(config: Config, samples: Path, tmp_path: Path) -> Config:
    card = tmp_path / "sdcard" / "DCIM"
    card.mkdir(parents=True)
    for photo in sorted((samples / "gps").glob("*.jpg"))[:2]:
        shutil.copy(photo, card / photo.name)
    store = Store(config.db_path)
    store.ensure_event(config.event.slug, config.event.title)
    report = Importer(config, store).import_tree(card.parent)
    assert len(report.imported) == 2
    mark_services_ready(store)
    store.close()
    return config


def button_panel(config: Config) -> gpio.StatusPanel:
    return gpio.StatusPanel(
        GpioConfig(status_led=STATUS_PIN, button=BUTTON_PIN, hold_seconds=0.5, shutdown_seconds=1.1),
        gpio.StoreActions(config, mock=True))


def publications(config: Config) -> list[dict[str, Any]]:
    store = Store(config.db_path)
    try:
        return store.rows("SELECT * FROM publications ORDER BY id")
    finally:
        store.close()


def test_press_publishes_the_latest_photo_exactly_once(
        factory: MockFactory, buffered_config: Config) -> None:
    panel = button_panel(buffered_config)
    try:
        press(factory, 0.15)
        wait_for(lambda: panel.button.fired, 5, "the press", every=0.02)
        time.sleep(0.3)  # any late (bounce) action would show up here
        assert panel.button.fired == ["publish"]
        pubs = publications(buffered_config)
        assert len(pubs) == 1 and pubs[0]["state"] == "queued" and pubs[0]["recipe"] == (
            '{"exposure": 0.0, "rotate": 0, "straighten": 0.0, "scale": 1.0}')
        store = Store(buffered_config.db_path)
        assert pubs[0]["photo_id"] == store.latest_photo()["id"]
        store.close()
    finally:
        panel.close()


def test_a_glitch_shorter_than_the_debounce_does_nothing(
        factory: MockFactory, buffered_config: Config) -> None:
    panel = button_panel(buffered_config)
    try:
        pin = factory.pin(BUTTON_PIN)
        pin.drive_low()
        time.sleep(0.01)
        pin.drive_high()
        time.sleep(0.5)
        assert panel.button.fired == [] and publications(buffered_config) == []
    finally:
        panel.close()


def test_hold_undoes_the_last_button_publish_and_does_not_publish(
        factory: MockFactory, buffered_config: Config) -> None:
    panel = button_panel(buffered_config)
    try:
        press(factory, 0.15)
        wait_for(lambda: len(publications(buffered_config)) == 1, 5, "the publication", every=0.02)
        store = Store(buffered_config.db_path)
        assert Publisher(buffered_config, store).run_once()  # the publisher service renders it
        store.close()
        assert publications(buffered_config)[0]["state"] == "published"

        factory.pin(BUTTON_PIN).drive_low()
        time.sleep(0.75)  # past hold_seconds: the LED goes dark to say "release to undo"
        assert panel.players[0].showing == "hold"
        assert factory.pin(STATUS_PIN).state is False
        factory.pin(BUTTON_PIN).drive_high()
        wait_for(lambda: len(panel.button.fired) == 2, 5, "the undo", every=0.02)
        assert panel.button.fired == ["publish", "undo"]
        pubs = publications(buffered_config)
        assert len(pubs) == 1 and pubs[0]["state"] == "unpublished"
        # a second hold has nothing left to undo, and still publishes nothing
        press(factory, 0.75)
        wait_for(lambda: len(panel.button.fired) == 3, 5, "the second undo", every=0.02)
        assert panel.button.fired[-1] == "undo" and len(publications(buffered_config)) == 1
    finally:
        panel.close()


def test_long_hold_shuts_down_and_neither_publishes_nor_undoes(
        factory: MockFactory, buffered_config: Config) -> None:
    panel = button_panel(buffered_config)
    try:
        factory.pin(BUTTON_PIN).drive_low()
        time.sleep(0.8)
        assert panel.players[0].showing == "hold"
        time.sleep(0.6)  # past shutdown_seconds: the LED strobes
        assert panel.players[0].showing == "shutdown"
        factory.pin(BUTTON_PIN).drive_high()
        wait_for(lambda: panel.button.fired, 5, "the shutdown", every=0.02)
        time.sleep(0.2)
        assert panel.button.fired == ["shutdown"]
        assert publications(buffered_config) == []
    finally:
        panel.close()


def test_a_stuck_button_does_nothing(factory: MockFactory) -> None:
    fired: list[str] = []

    class Actions:
        def publish(self) -> bool:
            fired.append("publish")
            return True

        def undo(self) -> bool:
            fired.append("undo")
            return True

        def shutdown(self) -> bool:
            fired.append("shutdown")
            return True

    from gpiozero import Button

    controller = ButtonController(Button(BUTTON_PIN), Actions(), hold_s=0.2, shutdown_s=0.4,
                                       cancel_s=0.6)
    try:
        factory.pin(BUTTON_PIN).drive_low()
        time.sleep(0.8)
        factory.pin(BUTTON_PIN).drive_high()
        time.sleep(0.3)
        assert fired == [] and controller.fired == []
    finally:
        controller.close()


def test_gpio_config_is_checked() -> None:
    assert parse("[gpio]\nhold_seconds = 2\nshutdown_seconds = 8\n").gpio.hold_seconds == 2
    with pytest.raises(ConfigError, match="already used"):
        parse("[gpio]\nstatus_led = 17\ncard_led = 17\n")
    with pytest.raises(ConfigError, match="rgb"):
        parse("[gpio]\nrgb_red = 5\n")
    with pytest.raises(ConfigError, match="shutdown_seconds"):
        parse("[gpio]\nhold_seconds = 5\nshutdown_seconds = 4\n")
