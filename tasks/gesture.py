"""Gesture recognition: a label and score per hand.

The built-in recogniser reads finger states from the 21 MediaPipe hand landmarks (3D joint bend
angles, thumb reach) and maps them to MediaPipe's canned gesture set. Pure geometry: no weights.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tasks import hands as hands_task
from tasks.base import Pipeline, TaskDef, register_task
from tasks.hands import Gesture, HandsResult
from zoo.byo import HubCard
from zoo.specs import ModelSpec, Thresholds

LABELS = ("None", "Closed_Fist", "Open_Palm", "Pointing_Up", "Thumb_Down", "Thumb_Up", "Victory", "ILoveYou")
CHAINS = {  # wrist/base -> tip, as landmark indices
    "index": (0, 5, 6, 7, 8),
    "middle": (0, 9, 10, 11, 12),
    "ring": (0, 13, 14, 15, 16),
    "pinky": (0, 17, 18, 19, 20),
}
MIN_SCORE = 0.5  # below this, the hand shows no known gesture ("None")
# The rules' numbers (the page's version reads the same ones: families.js, via gesture_device):
RULE = {
    "finger_straight_deg": 110.0, "finger_soft_deg": 20.0,  # a finger is extended when its bones bend < ~110°
    "thumb_reach": 0.6, "thumb_reach_soft": 0.08,  # thumb tip from the index knuckle, in palm lengths
    "thumb_straight_deg": 100.0, "thumb_soft_deg": 15.0,
    "pointing": 0.5, "pointing_soft": 0.12,  # how vertical a bone must be to point up or down
}


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def _bend_degrees(pts: np.ndarray, chain: tuple[int, ...]) -> float:
    """Sum of the angles between consecutive bones of a chain: 0 for a straight finger."""
    seg = np.diff(pts[list(chain)], axis=0)
    seg /= np.linalg.norm(seg, axis=1, keepdims=True) + 1e-9
    cos = np.clip(np.sum(seg[:-1] * seg[1:], axis=1), -1.0, 1.0)
    return float(np.degrees(np.arccos(cos)).sum())


def finger_states(keypoints: np.ndarray) -> dict[str, float]:
    """Probability that each finger is extended, from 21 (x, y, z) landmarks in any unit."""
    pts = np.asarray(keypoints, dtype=np.float64).reshape(21, 3)
    r = RULE
    states = {name: _sigmoid((r["finger_straight_deg"] - _bend_degrees(pts, chain)) / r["finger_soft_deg"])
              for name, chain in CHAINS.items()}
    palm = np.linalg.norm(pts[9] - pts[0]) + 1e-9
    reach = np.linalg.norm(pts[4] - pts[5]) / palm  # thumb tip away from the index knuckle
    bend = _bend_degrees(pts, (1, 2, 3, 4))
    states["thumb"] = min(_sigmoid((reach - r["thumb_reach"]) / r["thumb_reach_soft"]),
                          _sigmoid((r["thumb_straight_deg"] - bend) / r["thumb_soft_deg"]))
    return states


def _direction_up(pts: np.ndarray, base: int, tip: int) -> tuple[float, float]:
    """How much the bone base->tip points up and down in the image (y grows downwards)."""
    v = pts[tip, :2] - pts[base, :2]
    dy = float(v[1] / (np.linalg.norm(v) + 1e-9))
    r = RULE
    return _sigmoid((-dy - r["pointing"]) / r["pointing_soft"]), _sigmoid((dy - r["pointing"]) / r["pointing_soft"])


def gesture_scores(keypoints: np.ndarray) -> dict[str, float]:
    pts = np.asarray(keypoints, dtype=np.float64).reshape(21, 3)
    e = finger_states(pts)
    f = {k: 1.0 - v for k, v in e.items()}
    four_folded = f["index"] * f["middle"] * f["ring"] * f["pinky"]
    thumb_up, thumb_down = _direction_up(pts, 2, 4)
    index_up, _ = _direction_up(pts, 5, 8)
    return {
        "Closed_Fist": four_folded * (1.0 - e["thumb"] * max(thumb_up, thumb_down)),
        "Open_Palm": e["index"] * e["middle"] * e["ring"] * e["pinky"],
        "Pointing_Up": e["index"] * f["middle"] * f["ring"] * f["pinky"] * index_up,
        "Thumb_Down": four_folded * e["thumb"] * thumb_down,
        "Thumb_Up": four_folded * e["thumb"] * thumb_up,
        "Victory": e["index"] * e["middle"] * f["ring"] * f["pinky"],
        "ILoveYou": e["thumb"] * e["index"] * f["middle"] * f["ring"] * e["pinky"],
    }


def classify(keypoints: np.ndarray) -> Gesture:
    scores = gesture_scores(keypoints)
    label = max(scores, key=scores.get)
    best = scores[label]
    if best < MIN_SCORE:
        return Gesture("None", 1.0 - best)
    return Gesture(label, best)


@dataclass(frozen=True)
class GestureResult(HandsResult):
    """The hands schema with a gesture on every hand, and the names the model can give (its label set: the
    rules' eight, a taught head's own, a classifier's classes), by which two models' gestures are compared."""

    label_set: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        for hand in self.items:
            if hand.gesture is None:
                raise ValueError("every hand of a gesture result needs a gesture")

    def filter(self, min_score: float | None = None, max_results: int | None = None):
        # The threshold applies to the gesture's score; a hand below it reads "None".
        res = super().filter(0.0, max_results)
        if min_score:
            res = replace(res, items=tuple(
                h if h.gesture.score >= min_score or h.gesture.label == "None"
                else replace(h, gesture=Gesture("None", 1.0 - h.gesture.score)) for h in res.items))
        return res


def recognise(hands: HandsResult) -> GestureResult:
    return GestureResult(tuple(replace(h, gesture=classify(np.array(h.keypoints))) for h in hands.hands), LABELS)


def plain(label: str) -> str:
    """A gesture's name as people write it: "Open_Palm", "open palm" and "open-palm" are one name."""
    return " ".join(label.replace("_", " ").replace("-", " ").lower().split())


def shared_labels(a: GestureResult, b: GestureResult) -> set[str] | None:
    """The gesture names both models can give (None, the no-gesture name, not counted); None when either
    model does not say what its names are."""
    if not a.label_set or not b.label_set:
        return None
    return ({plain(x) for x in a.label_set} & {plain(x) for x in b.label_set}) - {"none"}




# two-stage runners (hands, then a head) give the result themselves (see tasks.gesture_lab): a head the
# Teach panel trained, and a Hub image classifier on each hand crop
TRAINED_HEAD = Pipeline()
HAND_CROP = Pipeline()


def hub_model(card: HubCard) -> ModelSpec:
    """Bring your own: an image classifier, applied to each hand MediaPipe finds."""
    if card.pipeline_tag != "image-classification":
        raise card.refuse(f"is tagged '{card.pipeline_tag or 'no task'}'; this tab needs {TASK.hub_hint}")
    return card.spec(task="gesture", pipeline=HAND_CROP, runtime="hand_crop_classifier",
                     thresholds=Thresholds(0.1, source="the playground's: an ImageNet class on a hand crop, shown from 10%"))


def agreement(a: GestureResult, b: GestureResult) -> dict[str, Any]:
    """The hands matched by box, then their gestures compared by name: only when the two models have names in
    common (a taught "fist" is not the rules' "Closed_Fist"), else the sentence says the label sets differ."""
    out = hands_task.agreement(a, b)
    same = [plain(a.hands[i].gesture.label) == plain(b.hands[j].gesture.label) for i, j, _ in out["pairs"]]
    out["labels_agree"] = int(sum(same))
    if not (len(a) and len(b)):  # nothing to compare, or one side empty: the hands' sentence says so
        return out
    shared = shared_labels(a, b)
    if shared is not None and not shared:
        out["score"] = None
        out["summary"] = (f"A and B name gestures differently (A: {', '.join(a.label_set[:6])}; B: "
                          f"{', '.join(b.label_set[:6])}): their gestures are not compared; "
                          f"{out['matched']} of {max(len(a), len(b))} hands matched")
        return out
    n = max(len(a), len(b))
    out["score"] = round(sum(same) / n, 3)
    la = sorted(h.gesture.label for h in a.hands)
    lb = sorted(h.gesture.label for h in b.hands)
    out["summary"] = f"gestures agree on {sum(same)} of {n} hands (A: {', '.join(la)}; B: {', '.join(lb)})"
    return out


TASK = register_task(TaskDef(
    name="gesture",
    title="Gesture recognition",
    result_type=GestureResult,
    draw=hands_task.draw,
    agreement=agreement,
    default_pair=("gesture/rules-lite", "gesture/rules-full"),
    trackable=True,
    description=("Each hand gets a gesture name: " + ", ".join(label.replace("_", " ").lower()
                 for label in LABELS[1:]) + ", or none. Teach it your own below."),
    no_examples="No installed package carries a photo of hands: make a gesture at the live webcam.",
    hub_hint="image-classification: each hand crop is classified",
    hub_model=hub_model,
))
