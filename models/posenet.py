"""PoseNet MobileNet (Qualcomm AI Hub's ONNX export, from the Hub): PoseNet's own multi-person decoding."""
from __future__ import annotations

import numpy as np

from tasks.base import Pipeline
from tasks.geometry import Letterbox, letterbox, sigmoid
from tasks.pose import COCO_NAMES, PoseResult, person_from_points
from zoo.registry import register_models
from zoo.specs import HubSource, ModelSpec, Thresholds

POSENET_STRIDE = 16
MAX_PEOPLE = 6  # the most people decoded (the playground's choice, as for multi-person BlazePose)


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
                                                            max_people=MAX_PEOPLE)]
    return PoseResult(tuple(people))



PIPELINE = Pipeline(posenet_pre, posenet_post)

register_models(ModelSpec(
    id="pose/posenet-mobilenet",
    task="pose",
    name="PoseNet MobileNet (Qualcomm AI Hub)",
    runtime="onnxruntime",
    pipeline=PIPELINE,
    source=HubSource("qualcomm/Posenet-Mobilenet", "Posenet-Mobilenet.onnx",
                     "2fd0c588aad92dffd796c8c70b4d5ff29679fc87", revision_is_commit=True),
    input_size=(257, 513),
    license="Apache-2.0",
    reference="https://arxiv.org/abs/1803.08225",
    note=("Multi-pose decoding (PoseNet's own: heatmap peaks as roots, mid-range displacements along the "
          "skeleton) when the graph carries its displacement outputs; else one person at the heatmap peaks."),
    thresholds=Thresholds(0.5, source="tfjs-models PoseNet: minPoseConfidence 0.5"),
))
