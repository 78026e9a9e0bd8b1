"""Password hashing for the admin's accounts: argon2id (argon2-cffi), with its default parameters.

A hash from an older scheme (a werkzeug ``scrypt:``/``pbkdf2:`` hash, as ``admin.password_hash`` in
appliance.toml holds) still verifies; :func:`needs_rehash` tells the login to replace it with argon2.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from werkzeug.security import check_password_hash

HASHER = PasswordHasher()
MIN_LENGTH = 8
MAX_LENGTH = 128


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (argon2, or a werkzeug hash from the config)."""
    if not stored.startswith("$argon2"):
        return check_password_hash(stored, password)
    try:
        return HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return not stored.startswith("$argon2") or HASHER.check_needs_rehash(stored)


def password_problem(password: object) -> str | None:
    """Why a new password is refused, or None."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        return f"the password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH or any(ord(c) < 32 for c in password):
        return f"the password must be one line of at most {MAX_LENGTH} characters"
    return None
