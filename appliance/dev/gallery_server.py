"""A local stand-in for the Cloudflare Pages site: web/ at /, /photo/<event>/... from the bucket.

A gallery with a password asks for it as on Cloudflare (:mod:`appliance.dev.access_gate`).
An event with manifest shards (several appliances) gets them bundled, as the Pages Function does.

Same URLs and the same key rules as functions/photo/[[path]].js, so `make demo` and the tests see
the gallery exactly as guests will. ``/config.js`` is made from the appliance's config: push on when
``[live]`` names a running live channel (the demo runs one in workerd), polling only otherwise.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from botocore.exceptions import ClientError
from flask import Flask, Response, abort, redirect, request, send_from_directory

from ..config import Config
from ..sync import bucket
from . import access_gate, assets

# The event and photo names functions/_lib/photo.js accepts (EVENT_RE, NAME_RE), and its files.
EVENT = r"[a-z0-9][a-z0-9-]{0,62}"
NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,120}"
SHARD_RE = re.compile(r"^[a-z2-7]{8}\.json$")
KEY_RE = re.compile(rf"^(?P<event>{EVENT})/(?P<rest>manifest\.json|faces\.bin|faces/[a-z2-7]{{8}}\.bin"
                    rf"|(?:photos|thumbs)/{NAME}\.(?:jpg|webp)|originals/{NAME}\.jpg)$")


def shard_bundle(s3: Any, bucket_name: str, manifest_key: str) -> Response | None:
    """Several appliances' manifest shards bundled as functions/_lib/shards.js does (None: the
    event has none; its manifest.json is served)."""
    folder = manifest_key[: -len("manifest.json")] + "manifests/"
    listing = sorted((o for o in bucket.list_objects(s3, bucket_name, folder)
                      if SHARD_RE.match(o["key"][len(folder):])), key=lambda o: o["key"])
    if not listing:
        return None
    text = "\n".join(f"{o['key']} {o['etag']}" for o in listing)
    etag = f'W/"s-{hashlib.sha256(text.encode()).hexdigest()[:24]}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=2",
               "Content-Type": "application/json; charset=utf-8"}
    if etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    shards = []
    for obj in listing:
        try:
            body = s3.get_object(Bucket=bucket_name, Key=obj["key"])["Body"].read().decode()
            if isinstance(json.loads(body).get("photos"), list):
                shards.append(body)
        except (ClientError, ValueError, AttributeError):
            continue  # gone since the listing, or broken: left out, not the event
    text = shards[0] if len(shards) == 1 else '{"version":2,"shards":[' + ",".join(shards) + "]}"
    return Response(text, headers=headers)  # one shard: a manifest as before (older pages read it)


def create_app(config: Config, client: Any = None) -> Flask:
    app = Flask(__name__, static_folder=None)
    web = assets.web_dir()
    s3 = client or bucket.client(config.bucket)
    prefix = config.bucket.prefix.strip("/")
    gate = access_gate.AccessGate(access_gate.bucket_reader(s3, config.bucket.bucket, prefix))
    access_gate.register(app, gate, EVENT)

    @app.get("/")
    def index() -> Any:
        return send_from_directory(web, "index.html", max_age=0)

    @app.get("/photo/<path:rest>")
    def photo(rest: str) -> Any:
        match = KEY_RE.match(rest)
        if ".." in rest or not match:
            abort(404)
        allowed = gate.allowed(match["event"])
        if allowed is False:
            return access_gate.locked()
        key = f"{prefix}/{rest}" if prefix else rest
        if rest.endswith("/manifest.json"):
            bundled = shard_bundle(s3, config.bucket.bucket, key)
            if bundled is not None:
                return bundled
        args: dict[str, Any] = {"Bucket": config.bucket.bucket, "Key": key}
        if request.headers.get("If-None-Match"):
            args["IfNoneMatch"] = request.headers["If-None-Match"]
        try:
            obj = s3.get_object(**args)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 502)
            code = exc.response.get("Error", {}).get("Code", "")
            if status == 304 or code == "304":
                return Response(status=304, headers={"ETag": request.headers["If-None-Match"]})
            abort(404 if status in (403, 404) else 502)
        headers = {
            "ETag": obj["ETag"],
            "Cache-Control": obj.get("CacheControl") or "no-cache",
            "Content-Type": obj.get("ContentType") or "application/octet-stream",
        }
        if allowed:  # a private gallery's answers stay out of shared caches
            headers["Cache-Control"] = headers["Cache-Control"].replace("public", "private")
        return Response(obj["Body"].read(), headers=headers)

    @app.get("/p/<event>/<name>")
    def share(event: str, name: str) -> Any:
        """A photo's share URL: on Cloudflare a preview page (functions/_lib/share.js); here
        (no messenger reads it) straight on to the lightbox."""
        if not re.fullmatch(EVENT, event) or not re.fullmatch(NAME, name):
            abort(404)
        if gate.allowed(event) is False:  # a private gallery: on to the gallery, which asks for it
            return redirect(f"/?event={event}", 302)
        return redirect(f"/?event={event}#photo={name}", 302)

    @app.get("/config.js")
    def config_js() -> Any:
        live = config.live.url.rstrip("/")
        cfg = {"photoBase": "/photo", "defaultEvent": None, "pollSeconds": 10,
               "push": bool(live and config.live.secret), "liveBase": f"{live}/live" if live else "/live",
               "pushSafetySeconds": 600}
        body = f"window.GALLERY_CONFIG = {json.dumps(cfg)};\n"
        return Response(body, headers={"Content-Type": "text/javascript; charset=utf-8",
                                       "Cache-Control": "no-cache"})

    @app.get("/<path:name>")
    def static_file(name: str) -> Any:
        if "." not in name.rsplit("/", 1)[-1] and (web / f"{name}.html").is_file():
            name += ".html"  # Pages' pretty URLs: /slideshow serves slideshow.html
        return send_from_directory(web, name, max_age=0)

    return app
