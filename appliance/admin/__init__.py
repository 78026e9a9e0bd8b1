"""The Flask admin: app factory and blueprints (auth, pages, JSON API)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, g
from flask_wtf.csrf import CSRFProtect
from werkzeug.security import generate_password_hash

from ..config import Config, ConfigError
from ..store import Store

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


def _password_hash(config: Config) -> str:
    if config.admin.password_hash:
        return config.admin.password_hash
    if config.admin.password:
        return generate_password_hash(config.admin.password)
    raise ConfigError("admin.password: set admin.password or admin.password_hash to use the admin")


def create_app(config: Config) -> Flask:
    """Build the admin app for ``config``."""
    config.ensure_folders()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(config),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        APPLIANCE=config,
        PASSWORD_HASH=_password_hash(config),
    )
    csrf.init_app(app)

    from . import api, auth, pages

    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)

    @app.context_processor
    def _setup_problems() -> dict[str, list[str]]:
        """A bad appliance.toml on the boot partition is explained on every page, login included."""
        from ..firstboot import problems

        return {"setup_problems": problems(get_store())}

    @app.teardown_appcontext
    def _close_store(exc: BaseException | None) -> None:
        store = g.pop("store", None)
        if store is not None:
            store.close()

    return app


def get_store() -> Store:
    """The request's store connection (one per request; SQLite connections are per thread)."""
    from flask import current_app

    if "store" not in g:
        g.store = Store(current_app.config["APPLIANCE"].db_path)
    return g.store


def web_root() -> Path:
    return Path(__file__).parent
