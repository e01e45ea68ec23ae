"""Real scenes: several people at once, agreement that says what happened, stable schemas."""
from __future__ import annotations

import json

import numpy as np
import pytest

from playground.engine import predict
from tasks import TASKS
from tasks.face import Face, FaceResult
from tasks.pose import keypoint_distance
from tasks.segmentation import SegmentationResult
from tests.conftest import media_image

# People with a visible face and shoulders, counted by hand, and a generous box around each (pixels).
PEOPLE = {
    "COCO_val2014_000000000241.jpg": [(130, 30, 330, 620), (0, 250, 240, 640), (240, 250, 420, 600)],  # the
    # standing young man, the man seated left, the woman seated right (the fourth shows no face)
    "COCO_val2014_000000000536.jpg": [(80, 90, 180, 336), (180, 90, 270, 336), (280, 120, 448, 336)],  # three women
}


@pytest.mark.media
@pytest.mark.parametrize("photo", PEOPLE)
def test_multi_person_blazepose_finds_everyone_with_a_face_and_shoulders(photo):
    rgb = media_image(photo)
    single = predict("pose/blazepose-full", rgb).result
    multi = predict("pose/blazepose-multi-full", rgb).result
    truth = PEOPLE[photo]
    assert len(single) <= 1 < len(truth)  # the legacy solution tracks one person
    assert len(multi) >= len(truth), [p.box for p in multi.people]
    for person in multi.people:  # no false hits: every nose it reports is a real person's
        nose = person.keypoint("nose")
        assert any(x0 <= nose.x <= x1 and y0 <= nose.y <= y1 for x0, y0, x1, y1 in truth), (nose.x, nose.y)


@pytest.mark.media
def test_single_and_multi_person_agree_on_one_person():
    rgb = media_image("COCO_val2014_000000000459.jpg")  # a man in a suit, facing the camera
    single = predict("pose/blazepose-full", rgb).result
    multi = predict("pose/blazepose-multi-full", rgb).result
    assert len(single) == len(multi) == 1
    rel, compared = keypoint_distance(single.people[0], multi.people[0])
    assert compared >= 15 and rel < 0.05


def test_a_person_seen_twice_is_one_person(grace):
    """The frame's pass and a tile's both find the face: one skeleton comes back, not two."""
    multi = predict("pose/blazepose-multi-full", grace).result
    assert len(multi) == 1


FACE = Face(box=(10, 10, 50, 50), score=0.9)


@pytest.mark.parametrize("task", ["face", "hands", "pose", "gesture", "segmentation"])
def test_nothing_in_either_is_nothing_to_compare_not_100_percent(task):
    empty = (SegmentationResult.empty(8, 8, ("background", "person")) if task == "segmentation"
             else TASKS[task].result_type.empty())
    out = TASKS[task].agreement(empty, empty)
    assert out["score"] is None and out["summary"].startswith("nothing to compare")


def test_one_side_empty_is_zero_and_says_which_side():
    out = TASKS["face"].agreement(FaceResult((FACE,)), FaceResult(()))
    assert out["score"] == 0.0 and out["summary"] == "A found 1 face, B found none"
    out = TASKS["face"].agreement(FaceResult(()), FaceResult((FACE, FACE)))
    assert out["score"] == 0.0 and out["summary"] == "B found 2 faces, A found none"
    far = Face(box=(200, 200, 240, 240), score=0.9)
    out = TASKS["face"].agreement(FaceResult((FACE,)), FaceResult((far,)))
    assert out["matched"] == 0 and "overlap" not in out["summary"]  # no overlap over zero matches
    fg = SegmentationResult(np.ones((8, 8), np.uint8), ("background", "person"))
    out = TASKS["segmentation"].agreement(SegmentationResult.empty(8, 8, fg.labels), fg)
    assert out["score"] == 0.0 and out["summary"].startswith("B found foreground")


def test_agreement_through_the_api(app_url, tmp_path):
    from gradio_client import Client, handle_file
    from PIL import Image

    from zoo.images import sample_image_path

    client = Client(app_url, verbose=False)
    blank = tmp_path / "blank.png"
    Image.new("RGB", (320, 240), (128, 128, 128)).save(blank)
    *_, out = client.predict(handle_file(str(blank)), "face/blazeface-short", "face/facemesh", api_name="/face")
    assert out["agreement"]["score"] is None and "nothing to compare" in out["agreement"]["summary"]
    # B's score threshold above anything it finds: A sees Grace Hopper, B nobody
    *_, out = client.predict(handle_file(str(sample_image_path())), "face/blazeface-short", "face/blazeface-full",
                             0.5, 5, 1.0, 5, api_name="/face")
    assert out["agreement"]["score"] == 0.0 and out["agreement"]["summary"] == "A found 1 face, B found none"


def test_face_keypoints_are_named_like_pose_keypoints(grace):
    for model, names in (("face/blazeface-short", 6), ("face/facemesh", 6)):
        face = predict(model, grace).result.to_json()["faces"][0]
        assert [k["name"] for k in face["keypoints"]][:2] == ["right_eye", "left_eye"]
        assert len(face["keypoints"]) == names and set(face["keypoints"][0]) == {"name", "x", "y"}
    json.dumps(predict("face/haar-frontal", grace).result.to_json())  # no keypoints, still valid


def test_coverage_lists_every_label(grace):
    res = predict("segmentation/selfie-general", np.zeros((64, 64, 3), np.uint8)).result
    assert set(res.to_json()["coverage"]) == {"background", "person"}


def test_bench_includes_the_multi_person_rows():
    import subprocess
    import sys

    from tests.conftest import REPO

    run = subprocess.run([sys.executable, "-m", "zoo", "bench", "--runs", "2", "--json", "--size", "320x240",
                          "pose/blazepose-multi-full"], cwd=REPO, capture_output=True, text=True, timeout=300)
    rows = json.loads(run.stdout.strip().splitlines()[-1])
    assert rows[0]["model"] == "pose/blazepose-multi-full" and rows[0]["p50_ms"] > 0
    from playground.cli import bench_ids

    assert {"pose/blazepose-multi-full", "pose/blazepose-multi-lite"} <= set(bench_ids())
