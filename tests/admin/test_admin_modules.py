"""The admin's ES modules are fetched by their content-hash URLs (they are cached for a year).

admin.js and static/js/*.js import each other by relative URL; the import map in index.html sends
each such URL to the file's ?v=<hash> URL. Checked on the rendered page (Flask test client) and in
Debian's Chromium with the page's real Content-Security-Policy (the import map is inline, allowed
by its hash): every request for a static file carries the hash of the file as it is on disk.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from test_admin_browser import CHROMIUM, CHROMIUM_ARGS, PHONES, login, photos, server  # noqa: F401 (fixtures)

from appliance.admin import create_app
from appliance.config import Config

STATIC = Path(__file__).resolve().parents[2] / "appliance" / "admin" / "static"
MODULES = sorted(STATIC.glob("js/*.js"))
ENTRY = STATIC / "admin.js"
# Static imports and re-exports: `import x, { y as z } from "s"`, `import "s"`, `export { a } from "s"`.
IMPORT = re.compile(r"""^\s*(?:import\s*(?:[\w$*{}\s,]+?\s*from\s*)?"""
                    r"""|export\s*(?:\*(?:\s*as\s+[\w$]+)?|\{[^}]*\})\s*from\s*)(["'])(.+?)\1""", re.M)


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def static_url(path: Path) -> str:
    return "/static/" + path.relative_to(STATIC).as_posix()


def specifiers(path: Path) -> list[str]:
    return [spec for _, spec in IMPORT.findall(path.read_text())]


@pytest.fixture
def page(config: Config) -> tuple[Any, str]:
    app = create_app(config)
    app.config["TESTING"] = True
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    assert client.post("/login", data={"password": "correct horse", "csrf_token": token}).status_code == 302
    res = client.get("/")
    assert res.status_code == 200
    return client, res


def import_map(html: str) -> tuple[str, dict[str, str]]:
    found = re.findall(r'<script type="importmap">(.*?)</script>', html, re.S)
    assert len(found) == 1, "the admin page needs exactly one import map"
    return found[0], json.loads(found[0])["imports"]


def test_import_map_sends_every_module_to_its_hashed_url(page):
    client, res = page
    text, imports = import_map(res.get_data(as_text=True))
    assert MODULES, "no modules in static/js"
    assert set(imports) == {static_url(m) for m in MODULES}
    for module in MODULES:
        assert imports[static_url(module)] == f"{static_url(module)}?v={file_hash(module)}", module.name
    # Inline, so the policy must allow exactly this text by its hash (and still nothing else inline).
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    csp = res.headers["Content-Security-Policy"]
    assert f"script-src 'self' 'sha256-{digest}';" in csp
    assert "unsafe-inline" not in csp and "nonce-" not in csp


def test_every_import_resolves_into_the_import_map(page):
    _, res = page
    _, imports = import_map(res.get_data(as_text=True))
    base = "http://box"
    seen = set()
    for path in [ENTRY, *MODULES]:
        text = path.read_text()
        assert not re.search(r"\bimport\s*\(", text), f"{path.name}: dynamic import() is not checked here"
        statements = re.findall(r"^\s*import\b|^\s*export\b[^;]*\bfrom\s*[\"']", text, re.M)
        assert len(statements) == len(specifiers(path)), f"{path.name}: an import this test cannot read"
        for spec in specifiers(path):
            assert spec.startswith(("./", "../")), f"{path.name}: {spec!r} is not a relative import"
            resolved = urlsplit(urljoin(base + static_url(path) + "?v=x", spec)).path
            assert resolved in imports, f"{path.name}: {spec!r} -> {resolved} is not in the import map"
            seen.add(resolved)
    # Every module is used (reached by some import), and the scan above did find imports.
    assert seen == set(imports)


def test_the_page_requests_hashed_urls_only(page):
    client, res = page
    html = res.get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert f"/static/admin.js?v={file_hash(ENTRY)}" in urls
    assert re.search(r'<script type="module" src="/static/admin\.js\?v=', html)
    assert html.index('type="importmap"') < html.index('rel="modulepreload"') < html.index('type="module"')
    for url in urls:
        parts = urlsplit(url)
        path = STATIC / parts.path.removeprefix("/static/")
        assert parse_qs(parts.query).get("v") == [file_hash(path)], url
    for module in MODULES:  # served as JavaScript (module scripts need it; nosniff is on)
        served = client.get(f"{static_url(module)}?v={file_hash(module)}")
        assert served.status_code == 200 and served.mimetype == "text/javascript", module.name
        assert served.get_data() == module.read_bytes()


def test_hashes_follow_file_content(tmp_path: Path):
    from appliance.admin.assets import asset_versions

    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "a.js").write_text("export const a = 1;\n")
    (tmp_path / "top.css").write_text("a{}")
    first = asset_versions(tmp_path)
    assert set(first) == {"js/a.js", "top.css"}
    (tmp_path / "js" / "a.js").write_text("export const a = 2;\n")
    assert asset_versions(tmp_path)["js/a.js"] != first["js/a.js"]


@pytest.mark.browser
def test_modules_load_under_the_real_policy(server):  # noqa: F811 (the fixture)
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(**PHONES["iphone"])  # no bypass_csp: the page's own policy
        tab = context.new_page()
        problems: list[str] = []
        tab.on("console", lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None)
        tab.on("pageerror", lambda exc: problems.append(str(exc)))
        tab.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))
        requested: list[str] = []
        tab.on("request", lambda req: requested.append(req.url) if "/static/" in req.url else None)
        login(tab, server)
        tab.wait_for_selector("#grid .tile img")
        tab.wait_for_selector("#status.online, #status.busy, #status.unknown, #status.offline")
        tab.wait_for_load_state("networkidle")
        # The modules ran: the tab bar switches views, the live feed loads.
        tab.locator(".tabbar a[data-tab=live]").tap()
        tab.wait_for_selector("#view-live:not([hidden]) #live-list .empty")
        browser.close()
    assert not problems, problems
    fetched = {}
    for url in requested:
        parts = urlsplit(url)
        fetched[parts.path] = parse_qs(parts.query).get("v")
    for path in [ENTRY, *MODULES]:
        assert fetched.get(static_url(path)) == [file_hash(path)], f"{path.name}: {fetched}"
    for url_path, v in fetched.items():
        assert v == [file_hash(STATIC / url_path.removeprefix("/static/"))], url_path
