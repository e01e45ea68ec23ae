"""The Hub path, offline: a local server plays the Hub; the real huggingface_hub code downloads from it."""
import errno
import json
import os
import subprocess
import sys

import pytest

from playground.engine import predict
from pathlib import Path

from tasks import TASKS, face, hub_spec
from tests.conftest import REPO
from tests.fakehub import FakeRepo, commit_of
from tests.tinymodels import movenet_onnx, posenet_onnx, pphumanseg_onnx, tiny_segmentation_repo, yunet_onnx
from zoo import hub
from zoo.cache import ModelCache
from zoo.errors import HubError, RefusedModelError, ZooError
from playground.cli import resolve
from zoo.registry import get_spec, offline_available
from zoo.specs import HubSource, ModelSpec

C1, C2 = commit_of("first"), commit_of("second")


# the family whose pipeline and thresholds a tiny test model borrows
FAMILY = {"yunet": "face/yunet", "posenet": "pose/posenet-mobilenet", "movenet": "pose/movenet-lightning",
          "pphumanseg": "segmentation/pphumanseg"}


def _spec(model_id, task, runtime, decoder, repo, filename, revision, size=None, labels=(), **kw):
    family = get_spec(FAMILY[decoder])
    return ModelSpec(id=model_id, task=task, name=model_id, runtime=runtime, pipeline=family.pipeline,
                     thresholds=family.thresholds,
                     source=HubSource(repo, filename, revision, revision_is_commit=len(revision) == 40, **kw),
                     input_size=size, labels=labels, license="test", reference="https://example.org")


ONNX_CASES = [
    ("face/tiny-yunet", "face", "yunet", yunet_onnx((64, 64)), (64, 64), ()),
    ("pose/tiny-posenet", "pose", "posenet", posenet_onnx((33, 65)), (33, 65), ()),
    ("pose/tiny-movenet", "pose", "movenet", movenet_onnx(), (192, 192), ()),
    ("segmentation/tiny-pphumanseg", "segmentation", "pphumanseg", pphumanseg_onnx(), (192, 192),
     ("background", "person")),
]


@pytest.mark.parametrize("model_id,task,decoder,blob,size,labels", ONNX_CASES, ids=[c[0] for c in ONNX_CASES])
def test_onnx_families_download_run_and_return_results_in_the_frame(fake_hub, grace, model_id, task, decoder,
                                                                    blob, size, labels):
    fake_hub.add("acme/tiny", FakeRepo({"m.onnx": blob}, commit=C1))
    spec = _spec(model_id, task, "onnxruntime", decoder, "acme/tiny", "m.onnx", C1, size, labels)
    assert not offline_available(spec)
    res = predict(spec, grace, cache=ModelCache(2)).result
    assert isinstance(res, TASKS[task].result_type)
    h, w = grace.shape[:2]
    if task == "segmentation":
        assert res.shape == (h, w) and 0.3 < res.coverage["person"] < 0.7
    else:
        assert len(res) == 1
        x0, y0, x1, y1 = res.items[0].box
        assert 0 <= x0 <= x1 <= w and 0 <= y0 < y1 <= h
    assert offline_available(spec), "cached after the first use"
    TASKS[task].annotate(grace, res)


def test_cache_is_reused_with_the_server_stopped(fake_hub, grace):
    fake_hub.add("acme/yunet", FakeRepo({"m.onnx": yunet_onnx((64, 64))}, commit=C1))
    spec = _spec("face/y", "face", "onnxruntime", "yunet", "acme/yunet", "m.onnx", C1, (64, 64))
    first = predict(spec, grace, cache=ModelCache(2)).result
    assert fake_hub.downloads("m.onnx") == 1
    fake_hub.stop()
    again = predict(spec, grace, cache=ModelCache(2)).result  # a fresh process-level cache: loads from disk
    assert again.to_json() == first.to_json()


