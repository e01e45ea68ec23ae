"""Hand detection and tracking: boxes, handedness and 21 landmarks per hand."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tasks.agreement import box_agreement
from tasks.base import register_task, TaskDef
from tasks.results import check_box, check_points, check_score, flip_box, flip_points, InstanceResult, rounded
from tasks.draw import Canvas, color_ids, instance_label

EDGES = (
    (0, 1), (1, 2), (2, 3), (3, 4),
    (0, 5), (5, 6), (6, 7), (7, 8),
    (5, 9), (9, 10), (10, 11), (11, 12),
    (9, 13), (13, 14), (14, 15), (15, 16),
    (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
)
HANDEDNESS = ("Left", "Right")


@dataclass(frozen=True)
class Gesture:
    label: str
    score: float

    def __post_init__(self) -> None:
        if not self.label:
            raise ValueError("gesture label is empty")
        object.__setattr__(self, "score", check_score(self.score, "gesture score"))

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Hand:
    box: tuple[float, float, float, float]
    score: float
    handedness: str  # the subject's own hand, for an unmirrored (camera) image
    keypoints: tuple[tuple[float, float, float], ...]  # 21 x (x, y, z) pixels; z relative to the wrist
    track_id: int | None = None
    gesture: Gesture | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "box", check_box(self.box, "hand box"))
        object.__setattr__(self, "score", check_score(self.score, "hand score"))
        if self.handedness not in HANDEDNESS:
            raise ValueError(f"handedness must be Left or Right, got {self.handedness!r}")
        kps = check_points(self.keypoints, 3, "hand keypoints")
        if len(kps) != 21:
            raise ValueError(f"a hand has 21 keypoints, got {len(kps)}")
        object.__setattr__(self, "keypoints", kps)

    def flipped(self, width: int) -> "Hand":
        return replace(self, box=flip_box(self.box, width), keypoints=flip_points(self.keypoints, width))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "box": rounded(self.box),
            "score": round(self.score, 4),
            "handedness": self.handedness,
            "keypoints": [rounded(p) for p in self.keypoints],
            "track_id": self.track_id,
        }
        if self.gesture is not None:
            out["gesture"] = self.gesture.to_json()
        return out


@dataclass(frozen=True)
class HandsResult(InstanceResult[Hand]):
    key = "hands"

    @property
    def hands(self) -> tuple[Hand, ...]:
        return self.items




def hand_label(hand: Hand) -> str:
    extra = hand.handedness
    if hand.gesture is not None:
        extra = f"{hand.handedness} {hand.gesture.label}"
    return instance_label("hand", hand.gesture.score if hand.gesture else hand.score, hand.track_id, extra)


def draw(canvas: Canvas, result: HandsResult, **_: Any) -> None:
    if len(result):
        canvas.keypoints(np.array([np.array(h.keypoints)[:, :2] for h in result.hands]), edges=EDGES)
    canvas.boxes(result.boxes, [hand_label(h) for h in result.hands], color_ids([h.track_id for h in result.hands]))


def agreement(a: HandsResult, b: HandsResult) -> dict[str, Any]:
    out = box_agreement(a, b, "hands")
    same_side = sum(a.hands[i].handedness == b.hands[j].handedness for i, j, _ in out["pairs"])
    out["handedness_agree"] = same_side
    return out


TASK = register_task(TaskDef(
    name="hands",
    title="Hand detection",
    result_type=HandsResult,
    draw=draw,
    agreement=agreement,
    default_pair=("hands/mediapipe-lite", "hands/mediapipe-full"),
    trackable=True,
    description=("Each hand gets a box, left or right (the person's own hand), and 21 points on the wrist "
                 "and fingers; in the live view a number follows each hand from frame to frame."),
    no_examples="No installed package carries a photo of hands: hold yours up to the live webcam.",
    hub_hint="none yet: no Hub detector gives the 21 landmarks",
))
