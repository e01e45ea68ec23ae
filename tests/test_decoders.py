"""Post-processing of each ONNX/transformers family on synthetic outputs with known answers."""
import numpy as np
import pytest

from tasks.geometry import Letterbox, letterbox
from models.movenet import decode_movenet, movenet_post
from models.posenet import decode_posenet_single, posenet_post
from models.pphumanseg import pphumanseg_post, two_class_foreground
from models.yunet import decode_yunet, yunet_post
from tasks.face import decode_detr
from tasks.pose import COCO_NAMES
from tasks.segmentation import logits_to_result
from tests.tinymodels import posenet_outputs, yunet_outputs
from zoo.registry import get_spec
from zoo.specs import HubSource, ModelSpec


def _spec(task, decoder, size, labels=()):
    """A spec as the family's own entry, at another input size: its pipeline and thresholds."""
    family = get_spec({"yunet": "face/yunet", "posenet": "pose/posenet-mobilenet", "movenet": "pose/movenet-lightning",
                       "pphumanseg": "segmentation/pphumanseg"}[decoder])
    return ModelSpec(id=f"{task}/t", task=task, name="t", runtime="onnxruntime", pipeline=family.pipeline,
                     thresholds=family.thresholds, source=HubSource("a/b", "m.onnx", "main"), input_size=size,
                     labels=labels)


def test_yunet_face_at_a_known_cell_decodes_to_that_place():
    outs = yunet_outputs((64, 64), face_cell=(3, 4), size_cells=(2.0, 2.5), score=0.9)
    boxes, scores, kps = decode_yunet(outs, (64, 64))
    assert len(boxes) == 1 and scores[0] == pytest.approx(0.9, abs=1e-5)
    cx, cy = (4 + 0.5) * 8, (3 + 0.5) * 8
    assert np.allclose(boxes[0], [cx - 8, cy - 10, cx + 8, cy + 10], atol=1e-4)
    assert np.allclose(kps[0, 0], [(4 + 0.2) * 8, (3 + 0.3) * 8])


def test_yunet_result_maps_back_through_the_letterbox():
    outs = yunet_outputs((64, 64), face_cell=(3, 4))
    # a 128x128 frame letterboxed into 64x64 is scaled by 0.5
    face = yunet_post(outs, Letterbox(0.5, 128, 128), _spec("face", "yunet", (64, 64))).faces[0]
    assert np.allclose(face.box, [2 * (36 - 8), 2 * (28 - 10), 2 * (36 + 8), 2 * (28 + 10)], atol=1e-3)


def test_yunet_below_threshold_is_empty():
    outs = yunet_outputs((64, 64), score=0.1)
    assert len(decode_yunet(outs, (64, 64))[0]) == 0


def test_posenet_heatmap_peak_decodes_to_its_place():
    outs, peaks = posenet_outputs((5, 3))
    xy, scores = decode_posenet_single(outs["heatmaps"], outs["offsets"], stride=16)
    for k, (r, c) in enumerate(peaks):
        assert xy[k] == pytest.approx([c * 16 + 2.0, r * 16 + 3.0])
    assert np.all(scores > 0.95)  # sigmoid of the peak logit
    person = posenet_post(outs, Letterbox(1.0, 80, 48), _spec("pose", "posenet", (33, 65))).people[0]
    assert [k.name for k in person.keypoints] == list(COCO_NAMES)


def test_movenet_normalised_rows_decode_to_pixels():
    kp = np.zeros((1, 1, 17, 3))
    kp[0, 0, 0] = [0.25, 0.75, 0.9]
    xy, scores = decode_movenet(kp, (192, 192))
    assert xy[0] == pytest.approx([144, 48]) and scores[0] == pytest.approx(0.9)
    _, lb = letterbox(np.zeros((96, 192, 3), np.uint8), (192, 192))  # a 2:1 frame, scale 1
    nose = movenet_post({"o": kp}, lb, _spec("pose", "movenet", (192, 192))).people[0].keypoints[0]
    assert (nose.x, nose.y) == pytest.approx((144, 48))


def test_pphumanseg_two_class_logits_give_the_person_half():
    logits = np.zeros((1, 2, 8, 8))
    logits[0, 1, :, 4:] = 5.0
    logits[0, 1, :, :4] = -5.0
    res = pphumanseg_post({"o": logits}, (16, 32), _spec("segmentation", "pphumanseg", (8, 8),
                                                         ("background", "person")))
    assert res.shape == (16, 32)
    assert res.label_map[:, :14].max() == 0 and res.label_map[:, 18:].min() == 1
    probs = np.stack([np.full((4, 4), 0.3), np.full((4, 4), 0.7)])[None]  # already probabilities
    assert two_class_foreground(probs, (4, 4)) == pytest.approx(np.full((4, 4), 0.7))


