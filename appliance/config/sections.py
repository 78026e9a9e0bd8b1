"""The configuration's sections: one frozen dataclass per ``[section]`` of appliance.toml, every key
with its default (documented in docs/configuration.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PathsConfig:
    """Where data lives. Relative folders are resolved against ``data_root``."""

    data_root: Path = Path("/var/lib/appliance")
    buffer: Path = Path("buffer")  # verified copies of card photos
    web: Path = Path("web")  # published web-size JPEGs, thumbnails, manifests
    trash: Path = Path("trash")  # unpublished web files (nothing is deleted locally)
    archive: Path = Path("archive")  # RAW files paired with their JPEG
    state: Path = Path("state")  # SQLite store, thumbnails of the buffer, secrets


@dataclass(frozen=True)
class ImporterConfig:
    """The card importer. ``watch`` is a folder standing in for an inserted card."""

    watch: Path | None = None
    poll_seconds: float = 1.0
    thumb_size: int = 400
    # Card ingest (see docs/ingest.md)
    mount_root: Path = Path("/run/appliance-cards")  # cards are mounted read-only at <root>/<fs uuid>
    mount: str = "auto"  # auto (kernel, else FUSE), kernel or fuse
    folders: tuple[str, ...] = ()  # folders imported from drives without DCIM/ (SSDs)
    card_images: Path | None = None  # loop devices backed by image files in here are cards (tests)
    settle_seconds: float = 2.0  # a hot-folder file must be unchanged this long before import
    upload_max_mb: int = 200  # largest file accepted by the admin's upload
    thumb_workers: int = 0  # thumbnail threads; 0 = one per core
    copy_workers: int = 8  # files copied and verified at once (keeps the card's and disk's queues busy)
    # Where a copy is read back from to verify it: disk (past the page cache), cache, or auto:
    # the disk when the source is on another filesystem than the copy (a card), else the cache.
    verify_from: str = "auto"
    # RAW-only frames and HEIC (see docs/ingest.md): a RAW's embedded preview must be at least this
    # long on its long edge to become its photo; raw_decode develops RAWs without one (slow on a Pi).
    raw_min_preview: int = 1600
    raw_decode: bool = False


@dataclass(frozen=True)
class PublishConfig:
    """The publish worker's output sizes and quality."""

    long_edge: int = 2048
    thumb_edge: int = 480
    quality: int = 85
    poll_seconds: float = 0.5
    webp: bool = False  # also write a WebP beside each web JPEG
    webp_quality: int = 80


@dataclass(frozen=True)
class BucketConfig:
    """The S3-compatible bucket (Cloudflare R2 in production).

    For R2 the endpoint is ``https://<account-id>.r2.cloudflarestorage.com``. Secrets may live in a
    separate TOML file (``secrets_file``, mode 0600) holding ``key_id`` and ``secret``.
    """

    endpoint_url: str = ""
    bucket: str = ""
    region: str = "auto"
    key_id: str = ""
    secret: str = ""
    secrets_file: Path | None = None
    prefix: str = "events"
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    account_id: str = ""  # R2: the endpoint is derived from it when endpoint_url is empty


@dataclass(frozen=True)
class SyncConfig:
    """The upload service."""

    poll_seconds: float = 0.5
    max_backoff_seconds: float = 60.0
    workers: int = 4  # parallel uploads (helps when the uplink, not the CPU, is the bottleneck)


@dataclass(frozen=True)
class AdminConfig:
    """The Flask admin. ``password`` is hashed on load and never logged."""

    password: str = ""
    password_hash: str = ""
    bind: str = "0.0.0.0:8080"
    secret_key: str = ""  # generated into state/ when empty
    gallery_url: str = ""  # public gallery URL shown to the photographer
    metrics_token: str = ""  # bearer token for /metrics (Prometheus); empty: login only


