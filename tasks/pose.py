"""Pose estimation: people, each with named keypoints and scores."""
from __future__ import annotations


from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tasks import blaze
from tasks.base import (InstanceResult, Letterbox, Pipeline, TaskDef, box_of, check_box, check_score, flip_box,
                        letterbox, match_boxes, nothing_found, register_task, rounded, sigmoid)
from tasks.draw import Canvas, color_ids, instance_label
from zoo.byo import HubCard
from zoo.specs import ModelSpec

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
_EDGE_NAMES = (
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


def from_mediapipe_pose(raw: Any, hw: tuple[int, int], spec: ModelSpec) -> PoseResult:
    h, w = hw
    if raw.pose_landmarks is None:
        return PoseResult.empty()
    lm = raw.pose_landmarks.landmark
    xy = np.array([(p.x * w, p.y * h) for p in lm], dtype=np.float32)
    vis = np.array([p.visibility for p in lm], dtype=np.float32)
    return PoseResult((person_from_points(BLAZEPOSE_NAMES, xy, vis, w, h),))


# --- PoseNet (MobileNet, Qualcomm AI Hub's ONNX export) ------------------------------------------
POSENET_STRIDE = 16


def posenet_pre(rgb: np.ndarray, spec: ModelSpec) -> tuple[np.ndarray, Letterbox]:
    """RGB scaled to [-1, 1], NCHW, letterboxed into (width, height) = spec.input_size."""
    img, lb = letterbox(rgb, spec.input_size or (257, 513))
    x = img.astype(np.float32) * (2.0 / 255.0) - 1.0
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None]), lb


def _by_channels(outputs: dict[str, np.ndarray], channels: int, hint: str) -> np.ndarray:
    named = [v for k, v in outputs.items() if hint in k.lower()]
    if named:
        return np.asarray(named[0], np.float32)
    for v in outputs.values():
        if np.ndim(v) == 4 and v.shape[1] == channels:
            return np.asarray(v, np.float32)
    raise ValueError(f"no output with {channels} channels ({hint})")


def decode_posenet_single(heatmaps: np.ndarray, offsets: np.ndarray, stride: int = POSENET_STRIDE
                          ) -> tuple[np.ndarray, np.ndarray]:
    """One person from PoseNet's heatmaps (1, 17, H, W) and short offsets (1, 34, H, W; y then x):
    each keypoint at its heatmap's peak plus the offset there. Returns xy (17, 2) in input pixels, scores."""
    hm = np.asarray(heatmaps, np.float32)[0]
    off = np.asarray(offsets, np.float32)[0]
    if hm.min() < 0.0 or hm.max() > 1.0:  # logits: the PyTorch export applies the sigmoid, others may not
        hm = sigmoid(hm)
    k, h, w = hm.shape
    flat = hm.reshape(k, -1).argmax(axis=1)
    r, c = np.divmod(flat, w)
    ys = r * stride + off[np.arange(k), r, c]
    xs = c * stride + off[np.arange(k) + k, r, c]
    return np.stack([xs, ys], axis=1), hm[np.arange(k), r, c]


