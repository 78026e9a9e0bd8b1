"""A browser test's console must stay silent: every console error or warning and every uncaught
page error is collected, and the test fails on the first one.

Use the ``console_guard`` fixture: ``console_guard(page)`` starts watching a page; after the test
(and whenever ``.check()`` is called) the watched pages must have said nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

LOUD = ("error", "warning")  # Playwright's console message types that fail a test ("warning", not "warn")


class ConsoleGuard:
    """What the watched pages said: ``problems`` lists "<page url> <type>: <text> (<source>)"."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.expected: list[str] = []

    def allow(self, text: str) -> None:
        """A test that makes a request fail on purpose expects Chromium's line about it."""
        self.expected.append(text)

    def watch(self, page: Any) -> Any:
        def on_console(msg: Any) -> None:
            if msg.type in LOUD:
                where = msg.location or {}
                source = f"{where.get('url', '')}:{where.get('lineNumber', '')}"
                self.problems.append(f"{page.url} console.{msg.type}: {msg.text} ({source})")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"{page.url} uncaught: {exc}"))
        return page

    __call__ = watch

    def check(self) -> None:
        """Fail with everything the pages said so far."""
        loud = [p for p in self.problems if not any(text in p for text in self.expected)]
        assert not loud, "the browser console was not silent:\n" + "\n".join(loud)


@pytest.fixture
def console_guard() -> Iterator[Callable[[Any], Any]]:
    """``console_guard(page)`` watches a page; the test fails if any watched page logged an error
    or warning or threw."""
    guard = ConsoleGuard()
    yield guard
    guard.check()
