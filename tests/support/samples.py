"""The shared camera samples: real JPEGs from several cameras, kept beside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

# /work/shared beside the repository, found upward from here (from /work/main or a worktree
# /work/wt/issue-N alike)
_CAMERA_SAMPLES = Path("shared") / "testdata" / "camera-samples"
SAMPLES = next((p / _CAMERA_SAMPLES for p in Path(__file__).resolve().parents
                if (p / _CAMERA_SAMPLES).is_dir()), Path(__file__).resolve().parents[3] / _CAMERA_SAMPLES)


def sample(relative: str) -> Path:
    """A real camera JPEG from the shared samples; skips the test when the samples are absent."""
    path = SAMPLES / relative
    if not path.is_file():
        pytest.skip(f"camera sample {relative} not found under {SAMPLES} (shared test data missing)")
    return path


def sample_files(pattern: str) -> list[Path]:
    """Sample files matching a glob (relative to the samples folder); skips when none exist."""
    found = sorted(SAMPLES.glob(pattern)) if SAMPLES.is_dir() else []
    if not found:
        pytest.skip(f"no camera samples matching {pattern} under {SAMPLES}")
    return found
