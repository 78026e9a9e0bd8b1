"""The first owner, made from appliance.toml's ``admin.password`` (or ``admin.password_hash``).

At the first start the store has no user: the configured password becomes the account
:data:`OWNER_NAME`, role owner. Later starts compare the configured password with the one the
owner was made from (kept argon2-hashed in the setting :data:`SEED_SETTING`): if someone changed it
in appliance.toml, the owner's password is reset to it and the owner's sessions are revoked (the
way back in for an owner who forgot the password changed in the admin).
"""

from __future__ import annotations

import logging

from ..config import Config
from ..store import Store
from .passwords import HASHER, hash_password, verify_password

log = logging.getLogger(__name__)

OWNER_NAME = "owner"
SEED_SETTING = "accounts:owner_seed"


def _configured(config: Config) -> tuple[str, str]:
    """The configured secret (what the seed is compared with) and the owner's password hash for it."""
    if config.admin.password_hash:
        return config.admin.password_hash, config.admin.password_hash
    return config.admin.password, hash_password(config.admin.password)


def seed_owner(config: Config, store: Store) -> str | None:
    """Make the owner, or reset the owner's password to a changed configured one; returns what was done."""
    if not (config.admin.password_hash or config.admin.password):
        return None  # create_app refused to start already
    seed = store.get_setting(SEED_SETTING)
    if store.user_count() == 0:
        secret, owner_hash = _configured(config)
        store.seed_owner(OWNER_NAME, owner_hash)
        # a plain password's argon2 hash is its seed too (one hash, not two, at the first start)
        seed_hash = owner_hash if owner_hash.startswith("$argon2") else HASHER.hash(secret)
        store.set_setting(SEED_SETTING, seed_hash)
        return "made"
    secret = config.admin.password_hash or config.admin.password
    if seed is None:  # another worker made the owner a moment ago and is about to record the seed
        return None
    if isinstance(seed, str) and verify_password(seed, secret):
        return None
    owner = store.first_owner()
    if owner is None:
        return None
    _, owner_hash = _configured(config)
    store.set_user_password(owner["id"], owner_hash)
    store.set_setting(SEED_SETTING, HASHER.hash(secret))
    store.audit(user_id=owner["id"], user_name=owner["name"], role="owner",
                action="owner password reset from appliance.toml")
    log.warning("admin: the owner's password was reset to admin.password of appliance.toml")
    return "reset"
