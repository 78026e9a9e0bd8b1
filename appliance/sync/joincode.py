"""Join codes: how a second appliance joins an event (bucket settings and event, encrypted).

The owner's appliance makes a code (shown as text and as a QR in the admin) from its bucket
settings and the event; the other appliance opens it with a passphrase typed there (never in the
code or QR): scrypt (n=2^15, r=8, p=1) makes an AES-256-GCM key from the passphrase and a random
salt; the code is ``J1.`` + base64url(salt | nonce | ciphertext). A wrong passphrase or a changed
character fails the GCM tag check: a clear error, nothing applied.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ..config import BucketConfig

PREFIX = "J1."
SALT, NONCE = 16, 12
MIN_PASSPHRASE = 8
BUCKET_FIELDS = ("endpoint_url", "account_id", "bucket", "region", "prefix", "key_id", "secret")


class JoinCodeError(ValueError):
    """Not a join code, or not this passphrase."""


@dataclass(frozen=True)
class Offer:
    """What a join code carries."""

    bucket: dict[str, str]
    slug: str
    title: str
    subtitle: str = ""
    gallery_url: str = ""


def _key(passphrase: str, salt: bytes) -> bytes:
    if len(passphrase) < MIN_PASSPHRASE:
        raise JoinCodeError(f"the passphrase needs at least {MIN_PASSPHRASE} characters")
    return Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(passphrase.encode())


def bucket_fields(cfg: BucketConfig) -> dict[str, str]:
    return {name: str(getattr(cfg, name) or "") for name in BUCKET_FIELDS}


def make(offer: Offer, passphrase: str) -> str:
    salt, nonce = os.urandom(SALT), os.urandom(NONCE)
    plain = json.dumps({"v": 1, "bucket": offer.bucket, "event": {
        "slug": offer.slug, "title": offer.title, "subtitle": offer.subtitle},
        "gallery_url": offer.gallery_url}, separators=(",", ":")).encode()
    sealed = AESGCM(_key(passphrase, salt)).encrypt(nonce, plain, PREFIX.encode())
    return PREFIX + base64.urlsafe_b64encode(salt + nonce + sealed).decode().rstrip("=")


def open_code(code: str, passphrase: str) -> Offer:
    """The offer in ``code``; :class:`JoinCodeError` when it is not one or the passphrase is wrong."""
    text = "".join(code.split())
    if not text.startswith(PREFIX):
        raise JoinCodeError("not a join code (it starts with J1.)")
    try:
        raw = base64.urlsafe_b64decode(text[len(PREFIX):] + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise JoinCodeError("the join code is damaged (not base64)") from None
    if len(raw) < SALT + NONCE + 16:
        raise JoinCodeError("the join code is too short (cut off?)")
    salt, nonce, sealed = raw[:SALT], raw[SALT:SALT + NONCE], raw[SALT + NONCE:]
    try:
        plain = AESGCM(_key(passphrase, salt)).decrypt(nonce, sealed, PREFIX.encode())
    except InvalidTag:
        raise JoinCodeError("wrong passphrase, or the code was changed") from None
    data: Any = json.loads(plain)
    event = data.get("event") or {}
    return Offer(bucket={k: str(v) for k, v in (data.get("bucket") or {}).items() if k in BUCKET_FIELDS},
                 slug=str(event.get("slug", "")), title=str(event.get("title", "")),
                 subtitle=str(event.get("subtitle", "")), gallery_url=str(data.get("gallery_url", "")))


def bucket_toml(bucket: dict[str, str]) -> str:
    """The ``[bucket]`` section to put into appliance.toml (secrets included: keep it 0600)."""
    lines = ["[bucket]"] + [f"{k} = {json.dumps(v)}" for k, v in bucket.items() if v]
    return "\n".join(lines) + "\n"
