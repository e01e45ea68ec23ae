"""The gesture lab: train heads on samples, export, load back, refuse bad data."""
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from playground.engine import predict
from tasks import gesture_lab as lab
from tasks.hands import Hand
from tests.conftest import MEDIA, REPO
from tests.handgen import fingers, make_hand
from playground.cli import resolve
from tasks.gesture_lab import spec_for_file
from zoo.local import TeachError, read_metadata

SHAPES = {"fist": fingers(), "palm": fingers(True, True, True, True, True), "peace": fingers(index=True, middle=True)}


def _samples(n_per_class=12, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for label, ext in SHAPES.items():
        for i in range(n_per_class):
            pts = make_hand(ext, rotate_deg=rng.uniform(-20, 20), scale=rng.uniform(60, 200),
                            center=rng.uniform(150, 450, 2), noise=0.03, rng=rng)
            side = "Left" if i % 2 else "Right"
            if side == "Left":
                pts[:, 0] = 640 - pts[:, 0]  # a left hand is the mirror image of a right one
            hand = Hand(box=(0, 0, 1, 1), score=0.9, handedness=side, keypoints=tuple(map(tuple, pts)))
            out.append(lab.Sample(label, np.zeros((8, 8, 3), np.uint8), hand, name=f"{label}/{i}"))
    return out


def test_landmark_head_separates_constructed_gestures():
    model = lab.train(_samples(), head="landmark")
    assert model.classes == ("fist", "palm", "peace")
    assert model.n_test >= 6 and model.accuracy >= 0.8  # chance is 1/3
    assert model.confusion.sum() == model.n_test
    fresh = make_hand(SHAPES["fist"], rotate_deg=5, scale=150, center=(300, 300))
    probs = model.predict_proba(lab.landmark_features(fresh, "Right"))
    assert model.classes[int(np.argmax(probs))] == "fist"


def test_landmark_features_normalise_position_scale_and_handedness():
    pts = make_hand(SHAPES["peace"], scale=100, center=(200, 200))
    moved = make_hand(SHAPES["peace"], scale=250, center=(500, 100))
    assert np.allclose(lab.landmark_features(pts, "Right"), lab.landmark_features(moved, "Right"), atol=1e-4)
    mirrored = pts.copy()
    mirrored[:, 0] = 640 - mirrored[:, 0]
    assert np.allclose(lab.landmark_features(pts, "Right"), lab.landmark_features(mirrored, "Left"), atol=1e-4)


def test_export_loads_back_with_the_same_predictions(tmp_path):
    import onnxruntime as ort

    samples = _samples()
    model = lab.train(samples, head="landmark")
    path = tmp_path / "mine.onnx"
    path.write_bytes(lab.to_onnx(model))
    meta = read_metadata(path)
    assert meta["classes"] == list(model.classes) and meta["head"] == "landmark"
    feats = np.stack([lab.landmark_features(np.array(s.hand.keypoints), s.hand.handedness) for s in samples])
    onnx_probs = ort.InferenceSession(str(path)).run(["probabilities"], {"features": feats})[0]
    assert np.allclose(onnx_probs, model.predict_proba(feats), atol=1e-5)
    spec = spec_for_file(f"file:{path}")
    assert spec.task == "gesture" and spec.labels == model.classes


@pytest.mark.media
def test_an_exported_head_runs_as_a_zoo_model_on_a_photo(tmp_path):
    path = tmp_path / "mine.onnx"
    path.write_bytes(lab.to_onnx(lab.train(_samples(), head="landmark")))
    rgb = np.asarray(Image.open(MEDIA / "COCO_val2014_000000000428.jpg").convert("RGB"))
    res = predict(resolve(f"file:{path}"), rgb).result
    assert len(res.hands) >= 1 and all(h.gesture.label in SHAPES for h in res.hands)


def test_bad_data_gets_clear_messages(tmp_path):
    with pytest.raises(TeachError, match="at least 2 classes"):
        lab.train([s for s in _samples() if s.label == "fist"], head="landmark")
    with pytest.raises(TeachError, match="unknown head"):
        lab.train(_samples(), head="magic")
    no_hand = [lab.Sample("fist", np.full((64, 64, 3), 128, np.uint8), name="fist/blank.png")] * 3
    palms = [s for s in _samples() if s.label == "palm"]
    with pytest.raises(TeachError, match="class 'fist' has no usable samples"):
        lab.train(no_hand + palms, head="landmark")
    data = tmp_path / "data"
    (data / "empty").mkdir(parents=True)
    (data / "junk").mkdir()
    (data / "junk" / "notes.txt").write_text("not an image")
    samples, problems = lab.load_folder(data)
    assert samples == [] and "class 'empty' is empty" in problems
    assert any("skipped junk/notes.txt" in p for p in problems)
    with pytest.raises(TeachError):
        lab.train(samples, head="landmark", problems=problems)
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"nope")
    with pytest.raises(TeachError, match="not an ONNX file"):
        spec_for_file(f"file:{bad}")