def test_offline_uncached_model_says_so_in_one_sentence(fake_hub, grace, monkeypatch):
    fake_hub.add("acme/yunet", FakeRepo({"m.onnx": yunet_onnx((64, 64))}, commit=C1))
    spec = _spec("face/y", "face", "onnxruntime", "yunet", "acme/yunet", "m.onnx", C1, (64, 64))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ZooError, match="is not in the local cache and the Hub is unreachable"):
        predict(spec, grace, cache=ModelCache(2))
    monkeypatch.delenv("HF_HUB_OFFLINE")
    fake_hub.stop()  # down, not just offline: the same sentence
    with pytest.raises(ZooError, match="is not in the local cache and the Hub is unreachable"):
        predict(spec, grace, cache=ModelCache(2))


def test_first_use_reports_the_download_and_a_model_that_cannot_load_is_one_sides_error(fake_hub, grace,
                                                                                      monkeypatch, tmp_path):
    from playground.pair import predict_pair
    from zoo.cache import MODELS

    spec = get_spec("face/yunet")  # the registry's own entry, served under its real repo and file names
    fake_hub.add(spec.source.repo_id, FakeRepo({spec.source.filename: yunet_onnx(spec.input_size)}))
    seen = []
    try:
        a, b, payload = predict_pair("face", grace, "face/blazeface-short", "face/yunet",
                                     progress=lambda f, d: seen.append((f, d)))
        faces = payload["b"]["result"]["faces"]  # the tiny model's one face: cell (3, 4) of stride 8
        assert len(faces) == 1
        scale = 640 / max(grace.shape[:2])  # letterboxed into 640x640
        x0, y0, x1, y1 = faces[0]["box"]
        assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx((36 / scale, 28 / scale), abs=1.0)
        assert (0.0, "loading face/yunet (first use)…") in seen
        assert any(d == f"fetching {spec.source.repo_id}/{spec.source.filename}" for _, d in seen), seen
        seen.clear()
        predict_pair("face", grace, "face/blazeface-short", "face/yunet", progress=lambda f, d: seen.append(d))
        assert seen == [], "loaded once, then reused"
    finally:
        MODELS.discard("face/yunet")
    # offline with an empty cache: B is a sentence, A still runs
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))
    a, b, payload = predict_pair("face", grace, "face/blazeface-short", "face/yunet")
    assert a.prediction is not None and "not in the local cache" in b.error and "error" in payload["b"]


def test_error_sentences(fake_hub):
    fake_hub.add("acme/tiny", FakeRepo({"m.onnx": b"x"}, commit=C1))
    fake_hub.add("acme/gated", FakeRepo({"m.onnx": b"x"}, commit=C1, gated=True))
    cases = [
        (("acme/missing", "m.onnx", None), "no such model on the Hub"),
        (("acme/tiny", "other.onnx", None), "file 'other.onnx' not found"),
        (("acme/tiny", "m.onnx", "v9"), "revision 'v9' not found"),
        (("acme/gated", "m.onnx", None), "is gated"),
    ]
    for args, sentence in cases:
        with pytest.raises(HubError, match=sentence):
            hub.download(*args)
    with pytest.raises(RefusedModelError, match="not a Hub model id"):
        hub.download("../etc/passwd", "m.onnx")
    full = OSError(errno.ENOSPC, "No space left on device")
    assert "not enough disk space" in str(hub.explain(full, "acme/tiny", None, "m.onnx"))

    class ReadTimeout(Exception):
        pass

    assert "did not answer in time" in str(hub.explain(ReadTimeout(), "acme/tiny"))


def test_pinned_revision_is_honoured(fake_hub):
    fake_hub.add("acme/moving", FakeRepo({"m.onnx": b"new weights"}, commit=C2, branches={"main": C2}))
    path_main = hub.download("acme/moving", "m.onnx", "main")
    assert path_main.read_bytes() == b"new weights" and C2 in str(path_main)
    # the server now answers the pinned old commit with the old content; main still moves on
    fake_hub.add("acme/moving", FakeRepo({"m.onnx": b"old weights"}, commit=C1, branches={"main": C2}))
    path_old = hub.download("acme/moving", "m.onnx", C1)
    assert path_old.read_bytes() == b"old weights" and C1 in str(path_old)


