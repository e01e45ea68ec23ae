"""Pose estimation: people, each with named keypoints and scores."""
from __future__ import annotations


from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tasks.agreement import match_boxes, nothing_found
from tasks.base import Example, Pipeline, register_task, TaskDef
from tasks.results import box_of, check_box, check_score, flip_box, InstanceResult, rounded
from tasks.draw import Canvas, color_ids, instance_label
from zoo.byo import HubCard
from zoo.images import sample_grid
from zoo.specs import HubSource, ModelSpec, Thresholds

# MediaPipe BlazePose's 33 landmarks, in its order (names follow mediapipe's PoseLandmark enum).
BLAZEPOSE_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
# The 17 COCO keypoints (MoveNet, PoseNet, ViTPose): every one of them is also a BlazePose name.
COCO_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle",
)
EDGE_NAMES = (
    ("left_shoulder", "right_shoulder"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"), ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"), ("left_hip", "right_hip"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("nose", "left_eye"), ("nose", "right_eye"),
    ("left_eye", "left_ear"), ("right_eye", "right_ear"), ("left_ankle", "left_heel"), ("left_heel", "left_foot_index"),
    ("right_ankle", "right_heel"), ("right_heel", "right_foot_index"), ("left_wrist", "left_index"),
    ("right_wrist", "right_index"), ("mouth_left", "mouth_right"),
)
VISIBLE = 0.5  # a keypoint with at least this score is drawn and compared


@dataclass(frozen=True)
class Keypoint:
    name: str
    x: float
    y: float
    score: float

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("keypoint needs a name")
        if not (np.isfinite(self.x) and np.isfinite(self.y)):
            raise ValueError(f"keypoint {self.name} has a non-finite coordinate")
        object.__setattr__(self, "score", check_score(self.score, f"keypoint {self.name} score"))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "x": round(float(self.x), 2), "y": round(float(self.y), 2),
                "score": round(self.score, 4)}


@dataclass(frozen=True)
class Person:
    box: tuple[float, float, float, float]
    score: float
    keypoints: tuple[Keypoint, ...]
    track_id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "box", check_box(self.box, "person box"))
        object.__setattr__(self, "score", check_score(self.score, "person score"))
        object.__setattr__(self, "keypoints", tuple(self.keypoints))
        names = [k.name for k in self.keypoints]
        if len(set(names)) != len(names):
            raise ValueError("keypoint names repeat")

    def keypoint(self, name: str) -> Keypoint | None:
        return next((k for k in self.keypoints if k.name == name), None)

    def flipped(self, width: int) -> "Person":
        return replace(self, box=flip_box(self.box, width),
                       keypoints=tuple(replace(k, x=width - k.x) for k in self.keypoints))

    def to_json(self) -> dict[str, Any]:
        return {"box": rounded(self.box), "score": round(self.score, 4),
                "keypoints": [k.to_json() for k in self.keypoints]}


@dataclass(frozen=True)
class PoseResult(InstanceResult[Person]):
    key = "people"

    @property
    def people(self) -> tuple[Person, ...]:
        return self.items


