"""The migration of accounts and roles (issue 20), kept out of schema.py to keep it short.

Users with a role, revocable sessions (the id is the sha256 of the cookie's token), one-time
invites (likewise hashed), the audit log of every change; an FTP account belongs to a user
(``owner_id`` NULL: the first owner, as every account made before accounts existed).
"""

ACCOUNTS = """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        disabled_at TEXT
    );
    CREATE TABLE user_sessions (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        created_at TEXT NOT NULL,
        last_seen_ts REAL NOT NULL,
        client TEXT NOT NULL DEFAULT '',
        revoked_at TEXT
    );
    CREATE INDEX user_sessions_by_user ON user_sessions(user_id);
    CREATE TABLE invites (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
        created_by INTEGER REFERENCES users(id),
        created_at TEXT NOT NULL,
        expires_ts REAL NOT NULL,
        used_at TEXT,
        used_by INTEGER REFERENCES users(id)
    );
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        user_id INTEGER REFERENCES users(id),
        user_name TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        method TEXT NOT NULL DEFAULT '',
        path TEXT NOT NULL DEFAULT '',
        photo_ids TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '{}',
        event_id INTEGER,
        client TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_log_by_event ON audit_log(event_id, id);
    ALTER TABLE ftp_accounts ADD COLUMN owner_id INTEGER REFERENCES users(id);
"""
