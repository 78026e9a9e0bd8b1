"""The publish button: a debounced pin turned into press / hold / long-hold actions, chosen on release.

What each action does is :class:`ButtonActions`' business (the store's, in :mod:`.gpio`); the
timings and the LED feedback are documented in :mod:`.gpio`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Feedback(StrEnum):
    """What a held button shows over the status LED (ACK: flashed once the action is done)."""

    HOLD = "hold"
    SHUTDOWN = "shutdown"
    CANCELLED = "cancelled"  # held too long (a stuck button?): no feedback, no action
    ACK = "ack"


class ButtonActions(Protocol):
    def publish(self) -> bool: ...
    def undo(self) -> bool: ...
    def shutdown(self) -> bool: ...


class ButtonController:
    """Turns a debounced button into press / hold / long-hold actions, decided on release."""

    def __init__(self, button: Any, actions: ButtonActions, hold_s: float = 3.0,
                 shutdown_s: float = 10.0, cancel_s: float = 30.0, debounce_s: float = 0.05,
                 feedback: Callable[[str | None], None] = lambda stage: None,
                 done: Callable[[str, bool], None] = lambda action, ok: None) -> None:
        self.button = button
        self.actions = actions
        self.hold_s, self.shutdown_s, self.cancel_s = hold_s, shutdown_s, cancel_s
        self.debounce_s = debounce_s
        self.feedback = feedback
        self.done = done
        self.fired: list[str] = []  # every action run, in order (for logs and tests)
        self._edge = threading.Event()
        self._closed = False
        button.when_pressed = self._on_edge
        button.when_released = self._on_edge
        self._thread = threading.Thread(target=self._run, name="button", daemon=True)
        self._thread.start()

    def _on_edge(self) -> None:
        self._edge.set()

    def _stage(self, held: float) -> str | None:
        if held >= self.cancel_s:
            return Feedback.CANCELLED
        if held >= self.shutdown_s:
            return Feedback.SHUTDOWN
        if held >= self.hold_s:
            return Feedback.HOLD
        return None

    def _run(self) -> None:
        pressed_at: float | None = None
        stage: str | None = None
        while not self._closed:
            timeout = None
            if pressed_at is not None:
                held = time.monotonic() - pressed_at
                upcoming = [t - held for t in (self.hold_s, self.shutdown_s, self.cancel_s) if t > held]
                timeout = max(0.01, min(upcoming)) if upcoming else None
            if self._edge.wait(timeout):
                if self._closed:
                    return
                edge_at = time.monotonic()
                self._edge.clear()
                while self._edge.wait(self.debounce_s):  # settle: no edge for debounce_s
                    self._edge.clear()
                pressed = bool(self.button.is_pressed)
                if pressed and pressed_at is None:
                    pressed_at, stage = edge_at, None
                elif not pressed and pressed_at is not None:
                    held = edge_at - pressed_at
                    pressed_at = None
                    if stage is not None:
                        self.feedback(None)
                    self._act(held)
                    continue
            if pressed_at is not None:
                new_stage = self._stage(time.monotonic() - pressed_at)
                if new_stage != stage:
                    stage = new_stage
                    self.feedback(None if stage == Feedback.CANCELLED else stage)

    def _act(self, held: float) -> None:
        if held >= self.cancel_s:
            log.info("button held %.1f s: ignored (stuck button?)", held)
            return
        if held >= self.shutdown_s:
            action, run = "shutdown", self.actions.shutdown
        elif held >= self.hold_s:
            action, run = "undo", self.actions.undo
        else:
            action, run = "publish", self.actions.publish
        log.info("button %s (held %.2f s)", action, held)
        try:
            ok = bool(run())
        except Exception:  # a failed action must not kill the button thread
            log.exception("button action %s failed", action)
            ok = False
        self.fired.append(action)  # once it has run: whoever reads this sees its effect
        self.done(action, ok)

    def close(self) -> None:
        self._closed = True
        self._edge.set()
        self._thread.join(timeout=2)
