"""The render: decode, edits, geometry, colour, watermark, sizes, metadata; no store, no network."""
