from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# Every test talks to the app from 127.0.0.1 and opens sessions far faster than one visitor: the rate of new
# sessions per address is tested on its own (tests/test_guard.py), with its own lower setting.
os.environ.setdefault("PLAYGROUND_NEW_SESSIONS_PER_MINUTE", "100000")
# Nothing is downloaded at test time: an app the tests start on a clone without the in-page runtime (no npm)
# does not fetch it (tests/test_device_fetch.py fetches from a local stand-in registry).
os.environ.setdefault("PLAYGROUND_DEVICE_RUNTIME_FETCH", "0")
os.environ.setdefault("PLAYGROUND_ASK_HUB_SIZES", "0")

import models  # noqa: E402,F401 - the registry: every model family registers at import
from bench.server import free_port  # noqa: E402,F401 - the tests' and the benches' one way to pick a port
from zoo.images import load_image, sample_image_path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# ../shared/media is beside the repository on development machines and in CI, and absent on a user's clone;
# PLAYGROUND_TEST_MEDIA points elsewhere (a folder that does not exist shows what a user's clone does).
MEDIA = Path(os.environ.get("PLAYGROUND_TEST_MEDIA", REPO.parent / "shared" / "media"))


def pytest_runtest_setup(item):
    """Tests marked ``media`` skip where the shared photos are absent, whatever else they need."""
    if item.get_closest_marker("media") is not None and not MEDIA.is_dir():
        pytest.skip(f"{MEDIA.name} (the shared test photos) is absent")


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


@pytest.fixture
def fake_hub(tmp_path, monkeypatch):
    """A local server that plays the Hub; the real huggingface_hub code downloads from it."""
    from tests.fakehub import FakeHub

    server = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "zoo"))
    for var in ("HF_HUB_CACHE", "HF_HUB_OFFLINE", "HF_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app_url():
    """The playground, launched in this process as a user would reach it."""
    import app

    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    app.demo.close()


ARTIFACTS = REPO / "artifacts"
