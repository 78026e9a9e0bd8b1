"""Face detection and descriptors (the Node worker ``worker.mjs`` and the Python side that owns it)."""
