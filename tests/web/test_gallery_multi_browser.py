"""Chromium shows one gallery for an event fed by three appliances: their shards (written by the
real publisher and syncer into moto) bundled by the local gallery server, merged by the page in
capture order with each appliance's clock offset, each photo credited to its photographer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.gallery_pages import Page
from support.team import LocalAppliance
from support.wsgi import serving_app

from appliance.dev.gallery_server import create_app
from appliance.publish import credits
from appliance.store.shards import camera_label
from appliance.sync import team as team_mod

PASS = "correct horse battery"


@pytest.fixture
def three(tmp_path: Path, moto_url: str, bucket: str, samples: Path) -> Iterator[list[LocalAppliance]]:
    apps = [LocalAppliance(tmp_path / n, moto_url, bucket, samples) for n in "abc"]
    code = team_mod.share(apps[0].config, apps[0].store, apps[0].store.current_event(), PASS)
    for app, who in zip(apps, ("Ann", "Ben", "Cleo"), strict=True):
        credits.save(app.store, {"artist": f"{who} Example"})
        if app is not apps[0]:
            team_mod.join(app.config, app.store, code, PASS)
    yield apps
    for app in apps:
        app.close()


@pytest.fixture
def gallery(three: list[LocalAppliance], s3) -> Iterator[str]:  # noqa: ANN001
    with serving_app(create_app(three[0].config, s3)) as base:
        yield base


def tile_names(p: Page) -> list[str]:
    return p.page.evaluate("() => window.gallery.state.list.map((e) => e.name)")


@pytest.mark.browser
def test_three_appliances_one_merged_gallery(three, gallery, open_page) -> None:
    a, b, c = three
    a.publish(["DSCN0010.jpg", "DSCN0012.jpg"])  # the same camera files on A and B
    b.publish(["DSCN0010.jpg", "DSCN0012.jpg"])
    c.publish(["DSCN0021.jpg"])
    for app in three:
        app.sync()
    p = open_page("phone")
    p.page.goto(gallery + "/?event=wedding")
    p.page.wait_for_selector("html[data-state='ready']")
    p.page.wait_for_function("() => window.gallery.state.list.length === 5")
    names = tile_names(p)
    assert len(set(names)) == 5
    # Capture order, newest first; A's and B's copies of one file (same capture time) side by side.
    taken = p.page.evaluate("() => window.gallery.state.list.map((e) => e.taken)")
    assert taken == sorted(taken, reverse=True)
    for stem in ("DSCN0010", "DSCN0012"):  # next to each other (which first: the clocks decide)
        assert abs(names.index(f"{a.id}.{stem}") - names.index(f"{b.id}.{stem}")) == 1
    assert p.page.locator("[data-testid='tile']").count() == 5
    p.shot("multi-gallery")

    # B's cameras' clocks are an hour slow (set in B's admin): its photos move to the top.
    for photo in b.store.rows("SELECT DISTINCT camera_make, camera_model FROM photos"):
        b.store.set_camera_offset(camera_label(photo["camera_make"], photo["camera_model"]), -3600)
    b.store.enqueue_manifest(b.store.current_event()["id"], "events/wedding/manifests/x.json")
    b.sync()
    p.page.reload()
    p.page.wait_for_function("() => window.gallery.state.list.length === 5")
    names = tile_names(p)
    assert set(names[:2]) == {f"{b.id}.DSCN0010", f"{b.id}.DSCN0012"}

    # A photo published on C arrives in the open page; each photo names its photographer.
    c.publish(["DSCN0025.jpg"])
    c.sync()
    p.page.evaluate("() => window.gallery.poll()")
    p.page.wait_for_function("(n) => window.gallery.state.list.some((e) => e.name === n)",
                             arg=f"{c.id}.DSCN0025")
    p.page.locator(f"[data-name='{a.id}.DSCN0010']").click()
    p.page.wait_for_selector("#lightbox:not([hidden])")
    assert "Photo: Ann Example" in p.page.locator("#lb-caption").inner_text()
    p.shot("multi-lightbox")
