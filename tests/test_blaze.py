"""MediaPipe's two-stage ONNX models (OpenCV Zoo): anchors, SSD decoding, rotated regions, and the registry
entries end to end on tiny graphs served by the fake Hub."""
import math

import numpy as np
import pytest

from playground.engine import predict
from models import blaze
from tasks.geometry import Letterbox
from tasks.hands import HandsResult
from tasks.pose import BLAZEPOSE_NAMES, PoseResult
from tests.fakehub import FakeRepo
from tests.tinymodels import hand_landmark_onnx, palm_detector_onnx, person_detector_onnx, pose_landmark_onnx
from zoo.cache import ModelCache
from zoo.registry import get_spec, offline_available


def test_anchor_counts_and_order_match_mediapipe_configs():
    palm = blaze.ssd_anchors(192, (8, 16, 16, 16))
    person = blaze.ssd_anchors(224, (8, 16, 32, 32, 32))
    assert len(palm) == 24 * 24 * 2 + 12 * 12 * 6 == 2016
    assert len(person) == 28 * 28 * 2 + 14 * 14 * 2 + 7 * 7 * 6 == 2254
    np.testing.assert_allclose(palm[0], palm[1])  # two anchors per cell, together
    np.testing.assert_allclose(palm[:3], [[1 / 48, 1 / 48]] * 2 + [[3 / 48, 1 / 48]], atol=1e-6)
    np.testing.assert_allclose(palm[1152], [1 / 24, 1 / 24], atol=1e-6)  # the 16-stride grid starts here
    np.testing.assert_allclose(palm[1152:1158], [[1 / 24, 1 / 24]] * 6, atol=1e-6)  # 3 layers x 2 share it
    np.testing.assert_allclose(person[-1], [13 / 14, 13 / 14], atol=1e-6)


def _palm_hits(anchor=504, logit=4.0):
    # anchor 504 = cell (row 10, col 12) of the 24x24 grid: centre (100, 84) in 192-pixel input
    row = [2, -3, 40, 30] + [0, 0] * 7
    row[4:6] = [2, 7]  # wrist, below the centre
    row[8:10] = [2, -13]  # middle-finger base, above it: the hand points up
    return {anchor: (logit, row), anchor + 1: (logit - 1, row)}


def test_ssd_hit_decodes_to_its_box_and_duplicates_are_suppressed():
    out = blaze.ssd_anchors(192, (8, 16, 16, 16))
    raw = {"regressors": np.zeros((1, 2016, 18)), "scores": np.full((1, 2016, 1), -10.0)}
    for i, (logit, row) in _palm_hits().items():
        raw["regressors"][0, i] = row
        raw["scores"][0, i, 0] = logit
    dets = blaze.decode_ssd(raw["regressors"][0], raw["scores"][0, :, 0], out, 192, 7)
    assert len(dets) == 1, "the weaker copy of the same box goes"
    score, box, kps = dets[0]
    assert score == pytest.approx(1 / (1 + math.exp(-4)), rel=1e-4)
    np.testing.assert_allclose(box, [82, 66, 122, 96], atol=1e-4)
    np.testing.assert_allclose(kps[0], [102, 91], atol=1e-4)
    # through a letterbox that halved the frame, the same hit lands at twice the coordinates
    frame = blaze.detect(raw, Letterbox(0.5, 400, 400), 192, (8, 16, 16, 16), 7)
    np.testing.assert_allclose(frame[0].box, [164, 132, 244, 192], atol=1e-3)
    assert blaze.decode_ssd(raw["regressors"][0], raw["scores"][0, :, 0] - 20, out, 192, 7) == []


def test_rotation_points_the_line_up():
    assert blaze.rotation((0, 10), (0, 0)) == pytest.approx(0.0)  # already pointing up
    assert blaze.rotation((0, 0), (10, 0)) == pytest.approx(math.pi / 2)  # pointing right: turn 90 degrees
    assert blaze.rotation((0, 0), (-10, 0)) == pytest.approx(-math.pi / 2)
    assert abs(blaze.rotation((0, 0), (0, 10))) == pytest.approx(math.pi)  # pointing down


def test_roi_maps_crop_to_frame_and_back():
    roi = blaze.Roi(cx=200, cy=150, side=100, angle=math.pi / 2)
    pts = roi.to_frame(np.array([[112, 112], [112, 0], [0, 112]]), 224)
    np.testing.assert_allclose(pts[0], [200, 150], atol=1e-4)  # centre to centre
    np.testing.assert_allclose(pts[1], [250, 150], atol=1e-4)  # the crop's top is the frame's right
    np.testing.assert_allclose(pts[2], [200, 100], atol=1e-4)
    # cutting the crop really shows that: a bright dot right of the centre appears at the crop's top
    frame = np.zeros((300, 400, 3), np.uint8)
    frame[148:153, 228:233] = 255  # at (230, 150)
    crop = roi.cut(frame, 224)
    ys, xs = np.nonzero(crop[..., 0] > 100)
    back = roi.to_frame(np.array([[xs.mean(), ys.mean()]]), 224)[0]
    np.testing.assert_allclose(back, [230, 150], atol=1.0)
    assert ys.mean() < 112 and abs(xs.mean() - 112) < 2