# --- the image head, on a tiny random-weight MobileNetV2 served by the local test Hub ------------------
@pytest.fixture
def tiny_backbone_hub(tmp_path, monkeypatch):
    import torch
    from transformers import MobileNetV2Config, MobileNetV2ForImageClassification, MobileNetV2ImageProcessor

    from tests.fakehub import FakeHub, FakeRepo, commit_of

    torch.manual_seed(0)
    folder = tmp_path / "backbone"
    cfg = MobileNetV2Config(image_size=64, depth_multiplier=0.35, num_labels=3)
    model = MobileNetV2ForImageClassification(cfg).eval()
    for m in model.modules():  # He init: with transformers' small-normal init the random features vanish
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    model.save_pretrained(folder, safe_serialization=True)
    MobileNetV2ImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64}).save_pretrained(folder)
    server = FakeHub().start()
    server.add("acme/tiny-mobilenet", FakeRepo({p.name: p.read_bytes() for p in folder.iterdir()},
                                               commit=commit_of("bb"), pipeline_tag="image-classification",
                                               library_name="transformers"))
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    yield "acme/tiny-mobilenet"
    server.stop()


def _blobs(color, n, rng):
    out = []
    for i in range(n):
        img = np.clip(rng.normal(60, 25, (64, 64, 3)), 0, 255)
        x, y = rng.integers(4, 30, 2)
        img[y:y + 30, x:x + 30] = color  # a coloured square somewhere: easy for any embedding
        out.append(img.astype(np.uint8))
    return out


def test_image_head_beats_chance_on_held_out_images(tiny_backbone_hub):
    rng = np.random.default_rng(1)
    samples = [lab.Sample("red", im, name=f"red/{i}") for i, im in enumerate(_blobs((250, 20, 20), 12, rng))]
    samples += [lab.Sample("blue", im, name=f"blue/{i}") for i, im in enumerate(_blobs((20, 20, 250), 12, rng))]
    model = lab.train(samples, head="image", backbone=tiny_backbone_hub)
    assert model.backbone == tiny_backbone_hub and model.n_test >= 4
    assert model.accuracy > 0.5
    meta_bytes = lab.to_onnx(model)
    assert b"acme/tiny-mobilenet" in meta_bytes


def test_image_head_without_its_backbone_offers_the_landmark_head(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty"))
    with pytest.raises(TeachError, match="landmark head works offline"):
        lab.train(_samples(), head="image")


# --- the CLI, on real photos -----------------------------------------------------------------------
@pytest.mark.media
def test_teach_cli_trains_from_a_folder_of_photos(tmp_path):
    data = tmp_path / "data"
    sources = {"raised": "COCO_val2014_000000000428.jpg", "reaching": "COCO_val2014_000000000294.jpg"}
    for label, name in sources.items():
        (data / label).mkdir(parents=True)
        img = Image.open(MEDIA / name).convert("RGB")
        for i in range(6):  # crops that keep the hands in view
            dx, dy = 6 * i, 4 * i
            img.crop((dx, dy, img.width - 30 + dx, img.height - 20 + dy)).save(data / label / f"{i}.jpg")
    (data / "raised" / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "mine.onnx"
    p = subprocess.run([sys.executable, "-m", "zoo", "teach", "--data", str(data), "--head", "landmark",
                        "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "held-out accuracy" in p.stdout and out.is_file()
    assert "skipped raised/broken.jpg" in p.stderr
    run = subprocess.run([sys.executable, "-m", "zoo", "run", f"file:{out}", str(MEDIA / sources["raised"])],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    hands = json.loads(run.stdout)["result"]["hands"]
    assert hands and {h["gesture"]["label"] for h in hands} <= set(sources)


def test_teach_cli_refuses_one_class(tmp_path):
    (tmp_path / "only").mkdir()
    Image.new("RGB", (32, 32)).save(tmp_path / "only" / "a.png")
    p = subprocess.run([sys.executable, "-m", "zoo", "teach", "--data", str(tmp_path), "--out",
                        str(tmp_path / "x.onnx")], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1 and "at least 2 classes" in p.stderr and "Traceback" not in p.stderr