def person_from_points(names: tuple[str, ...], xy: np.ndarray, scores: np.ndarray, w: int, h: int,
                       score: float | None = None) -> Person:
    """A person from keypoints in pixels; the box spans the visible ones."""
    scores = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    vis = scores >= VISIBLE
    box = box_of(xy[vis] if vis.any() else xy, w, h)
    if score is None:  # no person score from the model: the better-seen half of its keypoints stands in
        top = np.sort(scores)[::-1][: max(1, len(scores) // 2)]
        score = float(top.mean())
    kps = tuple(Keypoint(n, float(x), float(y), float(s)) for n, (x, y), s in zip(names, xy[:, :2], scores))
    return Person(box=box, score=score, keypoints=kps)


# --- a person detector, then ViTPose on each box (transformers) --------------------------------------
def top_down_post(raw: dict[str, np.ndarray], hw: tuple[int, int], spec: ModelSpec) -> PoseResult:
    """Keypoints (people, 17, 2) in frame pixels with scores; each person's score is its detection's."""
    h, w = hw
    people = []
    for kps, scores, box_score in zip(raw["keypoints"], raw["scores"], raw["box_scores"]):
        names = COCO_NAMES if len(kps) == len(COCO_NAMES) else tuple(f"keypoint_{i}" for i in range(len(kps)))
        people.append(person_from_points(names, np.asarray(kps, np.float32), scores, w, h,
                                         score=float(np.clip(box_score, 0.0, 1.0))))
    return PoseResult(tuple(people))




def draw(canvas: Canvas, result: PoseResult, **_: Any) -> None:
    for person in result.people:
        names = [k.name for k in person.keypoints]
        index = {n: i for i, n in enumerate(names)}
        edges = [(index[a], index[b]) for a, b in EDGE_NAMES if a in index and b in index]
        xy = np.array([[k.x, k.y] for k in person.keypoints], dtype=np.float32)
        visible = np.array([k.score >= VISIBLE for k in person.keypoints])
        canvas.keypoints(xy[None], visible[None], edges=edges)
    canvas.boxes(result.boxes, [instance_label("person", p.score, p.track_id) for p in result.people],
                 color_ids([p.track_id for p in result.people]))


def keypoint_distance(a: Person, b: Person) -> tuple[float, int]:
    """Mean distance between the keypoints both people have and both see, relative to the person's
    size (the longer side of the mean of their boxes); and how many keypoints were compared."""
    d = []
    for ka in a.keypoints:
        kb = b.keypoint(ka.name)
        if kb is not None and ka.score >= VISIBLE and kb.score >= VISIBLE:
            d.append(np.hypot(ka.x - kb.x, ka.y - kb.y))
    if not d:
        return float("nan"), 0
    box = (np.array(a.box) + np.array(b.box)) / 2
    size = max(box[2] - box[0], box[3] - box[1], 1.0)
    return float(np.mean(d) / size), len(d)


def agreement(a: PoseResult, b: PoseResult) -> dict[str, Any]:
    empty = nothing_found(len(a), len(b), "people")
    if empty is not None:
        return empty
    pairs = match_boxes(a.boxes, b.boxes)
    dists = [keypoint_distance(a.people[i], b.people[j]) for i, j, _ in pairs]
    valid = [(d, n) for d, n in dists if n > 0]
    n_people = max(len(a), len(b))
    if not valid:
        return {"score": 0.0, "count_a": len(a), "count_b": len(b), "matched": len(pairs),
                "summary": f"{len(pairs)} of {n_people} people matched; no shared keypoints to compare"}
    rel = float(np.average([d for d, _ in valid], weights=[n for _, n in valid]))
    # Like COCO's OKS with one fixed tolerance (5% of the person's size), times the matched share.
    score = float(np.exp(-(rel ** 2) / (2 * 0.05 ** 2))) * len(valid) / n_people
    return {
        "score": round(score, 3),
        "count_a": len(a),
        "count_b": len(b),
        "matched": len(pairs),
        "mean_keypoint_distance": round(rel, 4),
        "keypoints_compared": int(sum(n for _, n in valid)),
        "summary": f"{len(valid)} of {n_people} people matched; shared keypoints differ by "
                   f"{rel:.1%} of the person's size on average",
    }


TOP_DOWN = Pipeline(postprocess=top_down_post)
# the people a top-down model reads are found by RT-DETR (transformers), at the threshold of transformers' example
PERSON_DETECTOR = HubSource("PekingU/rtdetr_r18vd_coco_o365", "model.safetensors",
                            "386c43855d01bcd966e548f3296fbd2cd2a2a40b", revision_is_commit=True,
                            extra_files=("config.json", "preprocessor_config.json"))
TOP_DOWN_THRESHOLDS = Thresholds(0.3, source="transformers' ViTPose example: RT-DETR threshold=0.3", floor=0.3)


def hub_model(card: HubCard) -> ModelSpec:
    """Bring your own: a top-down keypoint model (ViTPose), reading the people the ViTPose entry's RT-DETR finds."""
    from zoo.runtimes.transformers_rt import POSE_CLASSES

    if card.pipeline_tag != "keypoint-detection":
        raise card.refuse(f"is tagged '{card.pipeline_tag or 'no task'}'; this tab needs {TASK.hub_hint}")
    if not any(a in POSE_CLASSES for a in card.architectures):
        kind = " ".join(card.architectures) or "no architecture given"
        raise card.refuse(f"is a keypoint model of a kind the pose tab cannot run ({kind}); it runs top-down "
                          f"pose models: {', '.join(POSE_CLASSES)}")
    return card.spec(task="pose", pipeline=TOP_DOWN, runtime="transformers_pose",
                     options={"person_label": "person", "max_people": 5}, detector=PERSON_DETECTOR,
                     thresholds=TOP_DOWN_THRESHOLDS)


TASK = register_task(TaskDef(
    name="pose",
    title="Pose estimation",
    result_type=PoseResult,
    draw=draw,
    agreement=agreement,
    default_pair=("pose/blazepose-full", "pose/blazepose-multi-full"),  # one tracked person vs everyone
    trackable=False,
    description=("Each person gets a skeleton of named points (nose, shoulders, elbows, knees, ...): 33 for "
                 "BlazePose, 17 for the COCO models. A follows one person, B finds everyone."),
    examples=(
        Example("Three people in a row", "the sample portrait three times, composed here: A follows one "
                "person, B finds all three", lambda: sample_grid(3, 1, 0.6), {"a": 1, "b": 3}),
    ),
    hub_hint="keypoint-detection, top-down (ViTPose): it reads the people RT-DETR finds",
    hub_model=hub_model,
))
