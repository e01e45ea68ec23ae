"""The bundled models on real photos: they find what is there, and agree with each other."""
import numpy as np
import pytest

from playground.engine import predict
from tasks import TASKS
from tasks.agreement import match_boxes
from tests.conftest import media_image

FACE_MODELS = ("face/blazeface-short", "face/blazeface-full", "face/facemesh", "face/haar-frontal")


@pytest.fixture(scope="module")
def grace_faces(grace):
    return {m: predict(m, grace).result for m in FACE_MODELS}


@pytest.mark.parametrize("model", FACE_MODELS)
def test_each_face_model_finds_exactly_one_face_on_grace_hopper(grace_faces, model):
    assert len(grace_faces[model].faces) == 1


@pytest.mark.parametrize("a", FACE_MODELS)
@pytest.mark.parametrize("b", FACE_MODELS)
def test_face_boxes_overlap(grace_faces, a, b):
    pairs = match_boxes(grace_faces[a].boxes, grace_faces[b].boxes)
    assert pairs and pairs[0][2] > 0.5, f"{a} vs {b}: IoU {pairs[0][2] if pairs else 0:.2f}"


def test_blazeface_and_mesh_keypoints_agree(grace_faces):
    a = np.array(grace_faces["face/blazeface-short"].faces[0].keypoints)
    b = np.array(grace_faces["face/facemesh"].faces[0].keypoints)
    box = grace_faces["face/facemesh"].faces[0].box
    size = box[2] - box[0]
    # eyes, nose and mouth (the ear tragions are placed differently by the two models)
    assert np.linalg.norm(a[:4] - b[:4], axis=1).max() < 0.12 * size
    assert len(grace_faces["face/facemesh"].faces[0].landmarks) == 468


@pytest.mark.parametrize("model", ["pose/blazepose-full", "pose/blazepose-lite", "pose/blazepose-heavy"])
def test_pose_nose_lies_inside_the_face_box(grace, grace_faces, model):
    people = predict(model, grace).result.people
    assert len(people) == 1
    nose = people[0].keypoint("nose")
    x0, y0, x1, y1 = grace_faces["face/blazeface-short"].faces[0].box
    assert nose.score > 0.5 and x0 <= nose.x <= x1 and y0 <= nose.y <= y1


@pytest.mark.parametrize("model", ["segmentation/selfie-general", "segmentation/selfie-landscape"])
def test_selfie_segmentation_covers_the_person_not_the_frame(grace, grace_faces, model):
    res = predict(model, grace).result
    assert res.shape == grace.shape[:2]
    assert 0.2 < res.coverage["person"] < 0.9
    x0, y0, x1, y1 = (int(v) for v in grace_faces["face/blazeface-short"].faces[0].box)
    face = res.label_map[y0:y1, x0:x1]
    assert (face == res.labels.index("person")).mean() > 0.9
    assert res.label_map[:60, :60].max() == 0, "the flag in the top-left corner is background"


def test_segmentation_threshold_moves_without_rerunning(grace):
    res = predict("segmentation/selfie-general", grace).result
    loose, strict = res.filter(min_score=0.1), res.filter(min_score=0.9)
    assert loose.coverage["person"] >= res.coverage["person"] >= strict.coverage["person"]


# Hands visible in ../shared/media, as (file, [points that lie on a hand]) in pixels of the photo.
HANDS_IN_PHOTOS = [
    ("COCO_val2014_000000000428.jpg", [(521, 157), (251, 279)]),  # baby: raised open hand, hand with icing
    ("COCO_val2014_000000000294.jpg", [(293, 175), (360, 326)]),  # kitchen: hand at the pans, lower hand
    ("COCO_val2014_000000000459.jpg", [(463, 310)]),  # man in a suit, hand holding a camera
]


@pytest.mark.media
@pytest.mark.parametrize("model", ["hands/mediapipe-lite", "hands/mediapipe-full"])
@pytest.mark.parametrize("name,points", HANDS_IN_PHOTOS, ids=[n for n, _ in HANDS_IN_PHOTOS])
def test_hands_are_found_where_hands_are_visible(model, name, points):
    rgb = media_image(name)
    hands = predict(model, rgb).result.hands
    for x, y in points:
        assert any(h.box[0] - 10 <= x <= h.box[2] + 10 and h.box[1] - 10 <= y <= h.box[3] + 10 for h in hands), \
            f"no hand found at {(x, y)}"
    for h in hands:
        assert len(h.keypoints) == 21


@pytest.mark.media
def test_handedness_swaps_when_the_image_is_mirrored():
    rgb = media_image("COCO_val2014_000000000294.jpg")
    a = predict("hands/mediapipe-full", rgb).result
    b = predict("hands/mediapipe-full", np.ascontiguousarray(rgb[:, ::-1])).result
    w = rgb.shape[1]
    mirrored_boxes = np.array([[w - x1, y0, w - x0, y1] for x0, y0, x1, y1 in b.boxes])
    pairs = match_boxes(a.boxes, mirrored_boxes, min_iou=0.3)
    assert len(pairs) == 2
    for i, j, _ in pairs:
        assert a.hands[i].handedness != b.hands[j].handedness


@pytest.mark.media
def test_gesture_models_label_every_hand_in_a_photo():
    rgb = media_image("COCO_val2014_000000000428.jpg")
    res = predict("gesture/rules-full", rgb).result
    assert len(res.hands) >= 1
    raised = [h for h in res.hands if h.box[0] <= 521 <= h.box[2]]
    assert raised and raised[0].gesture.label == "Open_Palm"


def test_agreement_of_a_model_with_itself_is_perfect(grace):
    for task in ("face", "pose", "segmentation"):
        model = {"face": "face/blazeface-short", "pose": "pose/blazepose-full",
                 "segmentation": "segmentation/selfie-general"}[task]
        r = predict(model, grace).result
        assert TASKS[task].agreement(r, r)["score"] == pytest.approx(1.0)