def test_download_cap_refuses_big_files(fake_hub, monkeypatch):
    fake_hub.add("acme/big", FakeRepo({"m.onnx": b"x" * 5000}, commit=C1))
    monkeypatch.setenv("ZOO_MAX_DOWNLOAD_BYTES", "1000")
    with pytest.raises(RefusedModelError, match="download cap"):
        hub.download("acme/big", "m.onnx", C1)
    assert fake_hub.downloads("m.onnx") == 0


# --- bring your own model -------------------------------------------------------------------------
@pytest.fixture
def seg_repo(tmp_path_factory):
    return tiny_segmentation_repo(tmp_path_factory.mktemp("seg"))


def _seg(files, **kw):
    cfg = json.loads(files["config.json"])
    return FakeRepo(files, commit=C1, pipeline_tag="image-segmentation", library_name="transformers",
                    config={"architectures": cfg["architectures"], "model_type": cfg["model_type"],
                            "id2label": cfg["id2label"]}, **kw)


def test_byo_segmentation_model_is_accepted_and_runs(fake_hub, seg_repo, grace):
    fake_hub.add("acme/tiny-seg", _seg(seg_repo))
    spec = hub_spec("acme/tiny-seg", task="segmentation")
    assert spec.id == "hf:acme/tiny-seg" and spec.task == "segmentation"
    assert spec.source.revision == C1, "pinned to the commit the Hub reported"
    res = predict(spec, grace, cache=ModelCache(2)).result
    assert res.shape == grace.shape[:2] and set(res.labels) == {"background", "person"}
    assert resolve("hf:acme/tiny-seg") == spec


