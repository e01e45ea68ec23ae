from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from zoo.images import load_image, sample_image_path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO.parent / "shared" / "media"


@pytest.fixture(scope="session")
def grace() -> np.ndarray:
    return load_image(sample_image_path())


@pytest.fixture(scope="session")
def media() -> Path:
    if not MEDIA.is_dir():
        pytest.skip("../shared/media is absent")
    return MEDIA


def media_image(name: str) -> np.ndarray:
    path = MEDIA / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return load_image(path)
