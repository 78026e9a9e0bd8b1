"""The Flask admin: app factory and blueprints (auth, pages, JSON API, settings, preview, metrics)."""

from __future__ import annotations

import os
import secrets
import threading
from datetime import timedelta

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.security import generate_password_hash

from ..config import Config, ConfigError
from ..store import Store
from . import assets

csrf = CSRFProtect()


def _secret_key(config: Config) -> str:
    """The session signing key: from config, else generated once into state/ (mode 0600)."""
    if config.admin.secret_key:
        return config.admin.secret_key
    path = config.folder("state") / "flask-secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def password_hash(config: Config) -> str:
    if config.admin.password_hash:
        return config.admin.password_hash
    if config.admin.password:
        return generate_password_hash(config.admin.password)
    raise ConfigError("admin.password: set admin.password or admin.password_hash to use the admin")


def create_app(config: Config) -> Flask:
    """Build the admin app for ``config``."""
    config.ensure_folders()
    store = Store(config.db_path)  # applies migrations once, before any request
    try:
        store.ensure_event(config.event.slug, config.event.title, config.event.subtitle)
        from .owner import seed_owner

        seed_owner(config, store)  # the first owner, from admin.password
    finally:
        store.close()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(config),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="admin_session",
        PERMANENT_SESSION_LIFETIME=timedelta(days=7),
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,  # plain http on the box's own Wi-Fi
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=timedelta(days=365),  # static URLs carry a content hash
        APPLIANCE=config,
        PASSWORD_HASH=password_hash(config),
    )
    app.extensions["appliance_stores"] = threading.local()
    csrf.init_app(app)  # before the role check: a forged request is refused first
    assets.register(app)

    @app.context_processor
    def _setup_problems() -> dict[str, list[str]]:
        """A bad appliance.toml on the boot partition is explained on every page, login included."""
        from ..device.firstboot import problems

        return {"setup_problems": problems(get_store())}

    _register_views(app)
    return app


def _register_views(app: Flask) -> None:
    """Error handlers, the role and audit hooks, and every blueprint."""
    from . import (
        accounts,
        api,
        audit_log,
        auth,
        autopublish_api,
        cameras,
        culling_api,
        errors,
        events,
        faces_api,
        gallery_access_api,
        housekeeping,
        metrics,
        pages,
        preview,
        publish_api,
        roles,
        settings,
        sync_history,
        team_api,
        upload,
        watermark_api,
    )

    errors.register(app)
    roles.register(app)  # every endpoint's role, from one table (default: the owner's alone)
    audit_log.register(app)  # every change, who made it, which photos
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(preview.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(watermark_api.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(housekeeping.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(publish_api.bp)
    app.register_blueprint(upload.bp)  # card ingest: upload from the phone
    app.register_blueprint(cameras.bp)  # FTP accounts of the cameras
    app.register_blueprint(autopublish_api.bp)  # auto-publish rules and grace-window countdowns
    app.register_blueprint(sync_history.bp)  # the status panel's sync chart and uplink state
    app.register_blueprint(culling_api.bp)  # ratings, flags, batch actions, drafts
    app.register_blueprint(gallery_access_api.bp)  # the gallery password
    app.register_blueprint(accounts.bp)  # users, invites, sessions, the audit log
    app.register_blueprint(faces_api.bp)  # "Find my photos": the event's switch and consent text
    app.register_blueprint(team_api.bp)  # several appliances in one event: join codes, own photos


def get_store() -> Store:
    """This thread's store connection (SQLite connections are per thread; reused across requests)."""
    local = current_app.extensions["appliance_stores"]
    store = getattr(local, "store", None)
    if store is None:
        store = local.store = Store(current_app.config["APPLIANCE"].db_path)
    return store


def get_config() -> Config:
    return current_app.config["APPLIANCE"]


def client_id() -> str:
    """Who is asking, for the login rate limit (the admin is served directly, no proxy)."""
    return request.remote_addr or "unknown"

