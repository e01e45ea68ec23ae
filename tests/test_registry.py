"""Every registry entry is well formed; every bundled one loads offline and returns a valid result."""
import json

import numpy as np
import pytest

from playground.engine import predict
from tasks import TASKS, check_spec
from zoo.registry import UnknownModelError, all_specs, get_spec, offline_available, row as registry_row

BUNDLED = [s for s in all_specs() if s.bundled]


def test_ids_are_unique_and_every_task_has_two_offline_models():
    ids = [s.id for s in all_specs()]
    assert len(ids) == len(set(ids))
    for task in TASKS:
        offline = [s for s in BUNDLED if s.task == task and offline_available(s)]
        assert len(offline) >= 2, f"{task} needs two offline models for A/B"


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.id)
def test_entry_is_complete(spec):
    assert spec.name and spec.license and spec.reference.startswith("http")
    check_spec(spec)  # task and runtime exist, the pipeline is one; every option is read by one of them
    row = registry_row(spec)
    assert {"id", "task", "runtime", "source", "offline"} <= set(row)


@pytest.mark.parametrize("spec", BUNDLED, ids=lambda s: s.id)
def test_bundled_entry_runs_offline_and_returns_a_valid_result(spec, grace):
    assert offline_available(spec), f"{spec.id}: {spec.source.describe()} is not installed"
    pred = predict(spec, grace)
    assert isinstance(pred.result, TASKS[spec.task].result_type)
    assert pred.latency_ms > 0
    payload = json.loads(json.dumps(pred.to_json()))
    assert payload["model"] == spec.id
    h, w = grace.shape[:2]
    for inst in getattr(pred.result, "items", ()):
        x0, y0, x1, y1 = inst.box
        assert 0 <= x0 <= x1 <= w and 0 <= y0 <= y1 <= h
    annotated = TASKS[spec.task].annotate(grace, pred.result)
    assert annotated.shape == grace.shape and annotated.dtype == np.uint8


def test_unknown_id_suggests_close_ones():
    with pytest.raises(UnknownModelError) as err:
        get_spec("face/blazefase-short")
    assert "face/blazeface-short" in str(err.value)
    assert str(err.value).startswith("unknown model 'face/blazefase-short'")


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.id)
def test_every_entry_says_where_its_default_thresholds_come_from(spec):
    assert spec.thresholds.source and spec.thresholds.source != "the playground's default"
    assert 0.0 <= spec.thresholds.score <= 1.0


def test_reference_thresholds_are_the_default_everywhere_and_shown_in_the_settings(grace):
    from playground.ui import control_default, reference_text
    from tasks import TASKS

    yunet = get_spec("face/yunet")
    assert yunet.thresholds.score == 0.9 and yunet.thresholds.nms == 0.3  # OpenCV Zoo's demo, not 0.3
    assert "OpenCV Zoo" in reference_text("face/yunet") and "score threshold 0.9; two finds that overlap more than 30% count as one" in reference_text("face/yunet")
    score = next(c for c in TASKS["segmentation"].controls if c.name == "min_score")
    assert control_default(score, "segmentation/selfie-general") == 0.1
    loose = predict("segmentation/selfie-general", grace).result  # no threshold given: the reference's 0.1
    strict = predict("segmentation/selfie-general", grace, min_score=0.5).result
    assert loose.threshold == 0.1 and loose.coverage["person"] > strict.coverage["person"]
