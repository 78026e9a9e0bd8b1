"""The appliance's local gallery server (appliance/dev/gallery_server.py, `make demo`) serves the
slideshow and the vendored libraries like Cloudflare Pages does: /slideshow is slideshow.html."""

from __future__ import annotations

from appliance.dev.gallery_server import create_app


def test_slideshow_pretty_url_and_vendored_modules(config, s3):  # noqa: ANN001
    client = create_app(config, s3).test_client()
    page = client.get("/slideshow?event=demo")
    assert page.status_code == 200
    assert b'<script type="module" src="js/slideshow.js">' in page.data
    assert client.get("/slideshow.html").data == page.data
    for path in ("/vendor/qrcode-generator/qrcode.mjs", "/vendor/client-zip/index.js", "/js/slideshow.js"):
        res = client.get(path)
        assert res.status_code == 200, path
        assert "javascript" in res.content_type, (path, res.content_type)
    assert client.get("/nothing-here").status_code == 404
