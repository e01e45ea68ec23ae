"""MediaPipe's two-stage models as ONNX (OpenCV Zoo's exports): an SSD detector with fixed anchors finds a
palm or a person, a rotated square region around it is cut out, and a landmark model reads that crop.

Everything here is a pure function of arrays. The runner (``zoo.runtimes.base.Cascade``, over ONNX or LiteRT)
only runs the two models and calls the plan's ``crops`` between them; hands and pose build their pipelines from
these pieces. A model's numbers (input sizes, anchor strides, value range, region rule) are data in its
registry entry's ``options``.
"""
from __future__ import annotations

import math
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from tasks.geometry import Letterbox, nms, sigmoid

# The spec options a cascade entry's pipeline reads (see plan() and the landmark stages in hands and pose).
OPTIONS = ("detector", "landmark", "roi", "max_instances", "detector_min_score", "tiles")


@dataclass(frozen=True)
class CascadeOptions:
    """A cascade entry's numbers, read once from its spec's options (:meth:`of`, which is where a missing or
    misspelt one fails): everything below reads these fields."""

    detector: Mapping[str, Any]  # size, strides, layout, range, keypoints, and per_layer / weighted for MediaPipe's
    landmark: Mapping[str, Any]  # size, layout, range, and border "replicate" for BlazePose's crops
    roi: str
    detector_min_score: float
    max_instances: int = 2
    tiles: bool = False

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> "CascadeOptions":
        unknown = set(options) - set(OPTIONS) - {"landmark_model"}
        if unknown:
            raise ValueError(f"cascade options {sorted(unknown)} are not read")
        return cls(**{k: options[k] for k in OPTIONS if k in options})

    @property
    def strides(self) -> tuple[int, ...]:
        return tuple(self.detector["strides"])

    @property
    def per_layer(self) -> int:
        return int(self.detector["per_layer"]) if "per_layer" in self.detector else 2

    @property
    def weighted(self) -> bool:
        return bool(self.detector["weighted"]) if "weighted" in self.detector else False

    @property
    def replicate(self) -> bool:
        return "border" in self.landmark and self.landmark["border"] == "replicate"


# --- the detector -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class NetInput:
    """How a network wants its image: square side, layout and the range 0..255 maps to."""

    size: int
    layout: str = "nhwc"  # or "nchw"
    low: float = 0.0
    high: float = 1.0

    @classmethod
    def from_options(cls, o: Mapping[str, Any]) -> "NetInput":
        low, high = o["range"] if "range" in o else (0.0, 1.0)
        return cls(int(o["size"]), str(o["layout"]) if "layout" in o else "nhwc", float(low), float(high))

    def blob(self, rgb: np.ndarray) -> np.ndarray:
        """A (size x size) RGB uint8 image -> the network's float32 batch of one."""
        x = rgb.astype(np.float32) * ((self.high - self.low) / 255.0) + self.low
        x = x.transpose(2, 0, 1) if self.layout == "nchw" else x
        return np.ascontiguousarray(x[None])


@lru_cache(maxsize=16)
def ssd_anchors(size: int, strides: Sequence[int], per_layer: int = 2) -> np.ndarray:
    """Anchor centres (N, 2), normalised, in MediaPipe's SSD order: layers that share a stride share a
    grid (their anchors interleave per cell), rows then columns, every anchor of a cell together."""
    out = []
    i = 0
    while i < len(strides):
        stride, n = strides[i], 0
        while i < len(strides) and strides[i] == stride:
            n += per_layer
            i += 1
        cells = math.ceil(size / stride)
        ys, xs = np.mgrid[0:cells, 0:cells]
        centres = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)
        out.append(np.repeat(centres, n, axis=0))
    return np.concatenate(out).astype(np.float32)


@dataclass(frozen=True)
class Detection:
    """One detector hit in frame pixels: box (x0, y0, x1, y1) and keypoints (K, 2)."""

    score: float
    box: np.ndarray
    keypoints: np.ndarray


