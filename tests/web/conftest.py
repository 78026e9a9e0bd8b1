"""Fixtures of the gallery's browser tests: one Chromium per module, pages that fail the test on
console errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.browser import chromium
from support.gallery_pages import VIEWPORTS, Page


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = chromium(p)
        yield b
        b.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[[str], Page]]:
    contexts: list[Any] = []
    pages: list[Page] = []

    def make(kind: str) -> Page:
        ctx = browser.new_context(**VIEWPORTS[kind])
        contexts.append(ctx)
        page = Page(ctx.new_page(), kind)
        page.page.set_default_timeout(10_000)
        pages.append(page)
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    for p in pages:
        assert not p.errors, f"browser errors on {p.kind}: {p.errors}"
