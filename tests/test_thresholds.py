"""Thresholds live in one place (``spec.thresholds``) and the decode honours them: the Score slider runs from
the floor the decode produces results from, never adds a result as it rises, and has no dead part at the
bottom (a threshold hidden inside a decode would make the slider under it do nothing)."""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from playground.engine import predict
from tasks.base import infer
from tests.fakehub import FakeRepo
from tests.test_blaze import HAND_POINTS, _palm_hits
from tests.tinymodels import hand_landmark_onnx, palm_detector_onnx
from zoo.cache import ModelCache
from zoo.registry import all_specs, get_spec, offline_available

OFFLINE = [s for s in all_specs() if offline_available(s) and not s.reference_of]


@pytest.fixture(scope="module")
def crowd(grace):
    """Six people and six faces: the sample photo at half size, three across and two down."""
    small = cv2.resize(grace, (grace.shape[1] // 2, grace.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return np.vstack([np.hstack([small] * 3)] * 2)


def shown(result) -> float:
    """What the slider changes: the instances shown (a gesture: the hands whose gesture has a name), or the
    person's share of the frame."""
    if hasattr(result, "coverage"):
        return sum(v for k, v in result.coverage.items() if k != "background")
    items = getattr(result, "items", ())
    return sum(1 for i in items if getattr(i, "gesture", None) is None or i.gesture.label != "None")


@pytest.mark.parametrize("spec", OFFLINE, ids=lambda s: s.id)
def test_the_score_slider_never_adds_a_result_and_its_floor_is_the_decodes_own(spec, crowd):
    t = spec.thresholds
    assert 0.0 <= t.floor <= t.score <= 1.0
    low = max(t.floor, 0.05) if spec.task == "segmentation" else t.floor  # the mask slider starts at 0.05
    steps = np.linspace(low, 1.0, 9)
    values = [shown(predict(spec, crowd, min_score=float(s), max_results=100).result) for s in steps]
    assert all(b <= a + 1e-9 for a, b in zip(values, values[1:])), list(zip(steps, values))
    if spec.task in ("face", "segmentation"):  # six faces, six people (there are no hands in the photo)
        assert values[0] > 0, "something to show at the bottom of the slider"
    if spec.task == "segmentation" or not t.floor:
        return
    # decoded with no floor at all, the results that score at least the floor are exactly those the model
    # gives at its floor: nothing between the floor and the reference is held back inside the decode
    bare, _ = infer(replace(spec, thresholds=replace(t, floor=0.0)), crowd)
    at_floor, _ = infer(spec, crowd)
    assert len(bare.filter(t.floor, 100)) == len(at_floor.filter(t.floor, 100))


@pytest.mark.parametrize("presence,slider,found", [(0.7, 0.6, 1), (0.7, 0.9, 0), (0.4, 0.45, 0)])
def test_the_onnx_hands_slider_works_below_the_reference(fake_hub, grace, presence, slider, found):
    """OpenCV Zoo's hands (reference 0.9): a hand of presence 0.7 shows with the slider at 0.6, not at 0.9;
    under the floor (0.5) the decode has dropped it whatever the slider says."""
    spec = get_spec("hands/mediapipe-onnx")
    assert spec.thresholds.floor == 0.5 and spec.thresholds.score == 0.9
    src = spec.source
    fake_hub.add(src.repo_id, FakeRepo({src.filename: palm_detector_onnx(_palm_hits()),
                                        src.extra_files[0]: hand_landmark_onnx(HAND_POINTS, presence, 0.9)}))
    res = predict(spec, grace, min_score=slider, cache=ModelCache(1)).result
    assert len(res) == found


def test_every_threshold_a_decode_reads_is_in_the_spec():
    """No decode keeps a threshold of its own: the blaze stages read the NMS overlap and presence floor from
    ``thresholds``, and no entry carries them as options."""
    for spec in all_specs():
        assert "min_presence" not in spec.options and "iou" not in spec.options.get("detector", {}), spec.id
        if spec.pipeline.options and "detector" in spec.pipeline.options:
            assert spec.thresholds.nms is not None, spec.id
