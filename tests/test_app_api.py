"""The app as a client sees it: gradio_client against the app launched in this process."""
import json

import pytest
from gradio_client import Client, handle_file

from playground.ui import default_pair
from tasks import TASKS
from zoo.images import sample_image_path

APIS = list(TASKS)  # every registered task is an endpoint


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


@pytest.mark.parametrize("task", APIS)
def test_every_api_returns_both_images_results_agreement_and_latency(client, task):
    a, b = default_pair(task)
    assert a != b
    img_a, img_b, payload = client.predict(handle_file(str(sample_image_path())), a, b, api_name=f"/{task}")
    from zoo.images import load_image

    for path in (img_a, img_b):
        assert load_image(path).shape == (600, 512, 3)
    payload = payload if isinstance(payload, dict) else json.loads(payload)
    assert payload["a"]["model"] == a and payload["b"]["model"] == b
    for side in ("a", "b"):
        assert payload[side]["latency_ms"] > 0
        assert isinstance(payload[side]["result"], dict)
    agreement = payload["agreement"]
    if task in ("hands", "gesture"):  # Grace Hopper's hands are out of the picture
        assert agreement["score"] is None and agreement["summary"].startswith("nothing to compare")
    else:
        assert 0.0 <= agreement["score"] <= 1.0 and agreement["summary"]
    if task == "face":
        assert len(payload["a"]["result"]["faces"]) == 1 and len(payload["b"]["result"]["faces"]) == 1
        assert agreement["matched"] == 1 and agreement["mean_iou"] > 0.5
    if task == "segmentation":
        assert agreement["foreground_iou"] > 0.8
    if task == "pose":
        assert agreement["matched"] == 1 and agreement["mean_keypoint_distance"] < 0.1


def test_bad_input_gets_a_clear_error_and_the_app_keeps_answering(client, tmp_path):
    a, b = default_pair("face")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"this is not a png")
    with pytest.raises(Exception) as err:
        client.predict(handle_file(str(junk)), a, b, api_name="/face")
    assert "Traceback" not in str(err.value)
    with pytest.raises(Exception) as err:
        client.predict(handle_file(str(sample_image_path())), "face/no-such-model", b, api_name="/face")
    assert "unknown model 'face/no-such-model'" in str(err.value)
    with pytest.raises(Exception) as err:
        client.predict(handle_file(str(sample_image_path())), "pose/blazepose-full", b, api_name="/face")
    assert "not a face model" in str(err.value)
    # still serving, models still loaded
    img_a, img_b, payload = client.predict(handle_file(str(sample_image_path())), a, b, api_name="/face")
    assert len(payload["a"]["result"]["faces"]) == 1


def test_an_uncached_hub_model_offline_is_a_sentence_and_the_other_side_still_runs(client, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))
    # both sides failing is an error; one side failing still returns the other side's result
    img_a, img_b, payload = client.predict(handle_file(str(sample_image_path())), "face/blazeface-short",
                                           "face/yunet", api_name="/face")
    assert len(payload["a"]["result"]["faces"]) == 1
    assert "not in the local cache and the Hub is unreachable" in payload["b"]["error"]
    with pytest.raises(Exception) as err:
        client.predict(handle_file(str(sample_image_path())), "face/yunet", "face/yunet", api_name="/face")
    assert "not in the local cache and the Hub is unreachable" in str(err.value)


def test_a_hub_models_first_use_shows_its_download_and_then_runs(client, fake_hub):
    """The page's progress bar follows the download, byte by byte, then the model runs."""
    import time

    from tests.fakehub import FakeRepo
    from tests.tinymodels import padded_onnx, yunet_onnx
    from zoo.cache import MODELS
    from zoo.registry import get_spec

    spec = get_spec("face/yunet")
    blob = padded_onnx(yunet_onnx(spec.input_size), 24)  # huggingface_hub counts in 10 MB chunks
    fake_hub.add(spec.source.repo_id, FakeRepo({spec.source.filename: blob}))
    fake_hub.file_seconds = 3.0
    name = f"{spec.source.repo_id}/{spec.source.filename}"
    try:
        job = client.submit(handle_file(str(sample_image_path())), "face/blazeface-short", "face/yunet",
                            api_name="/face")
        seen = set()
        while not job.done():
            for unit in job.status().progress_data or ():
                seen.add((unit.desc, unit.progress))
            time.sleep(0.05)
        img_a, img_b, payload = job.result()
        assert "result" in payload["b"], payload["b"]
        assert ("loading face/yunet (first use)…", 0.0) in seen or (f"fetching {name}", 0.0) in seen, seen
        during = sorted(p for d, p in seen if d and d.startswith(f"downloading {name}:") and p is not None)
        assert during and 0.0 < during[0] < 1.0, seen  # seen while the bytes arrived, not only at the end
        assert any(d.endswith(f"of {len(blob) / 2**20:.1f} MiB") for d, _ in seen if d and d.startswith("downl"))
    finally:
        MODELS.discard("face/yunet")
