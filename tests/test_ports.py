"""The project's LiteRT ports of MediaPipe's graphs: the same answers as MediaPipe's own graph (where the
optional mediapipe package is installed), stream mode that follows and smooths, and the pieces they share."""
from __future__ import annotations

import numpy as np
import pytest

from bench.parity import compare, scaled
from models import blaze
from tasks.base import infer
from tasks.geometry import letterbox
from zoo.registry import get_spec, offline_available, registered
from zoo.runtimes import runtime

BUNDLED = [s for s in registered() if s.bundled]
PORTS = [s.reference_of for s in BUNDLED if s.reference_of]


@pytest.fixture(scope="module")
def photo640(grace):
    return scaled(grace)


@pytest.mark.parametrize("model_id", PORTS)
def test_the_port_gives_mediapipes_answer(model_id, photo640):
    """At 640 wide: the same count, boxes IoU >= 0.9, landmarks within 2 px on average, masks IoU >= 0.95
    (bench.parity measures the same on more images and videos)."""
    port, graph = get_spec(model_id), get_spec(f"{model_id}-graph")  # the reference exists only with mediapipe
    if not offline_available(graph):
        pytest.skip("mediapipe (the optional reference) is not installed")
    a, _ = infer(port, photo640)
    b, _ = infer(graph, photo640)
    c = compare(a.filter(port.thresholds.score), b.filter(graph.thresholds.score))
    assert c["same_count"]
    if "mask_iou" in c:
        assert c["mask_iou"] >= 0.95
    else:
        assert all(iou >= 0.9 for iou in c["ious"]), c
        assert all(d <= 2.0 for d in c["dists"]), c


def test_references_are_offered_only_with_their_runtime():
    from zoo.registry import all_specs

    offered = {s.id for s in all_specs()}
    for spec in BUNDLED:
        if spec.reference_of:
            assert (spec.id in offered) == runtime(spec.runtime).installed()
            assert spec.reference_of in offered


@pytest.mark.parametrize("model_id", ["face/facemesh", "hands/mediapipe-full", "pose/blazepose-full"])
def test_stream_mode_follows_the_landmarks_and_skips_the_detector(model_id, photo640):
    from tests.conftest import media_image
    from zoo.cache import resolve_path

    spec = get_spec(model_id)
    # hands: a man in a suit with one hand in sight (../shared/media; skipped without it)
    frame = scaled(media_image("COCO_val2014_000000000459.jpg")) if spec.task == "hands" else photo640
    runner = runtime(spec.runtime).load_stream(spec, resolve_path(spec))
    first, _ = infer(spec, frame, runner=runner)
    assert len(first) >= 1
    calls = []
    detector = runner.detector
    runner.detector = lambda x: calls.append(1) or detector(x)
    again = [infer(spec, frame, runner=runner)[0] for _ in range(3)]
    assert calls == [], "a followed instance needs no detector run"
    static, _ = infer(spec, frame)
    for res in again:
        assert len(res) == len(static)
        if spec.task == "pose":  # the face and shoulders (in sight); the rest of grace_hopper's body is not
            a, b = (np.array([(k.x, k.y) for k in r.people[0].keypoints[:13]]) for r in (res, static))
            assert np.linalg.norm(a - b, axis=1).mean() < 0.03 * frame.shape[1]
        else:
            c = compare(res, static)
            assert min(c["ious"]) > 0.8 and max(c["dists"]) < 0.03 * frame.shape[1], c


def test_one_euro_steadies_noise_and_follows_a_move():
    rng = np.random.default_rng(1)
    f = blaze.OneEuro()
    raw = 100.0 + rng.normal(0, 2, (60, 1, 2))
    still = [f(raw[i], i / 30, 500.0) for i in range(60)]
    assert np.std(np.array(still)[20:, 0, 0]) < 0.75 * np.std(raw[20:, 0, 0]), "a still subject's noise is damped"
    moved = [f(np.array([[200.0, 100.0]]), (60 + i) / 30, 500.0) for i in range(15)]
    assert abs(moved[-1][0, 0] - 200.0) < 5.0, "a real move is followed within half a second"


def test_even_padding_maps_points_and_boxes_back():
    rgb = np.zeros((100, 300, 3), np.uint8)
    img, lb = letterbox(rgb, (150, 150), centre=True)
    assert lb.pad == (0.0, 50.0) and img.shape == (150, 150, 3)
    np.testing.assert_allclose(lb.to_frame(np.array([[75.0, 75.0]])), [[150.0, 50.0]])
    np.testing.assert_allclose(lb.to_frame(np.array([[0.0, 50.0, 150.0, 100.0]])), [[0.0, 0.0, 300.0, 100.0]])
    warped, lb2 = blaze.fit(rgb, 150)
    assert lb2.pad == (0.0, 50.0) and lb2.scale == 0.5


def test_weighted_nms_averages_a_cluster_above_the_reference_threshold():
    scores = np.array([0.9, 0.6, 0.2, 0.8], np.float32)
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [2, 2, 12, 12], [50, 50, 60, 60]], np.float32)
    kps = boxes[:, None, :2].copy()
    out = blaze.weighted_nms(scores, boxes, kps, 0.3, merge_min=0.5)
    assert [round(s, 2) for s, _, _ in out] == [0.9, 0.8]
    np.testing.assert_allclose(out[0][1], (0.9 * boxes[0] + 0.6 * boxes[1]) / 1.5, rtol=1e-5)  # 0.2 not averaged