@dataclass(frozen=True)
class LiveConfig:
    """Push to guests: the gallery's live channel (one Durable Object per event, functions/_live/).

    Off while ``secret`` is empty. After each manifest the bucket confirmed, the sync service tells
    the event's channel (``POST <url>/live/<event>/notify``, signed with a key derived from
    ``secret``), and the guests' galleries fetch the new manifest at once.
    """

    url: str = ""  # the gallery's public base URL; empty: admin.gallery_url
    secret: str = ""  # LIVE_SECRET of the event-gallery-live Worker; never logged
    timeout: float = 5.0


@dataclass(frozen=True)
class GpioConfig:
    """Status LED and publish button (BCM pin numbers; 0 disables)."""

    status_led: int = 17
    button: int = 27
    mock: bool = False  # use gpiozero's MockFactory (laptops, tests)
    card_led: int = 0  # second LED: card busy (flicker) / safe to remove (on) / no card (off)
    rgb_red: int = 0  # an RGB LED (all three pins set) shows the status in colour
    rgb_green: int = 0
    rgb_blue: int = 0
    hold_seconds: float = 3.0  # hold, then release: undo the last button publish
    shutdown_seconds: float = 10.0  # long hold, then release: shut the Pi down


@dataclass(frozen=True)
class FtpConfig:
    """Cameras sending frames over FTP (``appliance ftp``; accounts: ``appliance ftp-account``)."""

    bind: str = "0.0.0.0:2121"  # host:port the FTP server listens on
    passive_ports: str = "60000-60019"  # data connections: a small fixed range for the firewall
    tls: bool = True  # offer FTPS (explicit TLS, AUTH TLS) with a self-signed certificate
    # where plain FTP may log in (CIDRs, comma-separated): the Pi's own Wi-Fi and this machine;
    # from anywhere else FTPS is required. Empty: FTPS everywhere.
    plain_networks: str = "10.42.0.0/24, 127.0.0.0/8, ::1/128"
    reserve_mb: int = 1024  # uploads are refused ("452") while the disk has less free than this
    max_login_failures: int = 5  # failed logins from one address within 5 minutes, then refused


@dataclass(frozen=True)
class SecondCopyConfig:
    """Originals mirrored to a second drive and/or a second bucket prefix (``appliance second-copy``)."""

    drive_label: str = ""  # filesystem label of the second drive (USB stick/SSD); "" = no drive
    folder: Path | None = None  # a folder standing in for the drive (tests, demo)
    mount_point: Path = Path("/run/appliance-second-copy/drive")  # where the drive is mounted rw
    bucket_prefix: str = ""  # originals also go to <bucket.bucket>/<this prefix>/; "" = off
    poll_seconds: float = 5.0
    recheck_days: float = 7.0  # each copy on the drive is read back again this often; 0 = never


@dataclass(frozen=True)
class TetherConfig:
    """A camera on USB in PTP mode, frames pulled as they are shot (``appliance tether``)."""

    import_existing: bool = False  # the first time a camera is met, import what its card holds too
    linger_seconds: float = 60.0  # without a camera this long, the service stops (0: never)


@dataclass(frozen=True)
class FacesConfig:
    """Find my photos: faces indexed by a Node worker (``appliance faces``, docs/faces.md)."""

    node: str = "node"  # the Node.js executable (Debian's nodejs package)
    modules: Path | None = None  # node_modules with face-api and TensorFlow.js; None: the first found of
    # /opt/appliance/faces/node_modules and the repository's functions/node_modules
    timeout_seconds: float = 180.0  # longest one photo may take before the worker is restarted
    threads: int = 2  # photos computed side by side (TensorFlow.js WASM uses one core per photo)
    idle_seconds: float = 600.0  # the worker (up to ~750 MB resident) stops after this long without work
    poll_seconds: float = 2.0


@dataclass(frozen=True)
class EventConfig:
    """The event created on first start when the store has none."""

    slug: str = "my-event"
    title: str = "Live gallery"
    subtitle: str = ""
