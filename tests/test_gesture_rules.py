import numpy as np
import pytest

from tasks.gesture import LABELS, classify, finger_states, recognise
from tasks.hands import Hand, HandsResult
from tests.handgen import GESTURES, fingers, make_hand


def test_every_label_has_a_constructed_case():
    assert set(GESTURES) == set(LABELS)


@pytest.mark.parametrize("label", sorted(GESTURES))
def test_constructed_gesture_is_recognised(label):
    ext, rot = GESTURES[label]
    g = classify(make_hand(ext, rotate_deg=rot))
    assert g.label == label
    assert 0.5 <= g.score <= 1.0


@pytest.mark.parametrize("label", sorted(GESTURES))
def test_recognition_survives_noise_scale_and_small_tilt(label):
    ext, rot = GESTURES[label]
    rng = np.random.default_rng(0)
    hits = 0
    for i in range(20):
        pts = make_hand(ext, rotate_deg=rot + rng.uniform(-15, 15), scale=rng.uniform(40, 300),
                        center=rng.uniform(100, 500, 2), noise=0.02, rng=rng)
        hits += classify(pts).label == label
    assert hits >= 18


def test_finger_states_follow_the_fingers():
    s = finger_states(make_hand(fingers(index=True, pinky=True)))
    assert s["index"] > 0.9 and s["pinky"] > 0.9
    assert s["middle"] < 0.1 and s["ring"] < 0.1 and s["thumb"] < 0.5


def test_pointing_sideways_is_not_pointing_up():
    pts = make_hand(fingers(index=True), rotate_deg=90)
    assert classify(pts).label != "Pointing_Up"


def test_recognise_puts_a_gesture_on_every_hand():
    hand = Hand(box=(0, 0, 10, 10), score=0.9, handedness="Right",
                keypoints=tuple(map(tuple, make_hand(fingers(index=True, middle=True)))))
    res = recognise(HandsResult((hand,)))
    assert res.hands[0].gesture.label == "Victory"
    assert res.to_json()["hands"][0]["gesture"]["label"] == "Victory"


def _labelled(labels, label_set):
    from dataclasses import replace

    from tasks.gesture import GestureResult
    from tasks.hands import Gesture

    hands = [Hand(box=(10 + 100 * i, 10, 90 + 100 * i, 90), score=0.9, handedness="Left",
                  keypoints=tuple((20.0 + 100 * i, 20.0, 0.0) for _ in range(21))) for i in range(len(labels))]
    return GestureResult(tuple(replace(h, gesture=Gesture(lab, 0.9)) for h, lab in zip(hands, labels)), label_set)


def test_taught_gestures_are_compared_by_name_only_where_the_names_match_the_rules():
    from tasks.gesture import agreement

    rules = _labelled(["Open_Palm", "Thumb_Up"], LABELS)
    same_names = _labelled(["open palm", "thumb up"], ("open palm", "thumb up", "fist"))
    assert agreement(rules, same_names)["score"] == 1.0  # "Open_Palm" and "open palm" are one name
    other_names = _labelled(["hello", "bye"], ("hello", "bye"))
    out = agreement(rules, other_names)
    assert out["score"] is None and "name gestures differently" in out["summary"] and out["matched"] == 2
    nothing = agreement(_labelled([], LABELS), _labelled([], ("hello", "bye")))
    assert nothing["score"] is None and "nothing to compare" in nothing["summary"]  # never 100%
