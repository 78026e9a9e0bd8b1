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


def test_face_index_and_staged_face_model(config, s3):  # noqa: ANN001
    """`make demo`: Find my photos works locally — faces.bin from the bucket, the model (staged from
    node_modules by functions/_tools/face-model.mjs) with WASM's MIME type."""
    from support import face_gallery as fg

    prefix = config.bucket.prefix.strip("/")
    key = f"{prefix}/demo/faces.bin" if prefix else "demo/faces.bin"
    s3.put_object(Bucket=config.bucket.bucket, Key=key, Body=b"FIDX-test",
                  ContentType="application/octet-stream")
    client = create_app(config, s3).test_client()
    res = client.get("/photo/demo/faces.bin?v=3")
    assert res.status_code == 200 and res.data == b"FIDX-test"
    assert client.get("/photo/demo/faces.bin.jpg").status_code == 404
    if fg.unavailable():
        return
    model = fg.stage_model()
    wasm = client.get(f"/face-api/{model.name}/tfjs-backend-wasm-simd.wasm")
    assert wasm.status_code == 200 and wasm.content_type == "application/wasm"
    assert wasm.data == (model / "tfjs-backend-wasm-simd.wasm").read_bytes()
