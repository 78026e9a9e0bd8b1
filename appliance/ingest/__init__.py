"""Everything that brings frames in: cards (udev, mounts), the verified copy, the hot folder."""