def test_palm_and_person_regions_follow_mediapipe_rules():
    palm = blaze.Detection(0.9, np.array([100, 100, 140, 130.0]),
                           np.array([[120, 130], [0, 0], [120, 100], [0, 0], [0, 0], [0, 0], [0, 0.0]]))
    roi = blaze.palm_roi(palm)
    assert (roi.cx, roi.cy) == pytest.approx((120, 115 - 15))  # half the palm's height towards the fingers
    assert roi.side == pytest.approx(40 * 2.6) and roi.angle == pytest.approx(0.0)
    person = blaze.Detection(0.9, np.zeros(4), np.array([[100, 200], [100, 100], [0, 0], [0, 0.0]]))
    roi = blaze.person_roi(person)
    assert (roi.cx, roi.cy, roi.side, roi.angle) == pytest.approx((100, 200, 250, 0.0))


HAND_POINTS = np.tile([112.0, 112.0, 0.0], (21, 1))
HAND_POINTS[0] = [112, 212, 0]  # wrist low in the crop
HAND_POINTS[12] = [112, 12, 0]  # middle fingertip high


def _serve(fake_hub, spec, first: bytes, second: bytes):
    src = spec.source
    fake_hub.add(src.repo_id, FakeRepo({src.filename: first, src.extra_files[0]: second}))


@pytest.mark.parametrize("presence,right,expect", [(0.95, 0.9, "Left"), (0.95, 0.1, "Right"), (0.2, 0.9, None)])
def test_registry_hand_cascade_end_to_end(fake_hub, grace, presence, right, expect):
    spec = get_spec("hands/mediapipe-onnx")
    _serve(fake_hub, spec, palm_detector_onnx(_palm_hits()), hand_landmark_onnx(HAND_POINTS, presence, right))
    assert not offline_available(spec)
    res = predict(spec, grace, cache=ModelCache(1)).result
    assert isinstance(res, HandsResult)
    assert offline_available(spec), "both files cached"
    if expect is None:
        assert len(res) == 0, "a crop whose hand presence is low is no hand"
        return
    assert len(res) == 1
    hand = res.hands[0]
    # grace is 512 wide, 600 high: the 192 letterbox scale is 0.32, padded evenly left and right (MediaPipe's
    # way). The palm (centre (102, 81), 40x30 in the input) -> region centre moved up half a palm, side 2.6 x
    # the palm's width, upright.
    s = 192 / 600
    pad = (192 - 512 * s) / 2
    cx, cy, side = (102 - pad) / s, 81 / s - 15 / s, 40 / s * 2.6
    kps = np.array(hand.keypoints)
    np.testing.assert_allclose(kps[5, :2], [cx, cy], atol=0.5)
    np.testing.assert_allclose(kps[0, :2], [cx, cy + 100 * side / 224], atol=0.5)
    np.testing.assert_allclose(kps[12, :2], [cx, cy - 100 * side / 224], atol=0.5)
    assert hand.handedness == expect and hand.score == pytest.approx(presence, abs=1e-6)


def test_registry_pose_cascade_end_to_end(fake_hub, grace):
    spec = get_spec("pose/mediapipe-onnx")
    row = [0, 0, 60, 120, 0, 20, 0, -40, 0, 0, 0, 0]  # hips 20 px below the anchor, full-body point 40 above
    points = np.tile([128.0, 128.0, 0.0, 5.0, 5.0], (39, 1))
    points[0, :2] = [128, 28]  # the nose 100 crop pixels above the hips
    points[27, 3] = -5.0  # the left ankle is not visible
    _serve(fake_hub, spec, person_detector_onnx({812: (3.0, row)}), pose_landmark_onnx(points, 0.9))
    res = predict(spec, grace, cache=ModelCache(1)).result
    assert isinstance(res, PoseResult) and len(res) == 1
    person = res.people[0]
    assert [k.name for k in person.keypoints] == list(BLAZEPOSE_NAMES)
    # anchor 812 = cell (14, 14) of the 28x28 grid: (116, 116) in the 224 input; scale 224/600, padded evenly
    s = 224 / 600
    hips = np.array([116 - (224 - 512 * s) / 2, 136]) / s
    side = 2 * 60 / s * 1.25
    nose = person.keypoint("nose")
    np.testing.assert_allclose([nose.x, nose.y], [hips[0], hips[1] - 100 * side / 256], atol=0.5)
    hip = person.keypoint("left_hip")
    np.testing.assert_allclose([hip.x, hip.y], hips, atol=0.5)
    assert person.keypoint("left_ankle").score < 0.01 < 0.99 < nose.score
    assert person.score == pytest.approx(0.9)