# PoseNet's skeleton as its decoder walks it (tfjs-models posenet's poseChain): parent -> child, by COCO index.
POSENET_EDGES = tuple((COCO_NAMES.index(a), COCO_NAMES.index(b)) for a, b in (
    ("nose", "left_eye"), ("left_eye", "left_ear"), ("nose", "right_eye"), ("right_eye", "right_ear"),
    ("nose", "left_shoulder"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("left_shoulder", "left_hip"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("nose", "right_shoulder"), ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("right_shoulder", "right_hip"), ("right_hip", "right_knee"), ("right_knee", "right_ankle")))


def decode_posenet_multi(heatmaps: np.ndarray, offsets: np.ndarray, disp_fwd: np.ndarray, disp_bwd: np.ndarray,
                         stride: int = POSENET_STRIDE, max_people: int = 6, part_threshold: float = 0.5,
                         nms_radius: float = 20.0) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """PoseNet's multi-person decoding (Papandreou et al. 2018, as tfjs-models does it): every local maximum
    of any part's heatmap over ``part_threshold`` is a candidate root, best first; a root near the same part
    of a person already decoded is skipped; from a root, the mid-range displacements lead along the skeleton
    (backwards to the nose, then forwards to the limbs), each landing snapped to its part's heatmap cell and
    refined by its short offset. Inputs (1, C, H, W): heatmaps C=17, offsets 34 (y then x), displacements
    32 each (y then x, one pair per edge). Returns [(xy (17, 2) input pixels, scores (17,), person score)]."""
    hm = np.asarray(heatmaps, np.float32)[0]
    if hm.min() < 0.0 or hm.max() > 1.0:
        hm = sigmoid(hm)
    off = np.asarray(offsets, np.float32)[0]
    fwd, bwd = np.asarray(disp_fwd, np.float32)[0], np.asarray(disp_bwd, np.float32)[0]
    k_n, h, w = hm.shape
    e_n = len(POSENET_EDGES)

    def cell(pt: np.ndarray) -> tuple[int, int]:
        return (int(np.clip(round(pt[1] / stride), 0, h - 1)), int(np.clip(round(pt[0] / stride), 0, w - 1)))

    def at(r: int, c: int, k: int) -> np.ndarray:  # a part's image position from its cell and short offset
        return np.array([c * stride + off[k + k_n, r, c], r * stride + off[k, r, c]], np.float32)

    def follow(src: np.ndarray, edge: int, target: int, disp: np.ndarray) -> tuple[np.ndarray, float]:
        r, c = cell(src)
        pt = src + np.array([disp[edge + e_n, r, c], disp[edge, r, c]], np.float32)
        for _ in range(2):  # snap to the target's cell, refine by its offset (twice, as tfjs does)
            r, c = cell(pt)
            pt = at(r, c, target)
        return pt, float(hm[target, r, c])

    # candidate roots: local maxima (3x3) over the threshold, best first
    padded = np.pad(hm, ((0, 0), (1, 1), (1, 1)), constant_values=-1.0)
    windows = np.stack([padded[:, dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)])
    peaks = np.argwhere((hm >= part_threshold) & (hm >= windows.max(axis=0)))
    peaks = sorted(peaks.tolist(), key=lambda p: -hm[p[0], p[1], p[2]])
    people: list[tuple[np.ndarray, np.ndarray, float]] = []
    for k, r, c in peaks:
        if len(people) >= max_people:
            break
        root = at(r, c, k)
        if any(np.sum((xy[k] - root) ** 2) <= nms_radius ** 2 for xy, _, _ in people):
            continue
        xy = np.full((k_n, 2), np.nan, np.float32)
        sc = np.zeros(k_n, np.float32)
        xy[k], sc[k] = root, hm[k, r, c]
        for e in reversed(range(e_n)):  # towards the root of the skeleton (the nose)
            parent, child = POSENET_EDGES[e]
            if not np.isnan(xy[child, 0]) and np.isnan(xy[parent, 0]):
                xy[parent], sc[parent] = follow(xy[child], e, parent, bwd)
        for e in range(e_n):  # out along the limbs
            parent, child = POSENET_EDGES[e]
            if not np.isnan(xy[parent, 0]) and np.isnan(xy[child, 0]):
                xy[child], sc[child] = follow(xy[parent], e, child, fwd)
        # the person's score counts only the parts no earlier person already claimed (tfjs's soft NMS)
        free = [not any(np.sum((p[j] - xy[j]) ** 2) <= nms_radius ** 2 for p, _, _ in people) for j in range(k_n)]
        people.append((xy, sc, float(np.sum(sc[free]) / k_n)))
    return people


def _displacements(raw: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """The forward and backward mid-range displacement outputs (32 channels each), when the graph has them."""
    both = [(k, v) for k, v in raw.items() if np.ndim(v) == 4 and np.shape(v)[1] == 32]
    if len(both) != 2:
        return None
    named = {("bwd" in k.lower()) or ("backward" in k.lower()): v for k, v in both}
    return (named[False], named[True]) if len(named) == 2 else (both[0][1], both[1][1])


def posenet_post(raw: dict[str, np.ndarray], lb: Letterbox, spec: ModelSpec) -> PoseResult:
    """Every person when the graph carries the displacement outputs (multi-pose decoding), else one."""
    heat, offs = _by_channels(raw, 17, "heatmap"), _by_channels(raw, 34, "offset")
    disp = _displacements(raw)
    if disp is None:
        xy, scores = decode_posenet_single(heat, offs)
        return PoseResult((person_from_points(COCO_NAMES, lb.to_frame(xy), scores, lb.width, lb.height),))
    people = [person_from_points(COCO_NAMES, lb.to_frame(xy), scores, lb.width, lb.height,
                                 score=min(1.0, max(0.0, score)))
              for xy, scores, score in decode_posenet_multi(heat, offs, *disp,
                                                            max_people=int(spec.options.get("max_people", 6)))]
    return PoseResult(tuple(people))


# --- MoveNet single-pose (ONNX export of the TF Hub model) ------------------------------------------
def movenet_pre(rgb: np.ndarray, spec: ModelSpec) -> tuple[np.ndarray, Letterbox]:
    """RGB 0-255, NHWC, letterboxed into a square; int32 as the TF Hub signature takes."""
    img, lb = letterbox(rgb, spec.input_size or (192, 192))
    return np.ascontiguousarray(img[None].astype(np.int32)), lb


def decode_movenet(output: np.ndarray, input_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(1, 1, 17, 3) rows of (y, x, score), normalised to the input -> xy (17, 2) input pixels, scores."""
    kp = np.asarray(output, np.float32).reshape(17, 3)
    h, w = input_hw
    return np.stack([kp[:, 1] * w, kp[:, 0] * h], axis=1), np.clip(kp[:, 2], 0.0, 1.0)


def movenet_post(raw: dict[str, np.ndarray], lb: Letterbox, spec: ModelSpec) -> PoseResult:
    w, h = spec.input_size or (192, 192)
    xy, scores = decode_movenet(next(iter(raw.values())), (h, w))
    return PoseResult((person_from_points(COCO_NAMES, lb.to_frame(xy), scores, lb.width, lb.height),))


# --- MediaPipe pose as ONNX (OpenCV Zoo): person detector, then BlazePose on the body's crop ----------
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


def blaze_pose_post(raw: tuple[Any, list], meta: blaze.CascadeMeta, spec: ModelSpec) -> PoseResult:
    """BlazePose's outputs, in graph order: 39 landmarks x (x, y, z in crop pixels, visibility logit,
    presence logit) of which the first 33 are the body's, then the pose's presence."""
    _, crops = raw
    min_presence = float(spec.options.get("min_presence", 0.5))
    people, aux = [], {}
    for roi, out in crops:
        points, ones = blaze.outputs_of_size(out, 195), blaze.outputs_of_size(out, 1)
        if not points or not ones:
            raise ValueError("pose landmark outputs are not 39x5 landmarks + presence")
        presence = float(np.clip(ones[0][0], 0.0, 1.0))
        if presence < min_presence:
            continue
        lm = points[0].reshape(39, 5)
        heat = [np.asarray(v, np.float32) for v in out.values() if np.ndim(v) == 4 and np.shape(v)[-1] == 39]
        crop_xy = lm[:, :2]
        if heat:  # MediaPipe's pose graph refines the body's landmarks from the model's heatmap
            crop_xy = np.vstack([blaze.refine_from_heatmap(crop_xy[:33], heat[0][0], meta.landmark_size), crop_xy[33:]])
        xy = roi.to_frame(crop_xy, meta.landmark_size)  # 33 body points, then the region's two (hips, scale)
        person = person_from_points(BLAZEPOSE_NAMES, xy[:33], sigmoid(lm[:33, 3]), meta.width, meta.height,
                                    score=presence)
        people.append(person)
        aux[id(person)] = xy
    people = distinct_people(people, int(spec.options.get("max_instances", 2)))
    track = meta.track  # stream mode: follow these people in the next frame, their landmarks smoothed
    if track is not None:
        track.keep([blaze.alignment_roi(aux[id(p)][33], aux[id(p)][34]) for p in people])
        now = track.tick()
        people = [smoothed(p, aux[id(p)], track, i, now) for i, p in enumerate(people)]
    return PoseResult(tuple(people))


def smoothed(person: Person, points: np.ndarray, track: blaze.Track, index: int, t: float) -> Person:
    """The person's 33 landmarks and the region's two points smoothed together (MediaPipe's pose graph
    smooths both), and the next frame's region set from the smoothed two: a steady region is what keeps a
    still subject's landmarks still."""
    xy = track.smooth(index, points[:, :2], t, blaze.object_scale(points[:33, :2]))
    track.rois[index] = blaze.alignment_roi(xy[33], xy[34])
    return replace(person, keypoints=tuple(replace(k, x=float(x), y=float(y))
                                           for k, (x, y) in zip(person.keypoints, xy[:33])))


def _same_body(a: Person, b: Person, iou: float) -> bool:
    """Two skeletons of one body: their boxes overlap by ``iou``, or their noses lie within a quarter of a
    shoulder width of each other (a second region around the same face, whose shoulders went astray)."""
    if match_boxes(np.array([a.box]), np.array([b.box]), iou):
        return True
    na, nb = a.keypoint("nose"), b.keypoint("nose")
    la, ra = a.keypoint("left_shoulder"), a.keypoint("right_shoulder")
    if None in (na, nb, la, ra) or min(na.score, nb.score) < VISIBLE:
        return False
    return float(np.hypot(na.x - nb.x, na.y - nb.y)) < 0.25 * max(float(np.hypot(la.x - ra.x, la.y - ra.y)), 1.0)


def distinct_people(people: list[Person], most: int, iou: float = 0.5) -> list[Person]:
    """One person per body: two regions that landed on the same body (the whole frame's pass and a tile's,
    say) give two skeletons; the better-seen one stays. At most ``most``, best first."""
    kept: list[Person] = []
    for person in sorted(people, key=lambda p: -p.score):
        if not any(_same_body(person, k, iou) for k in kept):
            kept.append(person)
    return kept[:most]


def pose_device(spec: ModelSpec) -> dict[str, Any] | None:
    """The page's version (one person; not the 2x2 tiles of the multi-person entries): the cascade, with the
    skeleton's lines; keypoints are drawn while in sight (visibility >= VISIBLE)."""
    edges = [[BLAZEPOSE_NAMES.index(a), BLAZEPOSE_NAMES.index(b)] for a, b in _EDGE_NAMES
             if a in BLAZEPOSE_NAMES and b in BLAZEPOSE_NAMES]
    return blaze.device(spec, "pose", edges=edges, visible_from=VISIBLE, noun="person", result_key="people")


PIPELINES = {
    "mediapipe_pose": Pipeline(postprocess=from_mediapipe_pose),
    "blaze_pose": Pipeline(blaze.preprocess, blaze_pose_post, options=blaze.OPTIONS, device=pose_device),
    "top_down": Pipeline(postprocess=top_down_post),
    "posenet": Pipeline(posenet_pre, posenet_post),
    "movenet": Pipeline(movenet_pre, movenet_post),
}


def draw(canvas: Canvas, result: PoseResult, **_: Any) -> None:
    for person in result.people:
        names = [k.name for k in person.keypoints]
        index = {n: i for i, n in enumerate(names)}
        edges = [(index[a], index[b]) for a, b in _EDGE_NAMES if a in index and b in index]
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


def hub_model(card: HubCard) -> ModelSpec:
    """Bring your own: a top-down keypoint model (ViTPose), reading the people the ViTPose entry's RT-DETR finds."""
    from zoo.registry import get_spec
    from zoo.runtimes.transformers_rt import POSE_CLASSES

    if card.pipeline_tag != "keypoint-detection":
        raise card.refuse(f"is tagged '{card.pipeline_tag or 'no task'}'; this tab needs {TASK.hub_hint}")
    if not any(a in POSE_CLASSES for a in card.architectures):
        kind = " ".join(card.architectures) or "no architecture given"
        raise card.refuse(f"is a keypoint model of a kind the pose tab cannot run ({kind}); it runs top-down "
                          f"pose models: {', '.join(POSE_CLASSES)}")
    return card.spec(task="pose", pipeline="top_down", runtime="transformers_pose",
                     options={"person_label": "person", "detector_min_score": 0.5, "max_people": 5},
                     detector=get_spec("pose/vitpose-base").detector)


TASK = register_task(TaskDef(
    name="pose",
    title="Pose estimation",
    result_type=PoseResult,
    pipelines=PIPELINES,
    draw=draw,
    agreement=agreement,
    default_pair=("pose/blazepose-full", "pose/blazepose-multi-full"),  # one tracked person vs everyone
    trackable=False,
    description="People with named keypoints (BlazePose: 33; COCO models: 17).",
    hub_hint="keypoint-detection, top-down (ViTPose): it reads the people RT-DETR finds",
    hub_model=hub_model,
))