def test_byo_via_the_cli_runs_and_then_works_offline(fake_hub, seg_repo, tmp_path):
    fake_hub.add("acme/tiny-seg", _seg(seg_repo))
    from zoo.images import sample_image_path

    env = {**os.environ}
    cmd = [sys.executable, "-m", "zoo", "run", f"hf:acme/tiny-seg@{C1}", str(sample_image_path())]
    p = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["model"] == f"hf:acme/tiny-seg@{C1}" and set(out["result"]) == {"labels", "coverage"}
    fake_hub.stop()
    p = subprocess.run(cmd, cwd=REPO, env={**env, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("case,sentence", [
    ("pickles", "weights only as pickles"),
    ("remote_code", "custom code"),
    ("too_big", "over the"),
    ("wrong_task", "this tab needs image-segmentation"),
    ("instance", "instance/panoptic"),
])
def test_byo_refusals(fake_hub, seg_repo, monkeypatch, case, sentence):
    files = dict(seg_repo)
    repo = _seg(files)
    if case == "pickles":
        repo.files = {"config.json": files["config.json"], "pytorch_model.bin": b"\x80\x04pickle"}
    elif case == "remote_code":
        repo.config = {**repo.config, "auto_map": {"AutoModel": "modeling_x.MyModel"}}
    elif case == "too_big":
        monkeypatch.setenv("ZOO_MAX_DOWNLOAD_BYTES", "1000")
    elif case == "wrong_task":
        repo.pipeline_tag = "image-classification"
    elif case == "instance":
        repo.config = {**repo.config, "architectures": ["Mask2FormerForUniversalSegmentation"]}
    fake_hub.add("acme/candidate", repo)
    with pytest.raises(RefusedModelError, match=sentence):
        hub_spec("acme/candidate", task="segmentation")
    assert fake_hub.downloads("model.safetensors") == 0, "nothing is downloaded for a refused model"


def test_byo_malformed_missing_and_gated(fake_hub, seg_repo):
    for bad in ("not an id", "a/b/c", "hf:", "owner/na me", "x/..y"):
        with pytest.raises(RefusedModelError):
            hub_spec(bad, task="segmentation")
    with pytest.raises(HubError, match="no such model"):
        hub_spec("acme/absent", task="segmentation")
    fake_hub.add("acme/gated-seg", _seg(seg_repo, gated=True))
    with pytest.raises(HubError, match="gated"):
        hub_spec("acme/gated-seg", task="segmentation")


def test_byo_face_detector_needs_a_face_label(fake_hub):
    fake_hub.add("acme/detr", FakeRepo({"model.safetensors": b"x", "config.json": b"{}"}, commit=C1,
                                       pipeline_tag="object-detection", library_name="transformers",
                                       config={"architectures": ["DetrForObjectDetection"],
                                               "id2label": {"0": "cat", "1": "dog"}}))
    with pytest.raises(RefusedModelError, match="needs a detector with a 'face' label"):
        hub_spec("acme/detr", task="face")
    fake_hub.add("acme/face-detr", FakeRepo({"model.safetensors": b"x", "config.json": b"{}"}, commit=C1,
                                            pipeline_tag="object-detection", library_name="transformers",
                                            config={"architectures": ["DetrForObjectDetection"],
                                                    "id2label": {"0": "background", "1": "face"}}))
    spec = hub_spec("acme/face-detr", task="face")
    assert spec.pipeline is face.HF_DETECTION and spec.options["target_labels"] == [1]


def test_lock_rewrites_tags_to_commits_in_the_module_that_registered_each_entry(tmp_path):
    import importlib

    from playground.cli import lock_registry
    from zoo.hub_registry import hub_entries
    from zoo.registry import registered_in

    unpinned = [(s, src) for s in hub_entries() for src in s.hub_sources() if not src.revision_is_commit]
    assert unpinned, "nothing to lock"
    copies = {}
    for spec, _ in unpinned:  # each family's module, copied: the lock rewrites the copies
        module = registered_in(spec.id)
        copies[module] = tmp_path / f"{module}.py"
        copies[module].write_text(Path(importlib.import_module(module).__file__).read_text())
    changed = lock_registry(resolve=lambda repo, rev: commit_of(repo), where=copies.__getitem__)
    assert len(changed) == len(unpinned) and {c[0] for c in changed} == {s.id for s, _ in unpinned}
    for spec, src in unpinned:
        text = copies[registered_in(spec.id)].read_text()
        assert f'"{commit_of(src.repo_id)}", revision_is_commit=True' in text
        compile(text, "copy", "exec")


def test_byo_image_classifier_becomes_a_gesture_model_over_hand_crops(fake_hub, tmp_path):
    import torch
    from transformers import MobileNetV2Config, MobileNetV2ForImageClassification, MobileNetV2ImageProcessor

    from tests.conftest import media_image

    rgb = media_image("COCO_val2014_000000000428.jpg")  # a raised hand and a hand holding icing
    torch.manual_seed(0)
    labels = {0: "thumbs", 1: "wave"}
    model = MobileNetV2ForImageClassification(MobileNetV2Config(
        image_size=64, depth_multiplier=0.35, num_labels=2, id2label=labels,
        label2id={v: k for k, v in labels.items()})).eval()
    folder = tmp_path / "clf"
    model.save_pretrained(folder, safe_serialization=True)
    MobileNetV2ImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64}).save_pretrained(folder)
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    fake_hub.add("acme/hand-clf", FakeRepo(files, commit=C1, pipeline_tag="image-classification",
                                           library_name="transformers",
                                           config={"architectures": ["MobileNetV2ForImageClassification"],
                                                   "id2label": {str(k): v for k, v in labels.items()}}))
    spec = hub_spec("acme/hand-clf", task="gesture")
    assert spec.task == "gesture" and spec.runtime == "hand_crop_classifier"
    res = predict(spec, rgb, cache=ModelCache(2)).result
    assert isinstance(res, TASKS["gesture"].result_type) and len(res.hands) >= 1
    assert all(h.gesture.label in labels.values() for h in res.hands)
