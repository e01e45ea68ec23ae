"""MediaPipe's two-stage models as ONNX (OpenCV Zoo's exports): an SSD detector with fixed anchors finds a
palm or a person, a rotated square region around it is cut out, and a landmark model reads that crop.

Everything here is a pure function of arrays. The runner (``zoo.runtimes.base.Cascade``, over ONNX or LiteRT)
only runs the two models and calls the plan's ``crops`` between them; hands and pose build their pipelines from
these pieces. A model's numbers (input sizes, anchor strides, value range, region rule) are data in its
registry entry's ``options``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from tasks.base import Letterbox, letterbox, nms, sigmoid

# The spec options a cascade entry's pipeline reads (see plan() and the landmark stages in hands and pose).
OPTIONS = ("detector", "landmark", "roi", "max_instances", "detector_min_score", "min_presence", "tiles")


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
        low, high = o.get("range", (0.0, 1.0))
        return cls(int(o["size"]), str(o.get("layout", "nhwc")), float(low), float(high))

    def blob(self, rgb: np.ndarray) -> np.ndarray:
        """A (size x size) RGB uint8 image -> the network's float32 batch of one."""
        x = rgb.astype(np.float32) * ((self.high - self.low) / 255.0) + self.low
        x = x.transpose(2, 0, 1) if self.layout == "nchw" else x
        return np.ascontiguousarray(x[None])


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
               min_score: float = 0.5, iou: float = 0.3) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Raw SSD outputs -> [(score, box, keypoints)] in network-input pixels, best first, after NMS.

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
    keep = nms(boxes, scores[idx], iou)
    keep = keep[np.argsort(-scores[idx][keep])]
    return [(float(scores[idx][k]), boxes[k], kps[k]) for k in keep]


def detect(raw: Mapping[str, np.ndarray], lb: Letterbox, size: int, strides: Sequence[int], keypoints: int,
           min_score: float = 0.5) -> list[Detection]:
    """The detector's two outputs (regressors (1, N, 4+2K) and logits (1, N, 1)), told apart by their last
    dimension -> detections in frame pixels."""
    outs = [np.asarray(v) for v in raw.values()]
    logits = next((v for v in outs if v.ndim == 3 and v.shape[-1] == 1), None)
    regs = next((v for v in outs if v.ndim == 3 and v.shape[-1] >= 4 + 2 * keypoints), None)
    if logits is None or regs is None:
        raise ValueError("detector outputs are not (1, N, 4+2K) regressors and (1, N, 1) scores")
    anchors = ssd_anchors(size, strides)
    if regs.shape[1] != len(anchors):
        raise ValueError(f"detector has {regs.shape[1]} anchors; strides {tuple(strides)} give {len(anchors)}")
    return [Detection(s, lb.to_frame(b.reshape(2, 2)).reshape(4), lb.to_frame(k))
            for s, b, k in decode_ssd(regs[0], logits[0, :, 0], anchors, size, keypoints, min_score)]


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

    def cut(self, rgb: np.ndarray, out: int) -> np.ndarray:
        import cv2

        inv = cv2.invertAffineTransform(self.crop_to_frame(out))
        return cv2.warpAffine(rgb, inv, (out, out), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=(0, 0, 0))

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
    p0, p1 = det.keypoints[start], det.keypoints[end]
    side = 2.0 * float(np.hypot(*(np.asarray(p1) - np.asarray(p0)))) * scale
    return Roi(float(p0[0]), float(p0[1]), side, rotation(p0, p1))


ROI_RULES: dict[str, Callable[[Detection], Roi]] = {"palm": palm_roi, "person": person_roi}


# --- the plan the runner follows ----------------------------------------------------------------------
@dataclass(frozen=True)
class CascadePlan:
    """What the cascade runner runs: each of ``firsts`` through the detector, then ``crops(outputs)`` (one
    detector output per input) gives [(landmark_input, roi)] to run through the landmark model."""

    firsts: list[np.ndarray]
    crops: Callable[[list[Mapping[str, np.ndarray]]], list[tuple[np.ndarray, Roi]]]


@dataclass(frozen=True)
class CascadeMeta:
    height: int
    width: int
    landmark_size: int


def tiles(width: int, height: int, overlap: float = 0.25) -> list[tuple[int, int, int, int]]:
    """2x2 windows (x0, y0, x1, y1) covering the frame, each overlapping its neighbours by ``overlap`` of
    its side: a second look at the people too small for the detector in the whole frame."""
    tw, th = int(round(width * (1 + overlap) / 2)), int(round(height * (1 + overlap) / 2))
    return [(x, y, x + tw, y + th) for y in (0, height - th) for x in (0, width - tw)]


def shifted(d: Detection, dx: float, dy: float) -> Detection:
    return Detection(d.score, d.box + np.array([dx, dy, dx, dy], np.float32), d.keypoints + np.array([dx, dy]))


def plan(rgb: np.ndarray, options: Mapping[str, Any]) -> tuple[CascadePlan, CascadeMeta]:
    """The detector's letterboxed inputs (the frame, and its 2x2 tiles when ``options["tiles"]``) and how to
    cut the landmark crops from what it finds: hits from all inputs merged by NMS, best first."""
    det_in = NetInput.from_options(options["detector"])
    lm_in = NetInput.from_options(options["landmark"])
    h, w = rgb.shape[:2]
    windows = [(0, 0, w, h)] + (tiles(w, h) if options.get("tiles") else [])
    passes = []
    for x0, y0, x1, y1 in windows:
        img, lb = letterbox(rgb[y0:y1, x0:x1], (det_in.size, det_in.size))
        passes.append((det_in.blob(img), lb, (x0, y0)))
    rule = ROI_RULES[options["roi"]]
    strides = tuple(options["detector"]["strides"])
    k = int(options["detector"]["keypoints"])
    most = int(options.get("max_instances", 2))
    min_score = float(options.get("detector_min_score", 0.5))

    def crops(raws: list[Mapping[str, np.ndarray]]) -> list[tuple[np.ndarray, Roi]]:
        dets = [shifted(d, ox, oy) for raw, (_, lb, (ox, oy)) in zip(raws, passes)
                for d in detect(raw, lb, det_in.size, strides, k, min_score)]
        if len(passes) > 1 and dets:  # the same person seen in the frame and in a tile: keep the best
            keep = nms(np.stack([d.box for d in dets]), np.array([d.score for d in dets], np.float32), 0.3)
            dets = sorted((dets[i] for i in keep), key=lambda d: -d.score)
        # a few more candidates than wanted: the landmark stage's presence score removes false hits
        rois = [rule(d) for d in dets[: most + (most // 2 if len(passes) > 1 else 0)]]
        return [(lm_in.blob(roi.cut(rgb, lm_in.size)), roi) for roi in rois]

    return CascadePlan([p[0] for p in passes], crops), CascadeMeta(h, w, lm_in.size)


def preprocess(rgb: np.ndarray, spec: Any) -> tuple[CascadePlan, CascadeMeta]:
    """The task pipelines' first step for a cascade entry (``spec.options`` holds its numbers)."""
    return plan(rgb, spec.options)


def outputs_of_size(raw: Mapping[str, np.ndarray], n: int) -> list[np.ndarray]:
    """The outputs holding exactly n numbers, in the graph's output order, flattened."""
    return [np.asarray(v, np.float32).reshape(-1) for v in raw.values() if np.size(v) == n]