def decode_ssd(regressors: np.ndarray, logits: np.ndarray, anchors: np.ndarray, size: int, keypoints: int,
               min_score: float = 0.5, iou: float = 0.3, weighted: bool = False, merge_min: float = 0.0
               ) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Raw SSD outputs -> [(score, box, keypoints)] in network-input pixels, best first, after NMS (MediaPipe's
    weighted kind when ``weighted``).

    ``regressors`` (N, 4 + 2K): centre offset (x, y) from the anchor and size (w, h), then K keypoint
    offsets, all in input pixels; ``logits`` (N,) are the scores before the sigmoid."""
    reg = np.asarray(regressors, np.float32).reshape(len(anchors), -1)
    if reg.shape[1] < 4 + 2 * keypoints:
        raise ValueError(f"detector gives {reg.shape[1]} numbers per anchor, expected {4 + 2 * keypoints}")
    scores = sigmoid(np.clip(np.asarray(logits, np.float32).reshape(-1), -80, 80))
    idx = np.flatnonzero(scores >= min_score)
    if len(idx) == 0:
        return []
    r, a = reg[idx], anchors[idx] * size
    centre = r[:, :2] + a
    half = r[:, 2:4] / 2
    boxes = np.hstack([centre - half, centre + half])
    kps = r[:, 4:4 + 2 * keypoints].reshape(-1, keypoints, 2) + a[:, None, :]
    if weighted:
        return weighted_nms(scores[idx], boxes, kps, iou, merge_min)
    keep = nms(boxes, scores[idx], iou)
    keep = keep[np.argsort(-scores[idx][keep])]
    return [(float(scores[idx][k]), boxes[k], kps[k]) for k in keep]


def iou_one(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (x0, y0, x1, y1) box with each of ``boxes`` (N, 4)."""
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda b: np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)  # noqa: E731
    union = area(box) + area(boxes) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def weighted_nms(scores: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray, iou: float, merge_min: float = 0.0
                 ) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """MediaPipe's WEIGHTED non-maximum suppression (NonMaxSuppressionCalculator, overlap type IoU): the best
    remaining hit and every hit overlapping it by more than ``iou`` become one, their boxes and keypoints
    averaged with the scores as weights; the merged hit keeps the best score. Best first.

    Hits scored under ``merge_min`` (the model's reference threshold, when the decode starts lower so that
    the Score slider can go lower) are suppressed but not averaged in, so at the reference threshold the
    result is MediaPipe's own."""
    order = np.argsort(-scores, kind="stable")
    out = []
    while len(order):
        top = order[0]
        overlap = iou_one(boxes[top], boxes[order])
        group, order = order[overlap > iou], order[overlap <= iou]
        group = group if len(group) else np.array([top])
        group = np.unique(np.append(group[scores[group] >= merge_min], top))
        w = scores[group][:, None]
        box = (boxes[group] * w).sum(axis=0) / w.sum()
        kps = (keypoints[group] * w[:, :, None]).sum(axis=0) / w.sum()
        out.append((float(scores[top]), box.astype(np.float32), kps.astype(np.float32)))
    return out


def detect(raw: Mapping[str, np.ndarray], lb: Letterbox, size: int, strides: Sequence[int], keypoints: int,
           min_score: float = 0.5, *, per_layer: int = 2, iou: float = 0.3, weighted: bool = False,
           merge_min: float = 0.0) -> list[Detection]:
    """The detector's two outputs (regressors (1, N, 4+2K) and logits (1, N, 1)), told apart by their last
    dimension -> detections in frame pixels."""
    outs = [np.asarray(v) for v in raw.values()]
    logits = next((v for v in outs if v.ndim == 3 and v.shape[-1] == 1), None)
    regs = next((v for v in outs if v.ndim == 3 and v.shape[-1] >= 4 + 2 * keypoints), None)
    if logits is None or regs is None:
        raise ValueError("detector outputs are not (1, N, 4+2K) regressors and (1, N, 1) scores")
    anchors = ssd_anchors(size, strides, per_layer)
    if regs.shape[1] != len(anchors):
        raise ValueError(f"detector has {regs.shape[1]} anchors; strides {tuple(strides)} give {len(anchors)}")
    return [Detection(s, lb.to_frame(b.reshape(2, 2)).reshape(4), lb.to_frame(k))
            for s, b, k in decode_ssd(regs[0], logits[0, :, 0], anchors, size, keypoints, min_score, iou, weighted,
                                      merge_min)]


