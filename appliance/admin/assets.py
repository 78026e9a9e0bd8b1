"""The admin's static assets and response headers: content-hashed URLs, the ES modules' import map,
and a Content-Security-Policy that allows nothing from outside the box."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from flask import Flask, g, url_for
from markupsafe import Markup

# Every asset is served by the box itself: no CDN, no outside fonts (there is no internet on its Wi-Fi).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)

# The admin's ES modules (static/js/*.js), imported by admin.js and each other with relative URLs.
MODULES = "js/"


def asset_versions(static: Path) -> dict[str, str]:
    """Content hashes of the static files, js/ included: URLs carry them, so browsers may cache for a year."""
    return {
        p.relative_to(static).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()[:10]
        for p in sorted(static.rglob("*"))
        if p.is_file()
    }


def with_script_hashes(csp: str, hashes: list[str]) -> str:
    """The policy allowing these inline scripts (the import map) by their hash, still nothing else inline."""
    return csp.replace("script-src 'self'", " ".join(["script-src 'self'", *hashes]), 1)


def register(app: Flask) -> None:
    """Give templates ``asset``, ``module_urls`` and ``import_map``; set the security headers."""
    versions = asset_versions(Path(app.static_folder or ""))
    modules = [name for name in versions if name.startswith(MODULES) and name.endswith(".js")]

    def asset(name: str) -> str:
        return url_for("static", filename=name, v=versions.get(name, "0"))

    def module_urls() -> list[str]:
        """Every module's hashed URL, for <link rel="modulepreload">."""
        return [asset(name) for name in modules]

    def import_map() -> Markup:
        """The import map: a module's plain URL (what a relative import resolves to) -> its hashed URL.

        Without it, `import "./dom.js"` would fetch /static/js/dom.js with no hash, cached for a
        year after an update. It is inline, so its hash joins this response's script-src.
        """
        imports = {url_for("static", filename=name): asset(name) for name in modules}
        text = json.dumps({"imports": imports}, indent=1).replace("<", "\\u003c")
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        g.setdefault("script_hashes", []).append(f"'sha256-{digest}'")
        return Markup(text)

    @app.context_processor
    def _assets() -> dict[str, Any]:
        return {"asset": asset, "import_map": import_map, "module_urls": module_urls}

    @app.after_request
    def _headers(response: Any) -> Any:
        csp = with_script_hashes(CONTENT_SECURITY_POLICY, g.get("script_hashes", []))
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype in ("application/json", "text/html") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
