"""The database schema: versioned with ``PRAGMA user_version`` and upgraded by :data:`MIGRATIONS`.

Each migration is one script, applied in its own transaction; :func:`statements` splits it for
``execute`` (the scripts hold no semicolons inside literals).
"""

from .schema_accounts import ACCOUNTS
from .schema_takeover import TAKEOVER

MIGRATIONS: list[str] = [
    # 1: events, buffer photos, imports, publications, the sync outbox
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        slug TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        subtitle TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        state TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        files_total INTEGER NOT NULL DEFAULT 0,
        files_done INTEGER NOT NULL DEFAULT 0,
        bytes_total INTEGER NOT NULL DEFAULT 0,
        bytes_done INTEGER NOT NULL DEFAULT 0,
        imported INTEGER NOT NULL DEFAULT 0,
        duplicates INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0,
        report TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE photos (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        original_name TEXT NOT NULL,
        source_path TEXT,
        buffer_path TEXT NOT NULL,
        size INTEGER NOT NULL,
        width INTEGER,
        height INTEGER,
        orientation INTEGER,
        capture_time TEXT,
        camera_make TEXT,
        camera_model TEXT,
        thumb_path TEXT,
        import_id INTEGER REFERENCES imports(id),
        imported_at TEXT NOT NULL
    );
    CREATE INDEX photos_by_capture ON photos(capture_time DESC, id DESC);
    CREATE TABLE publications (
        id INTEGER PRIMARY KEY,
        photo_id INTEGER NOT NULL REFERENCES photos(id),
        event_id INTEGER NOT NULL REFERENCES events(id),
        base TEXT NOT NULL,
        seq INTEGER NOT NULL,
        name TEXT NOT NULL,
        recipe TEXT NOT NULL,
        state TEXT NOT NULL,
        error TEXT,
        width INTEGER,
        height INTEGER,
        thumb_width INTEGER,
        thumb_height INTEGER,
        color TEXT,
        requested_at TEXT NOT NULL,
        claimed_at REAL,
        published_at TEXT,
        live_at TEXT,
        unpublished_at TEXT,
        UNIQUE (event_id, name)
    );
    CREATE INDEX publications_by_state ON publications(state, id);
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('upload', 'delete', 'manifest')),
        event_id INTEGER NOT NULL REFERENCES events(id),
        publication_id INTEGER REFERENCES publications(id),
        key TEXT NOT NULL,
        path TEXT,
        content_type TEXT,
        cache_control TEXT,
        size INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'pending',
        version INTEGER NOT NULL DEFAULT 1,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL,
        done_at TEXT
    );
    CREATE UNIQUE INDEX jobs_one_pending_manifest ON jobs(event_id)
        WHERE kind = 'manifest' AND state = 'pending';
    CREATE INDEX jobs_by_state ON jobs(state, next_attempt_at, id);
    CREATE TABLE sync_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        online INTEGER,
        current_key TEXT,
        last_success_at TEXT,
        last_error TEXT,
        last_error_at TEXT,
        updated_at TEXT
    );
    INSERT INTO sync_state (id) VALUES (1);
    """,
    # 2: publish pipeline outputs: an optional WebP beside the JPEG, a 3×3 colour placeholder
    """
    ALTER TABLE publications ADD COLUMN webp INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE publications ADD COLUMN placeholder TEXT;
    """,
    # 3: admin: buffer sort/filter and live-feed indexes, rejected photos, failed logins (rate limit)
    """
    CREATE INDEX photos_by_sort ON photos(COALESCE(capture_time, imported_at) DESC, id DESC);
    CREATE INDEX publications_by_photo ON publications(photo_id, id);
    CREATE INDEX jobs_by_publication ON jobs(publication_id, kind, state);
    CREATE TABLE photo_rejections (
        photo_id INTEGER PRIMARY KEY REFERENCES photos(id),
        rejected_at TEXT NOT NULL
    );
    CREATE TABLE login_failures (id INTEGER PRIMARY KEY, client TEXT NOT NULL, at REAL NOT NULL);
    CREATE INDEX login_failures_by_client ON login_failures(client, at);
    """,
    # 4: card ingest: inserted cards and their "safe to remove" state, RAW files in the archive
    # paired with their JPEG, live progress of an import (MB/s and ETA derive from it)
    """
    CREATE TABLE cards (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL DEFAULT '',
        fs_type TEXT NOT NULL DEFAULT '',
        device TEXT NOT NULL DEFAULT '',
        mount_path TEXT,
        state TEXT NOT NULL,
        error TEXT,
        import_id INTEGER REFERENCES imports(id),
        first_seen_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE raw_files (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        original_name TEXT NOT NULL,
        source_path TEXT,
        archive_path TEXT NOT NULL,
        size INTEGER NOT NULL,
        pair_key TEXT NOT NULL,
        photo_id INTEGER REFERENCES photos(id),
        import_id INTEGER REFERENCES imports(id),
        imported_at TEXT NOT NULL
    );
    CREATE INDEX raw_files_by_pair ON raw_files(pair_key);
    CREATE INDEX raw_files_by_size ON raw_files(size);
    CREATE INDEX photos_by_size ON photos(size);
    ALTER TABLE imports ADD COLUMN card_id INTEGER REFERENCES cards(id);
    ALTER TABLE imports ADD COLUMN pid INTEGER;
    ALTER TABLE imports ADD COLUMN current_file TEXT;
    ALTER TABLE imports ADD COLUMN started_ts REAL;
    ALTER TABLE imports ADD COLUMN updated_ts REAL;
    ALTER TABLE photos ADD COLUMN pair_key TEXT;
    CREATE INDEX photos_by_pair ON photos(pair_key);
    """,
    # 5: sync outbox details: confirmed ETag, attempt times, parallel uploads, manifest writes
    """
    ALTER TABLE jobs ADD COLUMN etag TEXT;
    ALTER TABLE jobs ADD COLUMN last_attempt_at REAL;
    CREATE INDEX jobs_pending_by_kind ON jobs(kind, id) WHERE state = 'pending';
    ALTER TABLE sync_state ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sync_state ADD COLUMN manifest_puts INTEGER NOT NULL DEFAULT 0;
    """,
    # 6: cameras sending frames over FTP: one account each, with what it sent
    """
    CREATE TABLE ftp_accounts (
        id INTEGER PRIMARY KEY,
        user TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        label TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        frames_received INTEGER NOT NULL DEFAULT 0,
        partials_discarded INTEGER NOT NULL DEFAULT 0,
        last_frame_at TEXT
    );
    """,
    # 7: FTP accounts in the admin: the event each camera sends to, its connection right now
    """
    ALTER TABLE ftp_accounts ADD COLUMN event_id INTEGER REFERENCES events(id);
    ALTER TABLE ftp_accounts ADD COLUMN connected_since TEXT;
    ALTER TABLE ftp_accounts ADD COLUMN client_address TEXT;
    """,
    # 8: auto-publish rules per event and source (card, hot folder, tether, FTP account); each
    # import's source, each photo's in-camera rating and protect flag; what a rule decided per photo
    """
    ALTER TABLE imports ADD COLUMN source_kind TEXT;
    ALTER TABLE imports ADD COLUMN source_name TEXT;
    ALTER TABLE photos ADD COLUMN rating INTEGER;
    ALTER TABLE photos ADD COLUMN protected INTEGER;
    CREATE TABLE autopublish_rules (
        event_id INTEGER NOT NULL REFERENCES events(id),
        source_kind TEXT NOT NULL,
        source_name TEXT NOT NULL DEFAULT '',
        mode TEXT NOT NULL CHECK (mode IN ('off', 'all', 'rated', 'protected')),
        value INTEGER NOT NULL DEFAULT 0,
        since TEXT NOT NULL,
        after_photo_id INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (event_id, source_kind, source_name)
    );
    CREATE TABLE autopublish_photos (
        photo_id INTEGER PRIMARY KEY REFERENCES photos(id),
        event_id INTEGER NOT NULL REFERENCES events(id),
        source_kind TEXT NOT NULL,
        source_name TEXT NOT NULL,
        mode TEXT NOT NULL,
        imported_ts REAL NOT NULL,
        due_at REAL NOT NULL,
        state TEXT NOT NULL DEFAULT 'waiting',
        reason TEXT,
        publication_id INTEGER REFERENCES publications(id),
        settled_at TEXT
    );
    CREATE INDEX autopublish_photos_by_state ON autopublish_photos(state, due_at);
    """,
    # 9: second copy: originals mirrored to a second drive / bucket prefix, and each target's state
    """
    CREATE TABLE second_copies (
        target TEXT NOT NULL CHECK (target IN ('drive', 'bucket')),
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        copied_at TEXT NOT NULL,
        checked_ts REAL NOT NULL,
        PRIMARY KEY (target, sha256)
    );
    CREATE INDEX second_copies_by_check ON second_copies(target, checked_ts);
    CREATE TABLE second_copy_targets (
        target TEXT PRIMARY KEY CHECK (target IN ('drive', 'bucket')),
        name TEXT NOT NULL DEFAULT '',
        available INTEGER,
        problem TEXT,
        last_error TEXT,
        last_error_at TEXT,
        updated_at TEXT
    );
    """,
    # 10: RAW-only and HEIC: a photo whose buffer JPEG is derived from an archived original
    # (raw-preview, raw-decode or heif; NULL for a camera JPEG)
    """
    ALTER TABLE photos ADD COLUMN derived_from TEXT;
    """,
    # 11: USB tether: the cameras met and every frame already taken from each (never taken twice)
    """
    CREATE TABLE tether_cameras (
        camera TEXT PRIMARY KEY,
        first_seen_at TEXT NOT NULL,
        frames_received INTEGER NOT NULL DEFAULT 0,
        last_frame_at TEXT
    );
    CREATE TABLE tether_files (
        camera TEXT NOT NULL REFERENCES tether_cameras(camera),
        folder TEXT NOT NULL,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        handled_at TEXT NOT NULL,
        PRIMARY KEY (camera, folder, name, size, mtime)
    ) WITHOUT ROWID;
    """,
    # 12: a tethered camera's connection right now, for the admin
    """
    ALTER TABLE tether_cameras ADD COLUMN connected_since TEXT;
    """,
    # 13: push to guests: 'notify' jobs tell an event's live channel of a confirmed manifest (the
    # kind CHECK is part of the table, so the outbox is rebuilt with its rows and indexes)
    """
    CREATE TABLE jobs_new (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('upload', 'delete', 'manifest', 'notify')),
        event_id INTEGER NOT NULL REFERENCES events(id),
        publication_id INTEGER REFERENCES publications(id),
        key TEXT NOT NULL,
        path TEXT,
        content_type TEXT,
        cache_control TEXT,
        size INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'pending',
        version INTEGER NOT NULL DEFAULT 1,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL,
        done_at TEXT,
        etag TEXT,
        last_attempt_at REAL
    );
    INSERT INTO jobs_new (id, kind, event_id, publication_id, key, path, content_type, cache_control,
        size, state, version, attempts, next_attempt_at, last_error, created_at, done_at, etag,
        last_attempt_at)
      SELECT id, kind, event_id, publication_id, key, path, content_type, cache_control, size, state,
        version, attempts, next_attempt_at, last_error, created_at, done_at, etag, last_attempt_at
      FROM jobs;
    DROP TABLE jobs;
    ALTER TABLE jobs_new RENAME TO jobs;
    CREATE UNIQUE INDEX jobs_one_pending_manifest ON jobs(event_id)
        WHERE kind = 'manifest' AND state = 'pending';
    CREATE UNIQUE INDEX jobs_one_pending_notify ON jobs(event_id)
        WHERE kind = 'notify' AND state = 'pending';
    CREATE INDEX jobs_by_state ON jobs(state, next_attempt_at, id);
    CREATE INDEX jobs_by_publication ON jobs(publication_id, kind, state);
    CREATE INDEX jobs_pending_by_kind ON jobs(kind, id) WHERE state = 'pending';
    """,
    # 14: sync status chart: failed bucket attempts per minute, jobs by the minute they were queued
    # and done, and when the bucket last answered (the uplink state in the admin)
    """
    CREATE TABLE sync_minutes (minute INTEGER PRIMARY KEY, failed INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX jobs_by_created ON jobs(created_at);
    CREATE INDEX jobs_by_done ON jobs(done_at) WHERE done_at IS NOT NULL;
    ALTER TABLE sync_state ADD COLUMN last_contact_at TEXT;
    """,
    # 15 (honest import report): a camera's burst of frames (FTP, tether) read back by source and time
    """
    CREATE INDEX imports_kind_finished ON imports (source_kind, finished_at);
    """,
    # 16: culling: picks (a reject stays in photo_rejections), soft delete with undo (files purged
    # once the undo window is over), a draft edit per photo, batch actions and each photo's outcome,
    # import-time sort; uploads from the admin as a source kind of their own
    """
    ALTER TABLE photos ADD COLUMN picked_at TEXT;
    ALTER TABLE photos ADD COLUMN deleted_ts REAL;
    ALTER TABLE photos ADD COLUMN purged_at TEXT;
    ALTER TABLE photos ADD COLUMN draft TEXT;
    CREATE INDEX photos_by_import_time ON photos(imported_at DESC, id DESC);
    CREATE INDEX photos_deleted ON photos(deleted_ts) WHERE deleted_ts IS NOT NULL;
    CREATE INDEX photos_by_import ON photos(import_id, deleted_ts);
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        action TEXT NOT NULL,
        value TEXT,
        total INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        created_ts REAL NOT NULL,
        undone_at TEXT
    );
    CREATE TABLE batch_items (
        batch_id INTEGER NOT NULL REFERENCES batches(id),
        photo_id INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        error TEXT,
        publication_id INTEGER REFERENCES publications(id),
        PRIMARY KEY (batch_id, photo_id)
    ) WITHOUT ROWID;
    UPDATE imports SET source_kind = 'upload', source_name = substr(source, 8)
        WHERE source LIKE 'upload %' AND COALESCE(source_kind, 'other') = 'other';
    """,
    # 17 full-size downloads: whether a publication has its full-size JPEG (originals/<name>.jpg)
    """
    ALTER TABLE publications ADD COLUMN original INTEGER NOT NULL DEFAULT 0;
    """,
    # accounts and roles (issue 20): users, sessions, invites, the audit log (in schema_accounts.py)
    ACCOUNTS,
    # 19 (faces, "Find my photos"): the faces found in each published photo (box as fractions of the
    # image, 128 float32 descriptor; ids never reused, see Faces.face_signature), which rendering of a
    # publication was scanned, and each event's face index: the version written to the web folder and
    # the one the bucket confirmed
    """
    CREATE TABLE face_scans (
        publication_id INTEGER PRIMARY KEY REFERENCES publications(id),
        published_at TEXT NOT NULL,
        faces INTEGER NOT NULL,
        error TEXT,
        scanned_at TEXT NOT NULL
    );
    CREATE TABLE faces (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        publication_id INTEGER NOT NULL REFERENCES publications(id),
        x REAL NOT NULL,
        y REAL NOT NULL,
        w REAL NOT NULL,
        h REAL NOT NULL,
        score REAL NOT NULL,
        descriptor BLOB NOT NULL
    );
    CREATE INDEX faces_by_publication ON faces(publication_id);
    CREATE TABLE face_indexes (
        event_id INTEGER PRIMARY KEY REFERENCES events(id),
        version INTEGER NOT NULL DEFAULT 0,
        live_version INTEGER NOT NULL DEFAULT 0,
        sha256 TEXT,
        updated_at TEXT
    );
    """,
    # take over another appliance's shard (issue 20 §1): adopted photos (in schema_takeover.py)
    TAKEOVER,
]


def statements(script: str) -> list[str]:
    """Split a migration script into statements (no semicolons inside our literals)."""
    return [s.strip() for s in script.split(";") if s.strip()]
