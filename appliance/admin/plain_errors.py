"""Errors in plain words for the admin: what went wrong and what to do, never botocore's text.

The services store and log the raw error (``HTTP 403 AccessDenied: Access Denied``, ``offline:
Could not connect to the endpoint URL: ...``, ``[Errno 28] No space left on device``, PIL's
``image file is truncated``); the admin shows :func:`explain`'s message and keeps the raw text
behind a "details" toggle. Exceptions are read as the sync service stores them (see
:func:`raw_text`), so a live exception and a stored error give the same words.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from ..sync.syncer import describe

Context = Literal["sync", "publish", "import", "upload"]
KEY_HINT = "Check the R2 key in appliance.toml on the SD card ([bucket] key_id and secret)."
RETRIED = "It is retried by itself."

# (pattern found in the raw text, message), the first match wins: credentials before "403"
RULES: list[tuple[re.Pattern[str], str]] = [(re.compile(p, re.IGNORECASE), m) for p, m in (
    (r"\bInvalidAccessKeyId\b|access key id you provided does not exist",
     "The bucket does not know this R2 key (wrong key ID). " + KEY_HINT),
    (r"\bSignatureDoesNotMatch\b|signature we calculated does not match",
     "The bucket rejected the R2 key's secret (it does not match the key ID). " + KEY_HINT),
    (r"NoCredentialsError|Unable to locate credentials|PartialCredentialsError",
     "No R2 key is set, so nothing can be uploaded. " + KEY_HINT),
    (r"\bNoSuchBucket\b|specified bucket does not exist|\(404\) when calling the HeadBucket",
     "The bucket does not exist. Check the bucket name ([bucket] bucket in appliance.toml) and "
     "that it exists in your Cloudflare R2 account."),
    (r"\bRequestTimeTooSkewed\b|RequestExpired",
     "The appliance's clock is wrong, so the bucket refuses its requests. Connect it to the "
     "internet for a minute so it can set its clock."),
    (r"\bAccessDenied\b|\bHTTP 403\b|\bForbidden\b",
     "The bucket rejected the upload (access denied). " + KEY_HINT),
    (r"ETag mismatch|\bBadDigest\b|InvalidDigest",
     "An upload arrived damaged (its checksum did not match) and is sent again. " + RETRIED),
    (r"\bSlowDown\b|ServiceUnavailable|InternalError|\bHTTP 50\d\b",
     "The bucket is busy or having trouble on its side. " + RETRIED),
    (r"SSLError|CERTIFICATE_VERIFY_FAILED|certificate verify failed",
     "A secure connection to the bucket could not be made (a certificate problem, or the "
     "appliance's clock is wrong). " + RETRIED),
    (r"ConnectTimeout|ReadTimeout|timed out|\btimeout\b",
     "The bucket did not answer in time: the internet connection is slow or dropped. " + RETRIED),
    (r"^offline:|EndpointConnectionError|Could not connect to the endpoint|ConnectionClosedError|"
     r"Connection ?(refused|reset|aborted)|Name or service not known|Temporary failure in name|"
     r"Network is unreachable|No route to host",
     "The bucket cannot be reached: the appliance is offline. Uploads wait and start again by "
     "themselves when the internet is back."),
    (r"No space left on device|ENOSPC|disk is full|Errno 28\b",
     "The appliance's disk is full. Publish or remove photos (Settings → Cleanup) to free space."),
    (r"Read-only file system|EROFS",
     "The disk is read-only, so nothing can be saved. Restart the appliance; if it stays, the "
     "SD card or disk is failing."),
    (r"Input/output error|\bEIO\b|Errno 5\b",
     "The card or disk could not be read (input/output error): the card or its reader may be "
     "failing. Keep the card and try another reader."),
    (r"No such file or directory|ENOENT",
     "The file was gone when it was read (was the card removed or the file deleted?)."),
    (r"Permission denied|EACCES",
     "The file could not be opened (permission denied)."),
    (r"original missing from the buffer",
     "The photo's original is missing from the appliance's disk: it cannot be published."),
    (r"pillow-heif\) is not installed",
     "HEIC photos cannot be opened here: HEIC support (pillow-heif) is not installed."),
    (r"DecompressionBomb|exceeds limit of \d+ pixels|image too large",
     "The image is too large to process safely."),
    (r"cannot identify image file|image file is truncated|truncated|broken data stream|"
     r"corrupt|not a JPEG|UnidentifiedImageError|decoder|Premature end|cannot decode|not a readable",
     "The photo is damaged (corrupt or truncated) and cannot be opened."),
    (r"MemoryError|Cannot allocate memory",
     "The appliance ran out of memory for this photo. Try again; restart the appliance if it "
     "keeps happening."),
    (r"^safe mode:",
     "A delete in the bucket was refused by safe mode (it never deletes what this appliance did "
     "not publish)."),
)]
FALLBACK: dict[str, str] = {
    "sync": "The upload to the bucket failed. " + RETRIED,
    "publish": "The photo could not be prepared for the gallery.",
    "import": "The file could not be imported.",
    "upload": "The upload failed.",
}


def raw_text(error: BaseException | str) -> str:
    """The error as stored and logged (a ClientError as ``HTTP 403 AccessDenied: Access Denied``:
    the sync service's own wording, :func:`appliance.sync.syncer.describe`)."""
    return error if isinstance(error, str) else describe(error)


def known(error: BaseException | str) -> str | None:
    """The plain-words message for an error a rule knows, else None (text that is already the
    appliance's own words, e.g. "drive BACKUP is not mounted", stays as it is)."""
    text = raw_text(error)
    return next((message for pattern, message in RULES if pattern.search(text)), None)


def plain(error: BaseException | str, context: Context = "sync") -> str:
    """The plain-words message for ``error`` (a context's general one when it is not known)."""
    return known(error) or FALLBACK[context]


def explain(error: BaseException | str | None, context: Context = "sync") -> dict[str, Any] | None:
    """``{"message": plain words, "details": the raw text}`` for the admin; None for no error."""
    if error is None or error == "":
        return None
    return {"message": plain(error, context), "details": raw_text(error)}