def test_class_logits_with_and_without_background():
    lg = np.zeros((1, 3, 4, 4))
    lg[0, 2, :2] = 6.0  # top half: class 2
    lg[0, 0, 2:] = 6.0  # bottom half: background
    res = logits_to_result(lg, ("background", "cat", "person"), (8, 8))
    assert res.label_map[:3].min() == 2 and res.label_map[5:].max() == 0
    assert res.coverage["cat"] == 0.0 and res.coverage["person"] == pytest.approx(0.5, abs=0.1)
    assert list(res.coverage) == ["background", "cat", "person"]  # every label, in the model's order
    scene = logits_to_result(lg, ("wall", "cat", "person"), (8, 8))  # ADE-like: no background class
    assert scene.label_map[5:].max() == 0 and scene.foreground_mask()[:3].all()


def test_detr_softmax_and_sigmoid_scores():
    logits = np.array([[[5.0, 0.0, 0.0], [0.0, 0.0, 5.0]]])  # query 0: class 0; query 1: "no object"
    boxes = np.array([[[0.5, 0.5, 0.2, 0.4], [0.1, 0.1, 0.1, 0.1]]])
    xyxy, scores = decode_detr(logits, boxes, "softmax", [0], (100, 200))
    assert xyxy[0] == pytest.approx([80, 30, 120, 70])
    assert scores[0] > 0.9 and scores[1] < 0.1
    _, s2 = decode_detr(np.array([[[4.0, -4.0]]]), boxes[:, :1], "sigmoid", [0], (100, 200))
    assert s2[0] == pytest.approx(1 / (1 + np.exp(-4.0)), rel=1e-5)


def test_posenet_multi_pose_decoding_finds_two_people_placed_by_hand():
    """Two people on a 20x20 grid (stride 16): a heatmap peak at each of their parts, short offsets of zero,
    and at each part's cell the displacement along each skeleton edge to the next part (forward at the
    parent, backward at the child). The decoder must give back both, every part where it was put."""
    from models.posenet import POSENET_EDGES, decode_posenet_multi, posenet_post

    h = w = 20
    layout = {0: (2, 5), 1: (1, 6), 2: (1, 4), 3: (1, 7), 4: (1, 3), 5: (4, 7), 6: (4, 3), 7: (7, 8), 8: (7, 2),
              9: (10, 8), 10: (10, 2), 11: (10, 6), 12: (10, 4), 13: (14, 6), 14: (14, 4), 15: (18, 6), 16: (18, 4)}
    people = [{k: (r, c) for k, (r, c) in layout.items()}, {k: (r, c + 10) for k, (r, c) in layout.items()}]
    hm = np.full((1, 17, h, w), -6.0)
    off = np.zeros((1, 34, h, w))
    fwd, bwd = np.zeros((1, 32, h, w)), np.zeros((1, 32, h, w))
    for person, strength in zip(people, (4.0, 3.0)):
        for k, (r, c) in person.items():
            hm[0, k, r, c] = strength
        for e, (parent, child) in enumerate(POSENET_EDGES):
            (pr, pc), (cr, cc) = person[parent], person[child]
            fwd[0, e, pr, pc], fwd[0, e + 16, pr, pc] = (cr - pr) * 16, (cc - pc) * 16
            bwd[0, e, cr, cc], bwd[0, e + 16, cr, cc] = (pr - cr) * 16, (pc - cc) * 16
    found = decode_posenet_multi(hm, off, fwd, bwd, stride=16)
    assert len(found) == 2
    for (xy, scores, score), person in zip(found, people):  # the stronger person first
        expected = np.array([[c * 16, r * 16] for _, (r, c) in sorted(person.items())], np.float32)
        assert np.allclose(xy, expected) and scores.min() > 0.9 and score > 0.9
    outs = {"heatmaps": hm, "offsets": off, "displacement_fwd": fwd, "displacement_bwd": bwd}
    res = posenet_post(outs, Letterbox(1.0, 320, 320), _spec("pose", "posenet", (320, 320)))
    assert len(res.people) == 2 and res.people[1].keypoint("nose").x == pytest.approx(15 * 16)
