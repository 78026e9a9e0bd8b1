"""The appliance's local gallery server (appliance/dev/gallery_server.py, `make demo`) serves the
slideshow and the vendored libraries like Cloudflare Pages does: /slideshow is slideshow.html."""

from __future__ import annotations

import pytest

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


def test_the_face_index_is_served_like_the_function_serves_it(config, s3, bucket):  # noqa: ANN001
    data = b"FIDX\x01\x01\x80\x00" + bytes(12)
    s3.put_object(Bucket=bucket, Key="events/demo/faces.bin", Body=data,
                  ContentType="application/octet-stream", CacheControl="public, max-age=2")
    client = create_app(config, s3).test_client()
    res = client.get("/photo/demo/faces.bin?v=3")
    assert res.status_code == 200 and res.data == data
    assert res.headers["Cache-Control"] == "public, max-age=2"
    assert client.get("/photo/demo/faces.bin.gz").status_code == 404


def test_the_staged_face_model_is_served_with_the_wasm_type(config, s3):  # noqa: ANN001
    """`make demo`: the model (staged from node_modules by functions/_tools/face-model.mjs)."""
    from support import face_gallery as fg

    if fg.unavailable():
        pytest.skip(str(fg.unavailable()))
    model = fg.stage_model()
    client = create_app(config, s3).test_client()
    wasm = client.get(f"/face-api/{model.name}/tfjs-backend-wasm-simd.wasm")
    assert wasm.status_code == 200 and wasm.content_type == "application/wasm"
    assert wasm.data == (model / "tfjs-backend-wasm-simd.wasm").read_bytes()
