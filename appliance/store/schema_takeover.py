"""The migration of taking over another appliance's shard (issue 20 §1), kept out of schema.py.

``takeovers``: which appliance's shard this appliance took over in an event (its bucket key, so
safe mode lets exactly that shard be deleted once this appliance's own shard lists its photos).
``adopted_photos``: the manifest entries read from that shard, now listed in this appliance's
shard; ``keys`` is the JSON list of their bucket keys, deletable only once ``unpublished_at`` is set.
"""

TAKEOVER = """
    CREATE TABLE takeovers (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES events(id),
        source_id TEXT NOT NULL,
        shard_key TEXT NOT NULL,
        taken_at TEXT NOT NULL,
        UNIQUE (event_id, source_id)
    );
    CREATE TABLE adopted_photos (
        id INTEGER PRIMARY KEY,
        takeover_id INTEGER NOT NULL REFERENCES takeovers(id),
        event_id INTEGER NOT NULL REFERENCES events(id),
        name TEXT NOT NULL,
        entry TEXT NOT NULL,
        keys TEXT NOT NULL,
        adopted_at TEXT NOT NULL,
        unpublished_at TEXT,
        UNIQUE (event_id, name)
    );
"""
