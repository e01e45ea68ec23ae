"""Face detection and tracking: boxes, scores, facial keypoints (and the dense mesh when there is one)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np

from tasks.agreement import box_agreement
from tasks.base import Example, Pipeline, register_task, TaskDef
from tasks.geometry import nms, sigmoid
from tasks.results import (check_box, check_points, check_score, flip_box, flip_points, InstanceResult, rounded,
                           rounded_rows)
from tasks.draw import Canvas, color_ids, instance_label
from zoo.byo import HubCard
from zoo.images import sample_grid
from zoo.specs import ModelSpec, Thresholds


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]
    score: float
    keypoints: tuple[tuple[float, float], ...] = ()
    landmarks: tuple[tuple[float, float, float], ...] = ()  # dense mesh (x, y, z) in pixels, when the model has one
    track_id: int | None = None
    keypoint_names: tuple[str, ...] = ()  # one per keypoint (KEYPOINT_NAMES, YUNET_NAMES)

    def __post_init__(self) -> None:
        object.__setattr__(self, "box", check_box(self.box, "face box"))
        object.__setattr__(self, "score", check_score(self.score, "face score"))
        object.__setattr__(self, "keypoints", check_points(self.keypoints, 2, "face keypoints"))
        object.__setattr__(self, "landmarks", check_points(self.landmarks, 3, "face landmarks"))
        names = tuple(self.keypoint_names) or tuple(f"keypoint_{i}" for i in range(len(self.keypoints)))
        if len(names) != len(self.keypoints):
            raise ValueError(f"{len(self.keypoints)} face keypoints but {len(names)} names")
        object.__setattr__(self, "keypoint_names", names)

    def flipped(self, width: int) -> "Face":
        # Mirroring swaps which side of the picture each eye and ear is on, not whose eye it is.
        return replace(self, box=flip_box(self.box, width), keypoints=flip_points(self.keypoints, width),
                       landmarks=flip_points(self.landmarks, width))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "box": rounded(self.box),
            "score": round(self.score, 4),
            # named like the pose keypoints: {"name", "x", "y"}
            "keypoints": [{"name": n, "x": round(float(x), 2), "y": round(float(y), 2)}
                          for n, (x, y) in zip(self.keypoint_names, self.keypoints)],
            "track_id": self.track_id,
        }
        if self.landmarks:
            out["landmarks"] = rounded_rows(self.landmarks)
        return out


@dataclass(frozen=True)
class FaceResult(InstanceResult[Face]):
    key = "faces"

    @property
    def faces(self) -> tuple[Face, ...]:
        return self.items


# --- transformers object detectors with a "face" label (DETR, YOLOS, RT-DETR, ...) -------------------
def decode_detr(logits: np.ndarray, boxes: np.ndarray, activation: str, targets: list[int],
                hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(1, Q, C[+1]) class logits and (1, Q, 4) normalised (cx, cy, w, h) -> boxes in frame pixels and
    the best target-class score of each query."""
    lg = np.asarray(logits, np.float32)[0]
    if activation == "sigmoid":
        prob = sigmoid(lg)
    else:
        e = np.exp(lg - lg.max(axis=1, keepdims=True))
        prob = (e / e.sum(axis=1, keepdims=True))[:, :-1]  # the last class is "no object"
    scores = prob[:, targets].max(axis=1) if targets else np.zeros(len(prob), np.float32)
    h, w = hw
    cx, cy, bw, bh = np.asarray(boxes, np.float32)[0].T
    xyxy = np.stack([(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h], axis=1)
    return np.clip(xyxy, 0, [w, h, w, h]), scores


def hf_detection_post(raw: dict, hw: tuple[int, int], spec: ModelSpec) -> FaceResult:
    boxes, scores = decode_detr(raw["logits"], raw["pred_boxes"], raw["activation"],
                                list(spec.options["target_labels"]), hw)
    keep = scores >= spec.thresholds.floor
    boxes, scores = boxes[keep], scores[keep]
    keep = nms(boxes, scores, spec.thresholds.nms)
    return FaceResult(tuple(Face(box=tuple(b), score=float(min(1.0, s))) for b, s in zip(boxes[keep], scores[keep])
                            if b[2] > b[0] and b[3] > b[1]))


# a Hub object detector brought by a visitor (its rule below): DETR-style outputs, the face class kept
HF_DETECTION = Pipeline(postprocess=hf_detection_post, options=("target_labels",))
FACE_LABELS = ("face", "human face")  # what a Hub detector's class must be called to find faces


def hub_model(card: HubCard) -> ModelSpec:
    """Bring your own: an object detector with a face class."""
    if card.pipeline_tag != "object-detection":
        raise card.refuse(f"is tagged '{card.pipeline_tag or 'no task'}'; this tab needs {TASK.hub_hint}")
    ids = [i for i, lab in card.id2label.items() if lab.lower() in FACE_LABELS]
    if not ids:
        labels = ", ".join(list(card.id2label.values())[:6]) or "unknown labels"
        raise card.refuse(f"detects {labels}; the face tab needs a detector with a 'face' label")
    return card.spec(task="face", pipeline=HF_DETECTION, options={"head": "object_detection", "target_labels": ids},
                     thresholds=Thresholds(0.5, 0.5, "the playground's default for a Hub detector", floor=0.05))


# The mesh's drawn lines: MediaPipe's FACEMESH_CONTOURS and FACEMESH_IRISES (face_mesh_connections.py,
# Apache-2.0), as flat (from, to) pairs; the iris lines (points 468+) apply to the 478-point mesh only.
_MESH_EDGES = (
    0, 267, 7, 163, 10, 338, 13, 312, 14, 317, 17, 314, 21, 54, 33, 7, 33, 246, 37, 0, 39, 37, 40, 39, 46, 53, 52,
    65, 53, 52, 54, 103, 58, 132, 61, 146, 61, 185, 63, 105, 65, 55, 66, 107, 67, 109, 70, 63, 78, 95, 78, 191, 80,
    81, 81, 82, 82, 13, 84, 17, 87, 14, 88, 178, 91, 181, 93, 234, 95, 88, 103, 67, 105, 66, 109, 10, 127, 162, 132,
    93, 136, 172, 144, 145, 145, 153, 146, 91, 148, 176, 149, 150, 150, 136, 152, 148, 153, 154, 154, 155, 155, 133,
    157, 173, 158, 157, 159, 158, 160, 159, 161, 160, 162, 21, 163, 144, 172, 58, 173, 133, 176, 149, 178, 87, 181,
    84, 185, 40, 191, 80, 234, 127, 246, 161, 249, 390, 251, 389, 263, 249, 263, 466, 267, 269, 269, 270, 270, 409,
    276, 283, 282, 295, 283, 282, 284, 251, 288, 397, 293, 334, 295, 285, 296, 336, 297, 332, 300, 293, 310, 415,
    311, 310, 312, 311, 314, 405, 317, 402, 318, 324, 321, 375, 323, 361, 324, 308, 332, 284, 334, 296, 338, 297,
    356, 454, 361, 288, 365, 379, 373, 374, 374, 380, 375, 291, 377, 152, 378, 400, 379, 378, 380, 381, 381, 382,
    382, 362, 384, 398, 385, 384, 386, 385, 387, 386, 388, 387, 389, 356, 390, 373, 397, 365, 398, 362, 400, 377,
    402, 318, 405, 321, 409, 291, 415, 308, 454, 323, 466, 388, 469, 470, 470, 471, 471, 472, 472, 469, 474, 475,
    475, 476, 476, 477, 477, 474,
)


@lru_cache(maxsize=2)
def mesh_edges(points: int) -> np.ndarray:
    edges = np.array(_MESH_EDGES, dtype=np.int64).reshape(-1, 2)
    return edges[(edges < points).all(axis=1)]


def draw(canvas: Canvas, result: FaceResult, **_: Any) -> None:
    for face in result.faces:
        if face.landmarks:
            canvas.mesh(np.array(face.landmarks), mesh_edges(len(face.landmarks)))
    canvas.boxes(result.boxes, [instance_label("face", f.score, f.track_id) for f in result.faces],
                 color_ids([f.track_id for f in result.faces]))
    kps = [f.keypoints for f in result.faces if f.keypoints]
    if kps:
        canvas.keypoints(np.array(kps))


def agreement(a: FaceResult, b: FaceResult) -> dict[str, Any]:
    return box_agreement(a, b, "faces")


TASK = register_task(TaskDef(
    name="face",
    title="Face detection",
    result_type=FaceResult,
    draw=draw,
    agreement=agreement,
    default_pair=("face/blazeface-short", "face/facemesh"),
    trackable=True,
    description=("Each face gets a box, a score (how sure the model is) and a few points (eyes, nose, mouth, "
                 "ears); in the live view a number follows each face from frame to frame."),
    examples=(
        Example("Three faces in a row", "the sample portrait three times, composed here: both find all three",
                lambda: sample_grid(3, 1, 0.6), {"a": 3, "b": 3}),
        Example("Six faces", "six times, composed here: BlazeFace finds all six, the face mesh follows at most "
                "four", lambda: sample_grid(3, 2, 0.5), {"a": 6, "b": 4}),
    ),
    hub_hint="object-detection with a 'face' label",
    hub_model=hub_model,
))
