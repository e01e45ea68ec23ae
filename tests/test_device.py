"""The on-device routes (playground.device): a registry model with a device version gets its spec (the zoo's
own constants) and its files by id, byte for byte and cached by hash; anything else gets a 404 sentence."""
from __future__ import annotations

import hashlib

import httpx
import pytest

from playground import device
from zoo import bundled
from zoo.registry import get_spec

pytestmark = pytest.mark.skipif(device.why_not() is not None, reason=device.why_not() or "")

DEVICE_MODELS = ["face/blazeface-short", "face/blazeface-full", "face/facemesh", "hands/mediapipe-lite",
                 "hands/mediapipe-full", "pose/blazepose-lite", "pose/blazepose-full", "pose/blazepose-heavy",
                 "segmentation/selfie-general", "segmentation/selfie-landscape", "gesture/rules-lite",
                 "gesture/rules-full", "pose/blazepose-multi-lite", "pose/blazepose-multi-full", "pose/blazepose-multi-heavy"]


@pytest.mark.parametrize("model_id", DEVICE_MODELS)
def test_a_device_models_spec_and_files_come_from_the_zoo(app_url, model_id):
    spec = get_spec(model_id)
    r = httpx.get(f"{app_url}live/device/spec", params={"id": model_id})
    assert r.status_code == 200
    page = r.json()
    assert page["id"] == model_id
    if "detector" in spec.options:  # the constants are the spec's own
        assert page["detector"] == {k: list(v) if isinstance(v, tuple) else v for k, v in spec.options["detector"].items()}
    else:
        assert page["input"] == list(spec.input_size)
    files = spec.bundled_files()
    assert len(page["model_urls"]) == len(files)
    for url, path in zip(page["model_urls"], files):
        got = httpx.get(app_url + url)
        assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == bundled.FILES[path][0]
        assert "immutable" in got.headers["cache-control"], "fetched once per browser"


@pytest.mark.parametrize("query", [{"id": "face/haar-frontal"}, {"id": "pose/vitpose-base"},
                                   {"id": "../../etc/passwd"}, {"id": "hf:someone/model"}, {}])
def test_models_without_a_device_version_or_unknown_get_a_sentence(app_url, query):
    for route in ("spec", "model"):
        r = httpx.get(f"{app_url}live/device/{route}", params=query)
        assert r.status_code == 404 and "no version that runs in the page" in r.json()["message"]
        assert "/" not in r.json()["message"]


def test_a_hub_model_with_a_page_version_waits_until_the_server_has_its_file(app_url, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty"))  # nothing cached: the page never downloads it
    for route in ("spec", "model"):
        r = httpx.get(f"{app_url}live/device/{route}", params={"id": "face/yunet"})
        assert r.status_code == 404 and "not on the server yet" in r.json()["message"], r.text
        assert "/" not in r.json()["message"]


def test_only_its_own_runtime_files_are_served(app_url):
    assert httpx.get(f"{app_url}live/device/ort/ort-wasm-simd-threaded.wasm").headers["content-type"] == \
        "application/wasm"
    for name in ("ort.min.js", "../package.json", "ort-wasm-simd-threaded.jsep.wasm"):
        assert httpx.get(f"{app_url}live/device/ort/{name}").status_code == 404
    assert httpx.get(f"{app_url}live/device/wasm/litert_wasm_internal.wasm").headers["content-type"] == \
        "application/wasm"
    for name in ("../package.json", "..%2Fpackage.json", "index.js", "README.md"):
        assert httpx.get(f"{app_url}live/device/wasm/{name}").status_code == 404
    assert httpx.post(f"{app_url}live/device/spec", params={"id": "face/blazeface-short"}).status_code == 404
    r = httpx.get(f"{app_url}live/device/model", params={"id": "face/blazeface-short", "file": "7"})
    assert r.status_code == 404