def image_to_tensor(rgb: np.ndarray, size: tuple[int, int], *, keep_aspect: bool = True
                    ) -> tuple[np.ndarray, Letterbox | None]:
    """The frame into a network's (width, height) input as MediaPipe's ImageToTensorCalculator does on the
    CPU: an affine warp mapping the frame's corners (padded evenly with zeros to the input's aspect when
    ``keep_aspect``) onto the input's, bilinear, no area averaging (the models were trained on that).
    The Letterbox maps input pixels back to the frame (None when stretched)."""
    import cv2

    h, w = rgb.shape[:2]
    out_w, out_h = size
    if keep_aspect:
        s = min(out_w / w, out_h / h)
        sx = sy = s
        tx, ty = (out_w - w * s) / 2, (out_h - h * s) / 2
    else:
        sx, sy, tx, ty = out_w / w, out_h / h, 0.0, 0.0
    m = np.array([[sx, 0.0, tx], [0.0, sy, ty]])
    out = cv2.warpAffine(rgb, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=(0, 0, 0))
    return out, (Letterbox(sx, h, w, (tx, ty)) if keep_aspect else None)


def fit(rgb: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """The frame into a detector's square input, aspect kept (:func:`image_to_tensor`)."""
    return image_to_tensor(rgb, (size, size))


# --- the region of interest -------------------------------------------------------------------------
def rotation(p_from: Sequence[float], p_to: Sequence[float], target: float = math.pi / 2) -> float:
    """MediaPipe's region rotation: how far the line p_from -> p_to is turned from pointing up
    (y grows downwards), in (-pi, pi]."""
    r = target - math.atan2(-(p_to[1] - p_from[1]), p_to[0] - p_from[0])
    return r - 2 * math.pi * math.floor((r + math.pi) / (2 * math.pi))


@dataclass(frozen=True)
class Roi:
    """A rotated square in frame pixels: centre, side and rotation (radians, clockwise on screen)."""

    cx: float
    cy: float
    side: float
    angle: float

    def crop_to_frame(self, out: int) -> np.ndarray:
        """2x3 affine map from crop pixels (out x out) to frame pixels."""
        k = self.side / out
        c, s = math.cos(self.angle) * k, math.sin(self.angle) * k
        h = out / 2
        return np.array([[c, -s, self.cx - c * h + s * h],
                         [s, c, self.cy - s * h - c * h]], dtype=np.float64)

    def cut(self, rgb: np.ndarray, out: int, replicate: bool = False) -> np.ndarray:
        """The region as an out x out image (MediaPipe's ImageToTensorCalculator: bilinear; outside the frame
        zeros, or the edge pixels repeated where the graph says BORDER_REPLICATE, as BlazePose's does)."""
        import cv2

        inv = cv2.invertAffineTransform(self.crop_to_frame(out))
        border = cv2.BORDER_REPLICATE if replicate else cv2.BORDER_CONSTANT
        return cv2.warpAffine(rgb, inv, (out, out), flags=cv2.INTER_LINEAR, borderMode=border, borderValue=(0, 0, 0))

    def to_frame(self, points: np.ndarray, out: int) -> np.ndarray:
        """Crop pixels (n, 2+) -> frame pixels; a third column (depth) is scaled like x and y."""
        pts = np.asarray(points, np.float64)
        m = self.crop_to_frame(out)
        xy = pts[:, :2] @ m[:, :2].T + m[:, 2]
        rest = pts[:, 2:] * (self.side / out)
        return np.hstack([xy, rest]).astype(np.float32)


def palm_roi(det: Detection, *, start: int = 0, end: int = 2, shift_y: float = -0.5, scale: float = 2.6) -> Roi:
    """MediaPipe's hand region from a palm: turned so that wrist -> middle-finger base points up, moved
    half a palm towards the fingers, squared on the long side and enlarged 2.6 times."""
    x0, y0, x1, y1 = (float(v) for v in det.box)
    w, h = x1 - x0, y1 - y0
    r = rotation(det.keypoints[start], det.keypoints[end])
    cx = (x0 + x1) / 2 - h * shift_y * math.sin(r)
    cy = (y0 + y1) / 2 + h * shift_y * math.cos(r)
    return Roi(cx, cy, max(w, h) * scale, r)


def person_roi(det: Detection, *, start: int = 0, end: int = 1, scale: float = 1.25) -> Roi:
    """MediaPipe's body region from a person detection: centred on the hips, a square of twice the hip ->
    full-body point distance, turned so that this line points up, enlarged 1.25 times."""
    return alignment_roi(det.keypoints[start], det.keypoints[end], scale)


def alignment_roi(p0: Sequence[float], p1: Sequence[float], scale: float = 1.25) -> Roi:
    """MediaPipe's AlignmentPointsRectsCalculator: centred on p0, a square of twice |p0 p1|, turned so that
    p0 -> p1 points up, enlarged ``scale`` times (the pose's region, from a detection or from landmarks)."""
    side = 2.0 * float(np.hypot(*(np.asarray(p1[:2]) - np.asarray(p0[:2])))) * scale
    return Roi(float(p0[0]), float(p0[1]), side, rotation(p0, p1))


HAND_ROI_POINTS = [0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18]  # MediaPipe's hand_landmark_landmarks_to_roi
# How stream mode sets the next frame's region from this frame's landmarks, per landmark kind (MediaPipe's
# hand_landmark_landmarks_to_roi, face_landmarks_to_roi, pose's alignment points); the page's version reads
# these from the device spec (:func:`device`).
FOLLOW: dict[str, dict[str, Any]] = {
    "hands": {"rule": "hand", "points": HAND_ROI_POINTS, "scale": 2.0, "shift_y": -0.1},
    "face_mesh": {"rule": "face_mesh", "scale": 1.5},
    "pose": {"rule": "alignment", "scale": 1.25},
}


def hand_roi(points: np.ndarray) -> Roi:
    """The next frame's hand region from this frame's 21 landmarks (MediaPipe's hand landmarks -> rect:
    wrist -> middle of the middle finger's base and the index/ring bases points up; scale 2, shift -0.1)."""
    p = np.asarray(points, np.float64)[:, :2]
    towards = ((p[5] + p[13]) / 2 + p[9]) / 2
    rule = FOLLOW["hands"]
    return landmarks_roi(p[rule["points"]], rotation(p[0], towards), scale=rule["scale"], shift_y=rule["shift_y"])


def face_mesh_roi(points: np.ndarray) -> Roi:
    """The next frame's face region from this frame's mesh (MediaPipe's face_landmarks_to_roi): the
    landmarks' upright box, turned so that the eyes' outer corners (33 -> 263) are level, enlarged 1.5."""
    p = np.asarray(points, np.float64)[:, :2]
    return landmarks_roi(p, rotation(p[33], p[263], target=0.0), scale=FOLLOW["face_mesh"]["scale"],
                         rotated_box=False)


def pose_roi(points: np.ndarray) -> Roi:
    """The next frame's body region from this frame's landmarks: the pose model's two alignment points
    (33: the hips' centre, 34: the full-body point) as MediaPipe's pose graph turns them into a region."""
    return alignment_roi(points[33], points[34], FOLLOW["pose"]["scale"])


def face_roi(det: Detection, *, start: int = 0, end: int = 1, scale: float = 1.5) -> Roi:
    """MediaPipe's face region from a face detection (face_detection_front_detection_to_roi): the box's
    centre, turned so that right eye -> left eye is level, squared on the long side and enlarged 1.5 times."""
    x0, y0, x1, y1 = (float(v) for v in det.box)
    r = rotation(det.keypoints[start], det.keypoints[end], target=0.0)
    return Roi((x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * scale, r)


ROI_RULES: dict[str, Callable[[Detection], Roi]] = {"palm": palm_roi, "person": person_roi, "face": face_roi}


# --- the plan the runner follows ----------------------------------------------------------------------
@dataclass(frozen=True)
class CascadePlan:
    """What the cascade runner runs: each of ``firsts`` through the detector, then ``crops(outputs)`` (one
    detector output per input) gives [(landmark_input, roi)] to run through the landmark model.

    In stream mode the runner is one stream's own and holds its memory (a :class:`Track` inside); it hands it to ``follow``,
    which gives the crops of the regions the last frame's landmarks set (the detector is then skipped), or
    None when the detector must run (nothing followed, or time to look for newcomers)."""

    firsts: list[np.ndarray]
    crops: Callable[[list[Mapping[str, np.ndarray]]], list[tuple[np.ndarray, Roi]]]
    follow: Callable[[dict], list[tuple[np.ndarray, Roi]] | None] | None = None
    memory: dict = field(default_factory=dict)  # the runner puts its memory here for the post-processing


@dataclass(frozen=True)
class CascadeMeta:
    height: int
    width: int
    landmark_size: int
    memory: dict = field(default_factory=dict)  # the plan's: in stream mode {"stream": the runner's memory}

    @property
    def track(self) -> "Track | None":
        """The stream's :class:`Track` in stream mode; None for a still image."""
        stream = self.memory.get("stream")
        return None if stream is None else stream.setdefault("track", Track())


# --- stream mode: follow the landmarks, smooth them --------------------------------------------------
REDETECT_EVERY = 10  # frames between detector runs while fewer instances than wanted are followed
STREAM_HZ = 30.0  # the frame rate the smoothing assumes


@dataclass
class Track:
    """One stream's memory between frames (its runner's, never shared): the regions the last landmarks set,
    frames since the detector last ran, and one landmark filter per followed instance."""

    rois: list[Roi] = field(default_factory=list)
    since_detect: int = 0
    filters: list["OneEuro"] = field(default_factory=list)
    frames: int = 0

    def tick(self) -> float:
        """This frame's time for the filters: the stream's frame count at :data:`STREAM_HZ`, not the wall
        clock, so the same frames give the same landmarks wherever and however fast they run."""
        self.frames += 1
        return self.frames / STREAM_HZ

    def smooth(self, index: int, points: np.ndarray, t: float, scale: float) -> np.ndarray:
        """The instance's landmarks (n, 2+) through its own filter (x and y; the rest passes)."""
        while len(self.filters) <= index:
            self.filters.append(OneEuro())
        out = np.array(points, np.float32, copy=True)
        out[:, :2] = self.filters[index](out[:, :2], t, scale)
        return out

    def keep(self, rois: list[Roi]) -> None:
        """What the post-processing found this frame: the regions for the next one. Each instance keeps the
        filter of the one it continues (the nearest last region, within half its side), so a detector run
        that re-orders or adds instances does not reset anyone's smoothing; an instance with none starts one."""
        filters: list[OneEuro] = []
        free = dict(enumerate(self.rois))
        for roi in rois:
            near = min(free.items(), key=lambda kv: math.hypot(kv[1].cx - roi.cx, kv[1].cy - roi.cy), default=None)
            if near is not None and near[0] < len(self.filters) and \
                    math.hypot(near[1].cx - roi.cx, near[1].cy - roi.cy) < roi.side / 2:
                filters.append(self.filters[near[0]])
                del free[near[0]]
            else:
                filters.append(OneEuro())
        self.rois, self.filters = rois, filters


ONE_EURO = {"min_cutoff": 0.05, "beta": 80.0, "derivate_cutoff": 1.0}  # MediaPipe's pose_landmark_filtering


class OneEuro:
    """MediaPipe's OneEuroFilter (mediapipe/util/filtering/one_euro_filter.cc) over arrays, the values scaled
    by 1 / the object's size as its LandmarksSmoothingCalculator does. Defaults from MediaPipe's
    pose_landmark_filtering graph (:data:`ONE_EURO`), 30 Hz until timed."""

    def __init__(self, min_cutoff: float = ONE_EURO["min_cutoff"], beta: float = ONE_EURO["beta"],
                 derivate_cutoff: float = ONE_EURO["derivate_cutoff"], frequency: float = STREAM_HZ) -> None:
        self.min_cutoff, self.beta, self.derivate_cutoff, self.frequency = min_cutoff, beta, derivate_cutoff, frequency
        self.x: np.ndarray | None = None  # the last filtered value
        self.raw: np.ndarray | None = None  # the last value given
        self.dx: np.ndarray | None = None
        self.t: float | None = None

    def _alpha(self, cutoff: np.ndarray | float) -> np.ndarray | float:
        te = 1.0 / self.frequency
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / te)

    def __call__(self, value: np.ndarray, t: float, object_scale: float) -> np.ndarray:
        value = np.asarray(value, np.float64)
        if self.t is not None and t <= self.t:
            return value.astype(np.float32)
        if self.t is not None:
            self.frequency = 1.0 / (t - self.t)
        self.t = t
        if self.x is None or self.x.shape != value.shape:
            self.x, self.raw, self.dx = value, value, np.zeros_like(value)
            return value.astype(np.float32)
        scale = 1.0 / max(object_scale, 1e-6)
        dvalue = (value - self.raw) * scale * self.frequency  # the variation per second of the raw values
        self.raw = value
        a_d = self._alpha(self.derivate_cutoff)
        self.dx = a_d * dvalue + (1 - a_d) * self.dx
        a = self._alpha(self.min_cutoff + self.beta * np.abs(self.dx))
        self.x = a * value + (1 - a) * self.x
        return self.x.astype(np.float32)


def object_scale(points: np.ndarray) -> float:
    """The size smoothing scales by: the mean of the landmarks' box width and height (MediaPipe's)."""
    p = np.asarray(points, np.float64)[:, :2]
    w, h = p.max(axis=0) - p.min(axis=0)
    return float((w + h) / 2)


def landmarks_roi(points: np.ndarray, angle: float, *, scale: float, shift_y: float = 0.0,
                  rotated_box: bool = True) -> Roi:
    """MediaPipe's region from landmarks (HandLandmarksToRectCalculator, then RectTransformationCalculator):
    the landmarks' box in the frame turned by ``angle`` (or their upright box), moved by ``shift_y`` of its
    height along the turned up direction, squared on the long side and enlarged ``scale`` times."""
    pts = np.asarray(points, np.float64)[:, :2]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = (lo + hi) / 2
    if rotated_box:
        c, s = math.cos(-angle), math.sin(-angle)
        rel = pts - centre
        proj = np.stack([rel[:, 0] * c - rel[:, 1] * s, rel[:, 0] * s + rel[:, 1] * c], axis=1)
        plo, phi = proj.min(axis=0), proj.max(axis=0)
        pc = (plo + phi) / 2
        c, s = math.cos(angle), math.sin(angle)
        centre = centre + np.array([pc[0] * c - pc[1] * s, pc[0] * s + pc[1] * c])
        w, h = phi - plo
    else:
        w, h = hi - lo
    cx = centre[0] - h * shift_y * math.sin(angle)
    cy = centre[1] + h * shift_y * math.cos(angle)
    return Roi(float(cx), float(cy), float(max(w, h) * scale), angle)


def tiles(width: int, height: int, overlap: float = 0.25) -> list[tuple[int, int, int, int]]:
    """2x2 windows (x0, y0, x1, y1) covering the frame, each overlapping its neighbours by ``overlap`` of
    its side: a second look at the people too small for the detector in the whole frame."""
    tw, th = int(round(width * (1 + overlap) / 2)), int(round(height * (1 + overlap) / 2))
    return [(x, y, x + tw, y + th) for y in (0, height - th) for x in (0, width - tw)]


def shifted(d: Detection, dx: float, dy: float) -> Detection:
    return Detection(d.score, d.box + np.array([dx, dy, dx, dy], np.float32), d.keypoints + np.array([dx, dy]))


def plan(rgb: np.ndarray, options: CascadeOptions, *, nms_iou: float) -> tuple[CascadePlan, CascadeMeta]:
    """The detector's letterboxed inputs (the frame, and its 2x2 tiles with ``options.tiles``) and how to
    cut the landmark crops from what it finds: hits from all inputs merged by NMS at ``nms_iou``, best first."""
    det_in = NetInput.from_options(options.detector)
    lm_in = NetInput.from_options(options.landmark)
    h, w = rgb.shape[:2]
    windows = [(0, 0, w, h)] + (tiles(w, h) if options.tiles else [])
    passes = []
    for x0, y0, x1, y1 in windows:
        img, lb = fit(rgb[y0:y1, x0:x1], det_in.size)
        passes.append((det_in.blob(img), lb, (x0, y0)))
    rule = ROI_RULES[options.roi]
    strides = options.strides
    k = int(options.detector["keypoints"])
    merge = {"per_layer": options.per_layer, "iou": nms_iou, "weighted": options.weighted}
    replicate = options.replicate
    most = int(options.max_instances)
    min_score = float(options.detector_min_score)

    def crops(raws: list[Mapping[str, np.ndarray]]) -> list[tuple[np.ndarray, Roi]]:
        dets = [shifted(d, ox, oy) for raw, (_, lb, (ox, oy)) in zip(raws, passes)
                for d in detect(raw, lb, det_in.size, strides, k, min_score, **merge)]
        if len(passes) > 1 and dets:  # the same person seen in the frame and in a tile: keep the best
            keep = nms(np.stack([d.box for d in dets]), np.array([d.score for d in dets], np.float32), nms_iou)
            dets = sorted((dets[i] for i in keep), key=lambda d: -d.score)
        # a few more candidates than wanted: the landmark stage's presence score removes false hits
        rois = [rule(d) for d in dets[: most + (most // 2 if len(passes) > 1 else 0)]]
        return [(lm_in.blob(roi.cut(rgb, lm_in.size, replicate)), roi) for roi in rois]

    def follow(stream: dict) -> list[tuple[np.ndarray, Roi]] | None:
        track = stream.setdefault("track", Track())
        if not track.rois or (len(track.rois) < most and track.since_detect >= REDETECT_EVERY):
            track.since_detect = 0
            return None
        track.since_detect += 1
        return [(lm_in.blob(roi.cut(rgb, lm_in.size, replicate)), roi) for roi in track.rois]

    memory: dict = {}
    return (CascadePlan([p[0] for p in passes], crops, follow, memory),
            CascadeMeta(h, w, lm_in.size, memory))


def device(spec: Any, landmarks: str, *, min_presence: float, **extra: Any) -> dict[str, Any]:
    """A cascade's page version (playground/device_js/families.js "cascade"): the numbers :func:`plan` and the
    landmark stage read, from the spec."""
    o = CascadeOptions.of(spec.options)
    return {"family": "cascade", "landmarks": landmarks, "detector": dict(o.detector), "landmark": dict(o.landmark),
            "roi": o.roi, "max_instances": int(o.max_instances), "tiles": bool(o.tiles),
            "detector_min_score": float(o.detector_min_score), "nms": spec.thresholds.nms,
            "min_presence": min_presence,
            # stream mode, as the server's live view runs it (Track, OneEuro, FOLLOW)
            "stream": {"redetect_every": REDETECT_EVERY, "hz": STREAM_HZ, "one_euro": dict(ONE_EURO),
                       "follow": dict(FOLLOW[landmarks])},
            **extra}


def preprocess(rgb: np.ndarray, spec: Any) -> tuple[CascadePlan, CascadeMeta]:
    """A cascade entry's first step (``spec.options`` holds its numbers, ``spec.thresholds`` its NMS)."""
    return plan(rgb, CascadeOptions.of(spec.options), nms_iou=spec.thresholds.nms)


def refine_from_heatmap(points: np.ndarray, heatmap: np.ndarray, crop: int, kernel: int = 7,
                        min_confidence: float = 0.5) -> np.ndarray:
    """MediaPipe's RefineLandmarksFromHeatmapCalculator: each landmark (crop pixels) moved to the
    confidence-weighted mean of the heatmap cells in a ``kernel``-wide window around it, when the window's
    best confidence (sigmoid of the heatmap) reaches ``min_confidence``. ``heatmap`` is (H, W, landmarks)."""
    hm_h, hm_w, channels = heatmap.shape
    out = np.array(points, np.float32, copy=True)
    off = (kernel - 1) // 2
    for i in range(min(channels, len(out))):
        col, row = int(out[i, 0] / crop * hm_w), int(out[i, 1] / crop * hm_h)
        if not (0 <= col < hm_w and 0 <= row < hm_h):
            continue
        r0, r1, c0, c1 = max(0, row - off), min(hm_h, row + off + 1), max(0, col - off), min(hm_w, col + off + 1)
        conf = 1.0 / (1.0 + np.exp(-np.clip(heatmap[r0:r1, c0:c1, i].astype(np.float64), -80, 80)))
        total = conf.sum()
        if conf.max() >= min_confidence and total > 0:
            rows, cols = np.mgrid[r0:r1, c0:c1]
            out[i, 0] = (cols * conf).sum() / hm_w / total * crop
            out[i, 1] = (rows * conf).sum() / hm_h / total * crop
    return out


def outputs_of_size(raw: Mapping[str, np.ndarray], n: int) -> list[np.ndarray]:
    """The outputs holding exactly n numbers, in the graph's output order, flattened."""
    return [np.asarray(v, np.float32).reshape(-1) for v in raw.values() if np.size(v) == n]
