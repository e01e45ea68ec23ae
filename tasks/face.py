"""Face detection and tracking: boxes, scores, facial keypoints (and the dense mesh when there is one)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np

from tasks import blaze
from tasks.base import (InstanceResult, Letterbox, Pipeline, TaskDef, box_agreement, box_of, check_box, check_points,
                        check_score, flip_box, flip_points, letterbox, nms, register_task, rounded, rounded_rows,
                        sigmoid)
from tasks.draw import Canvas, color_ids, instance_label
from zoo.byo import HubCard
from zoo.images import fit_within
from zoo.specs import ModelSpec

# BlazeFace's six keypoints, in its order; "right" is the subject's right.
KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion", "left_ear_tragion")
# YuNet's five, in its order (OpenCV's FaceDetectorYN): eyes, nose tip, mouth corners; "right" is the subject's.
YUNET_NAMES = ("right_eye", "left_eye", "nose_tip", "right_mouth_corner", "left_mouth_corner")
# The same six points in the 478-point refined face mesh (iris centres for the eyes; mouth = mean of two).
MESH_KEYPOINTS = ((468,), (473,), (1,), (13, 14), (234,), (454,))
# ... and in the 468-point mesh (no irises: each eye is the mean of its two corners).
MESH468_KEYPOINTS = ((33, 133), (362, 263), (1,), (13, 14), (234,), (454,))
# The lowest score BlazeFace decodes at: the Score slider works from here up (MediaPipe's own graph: 0.5).
BLAZEFACE_FLOOR = 0.1


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


# --- MediaPipe BlazeFace ------------------------------------------------------------------
def from_mediapipe_detection(raw: Any, hw: tuple[int, int], spec: ModelSpec) -> FaceResult:
    h, w = hw
    faces = []
    for det in raw.detections or ():
        rb = det.location_data.relative_bounding_box
        x0, y0 = rb.xmin * w, rb.ymin * h
        box = (max(0.0, x0), max(0.0, y0), min(float(w), x0 + rb.width * w), min(float(h), y0 + rb.height * h))
        if box[2] <= box[0] or box[3] <= box[1]:
            continue
        kps = tuple((k.x * w, k.y * h) for k in det.location_data.relative_keypoints)
        faces.append(Face(box=box, score=min(1.0, float(det.score[0])), keypoints=kps,
                          keypoint_names=KEYPOINT_NAMES[: len(kps)]))
    return FaceResult(tuple(faces))


# --- MediaPipe face mesh ------------------------------------------------------------------
def from_mediapipe_mesh(raw: Any, hw: tuple[int, int], spec: ModelSpec) -> FaceResult:
    h, w = hw
    faces = []
    for lm in raw.multi_face_landmarks or ():
        pts = np.array([(p.x * w, p.y * h, p.z * w) for p in lm.landmark], dtype=np.float32)
        kps = tuple(tuple(pts[list(idx), :2].mean(axis=0)) for idx in MESH_KEYPOINTS) if len(pts) >= 478 else ()
        # The legacy face mesh reports no per-face score: a returned mesh passed its detector's threshold.
        faces.append(Face(box=box_of(pts, w, h), score=1.0, keypoints=kps, landmarks=pts,
                          keypoint_names=KEYPOINT_NAMES if kps else ()))
    return FaceResult(tuple(faces))


# --- BlazeFace and the face mesh on LiteRT: the project's own port of MediaPipe's graphs ------------
def blazeface_pre(rgb: np.ndarray, spec: ModelSpec) -> tuple[np.ndarray, Letterbox]:
    """The frame fitted (aspect kept, padded) into the detector's square input, scaled as it wants."""
    net = blaze.NetInput.from_options(spec.options["detector"])
    img, lb = blaze.fit(rgb, net.size)
    return net.blob(img), lb


def blazeface_post(raw: dict[str, np.ndarray], lb: Letterbox, spec: ModelSpec) -> FaceResult:
    """BlazeFace's SSD outputs -> faces: anchors, sigmoid scores, MediaPipe's weighted NMS (IoU
    ``thresholds.nms``), decoded from :data:`BLAZEFACE_FLOOR` so the Score slider filters the rest."""
    o = spec.options["detector"]
    dets = blaze.detect(raw, lb, int(o["size"]), tuple(o["strides"]), 6, BLAZEFACE_FLOOR,
                        per_layer=int(o.get("per_layer", 2)), iou=spec.thresholds.nms or 0.3, weighted=True,
                        merge_min=spec.thresholds.score)
    faces = (face_of(d, lb.height, lb.width) for d in dets)
    return FaceResult(tuple(f for f in faces if f is not None))


def face_of(det: blaze.Detection, h: int, w: int) -> Face | None:
    """A detection clipped to the frame; None when nothing of it is left inside (a hit in the padding)."""
    x0, y0, x1, y1 = (float(v) for v in det.box)
    box = (max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1))
    if box[2] <= box[0] or box[3] <= box[1]:
        return None
    return Face(box=box, score=min(1.0, det.score), keypoints=tuple(map(tuple, det.keypoints)),
                keypoint_names=KEYPOINT_NAMES)


def mesh_post(raw: tuple[Any, list], meta: blaze.CascadeMeta, spec: ModelSpec) -> FaceResult:
    """The face landmark model on each detected face's region (MediaPipe's face_landmark_front graph):
    468 landmarks (x, y, z in crop pixels) and a face-presence logit; presence is the face's score."""
    _, crops = raw
    found = []
    for roi, out in crops:
        points, flag = blaze.outputs_of_size(out, 1404), blaze.outputs_of_size(out, 1)
        if not points or not flag:
            raise ValueError("face landmark outputs are not 468 landmarks + a face flag")
        presence = float(sigmoid(np.clip(flag[0][0], -80, 80)))
        if presence < float(spec.options.get("min_presence", 0.5)):
            continue
        found.append((roi.to_frame(points[0].reshape(468, 3), meta.landmark_size), presence))
    found = distinct_faces(found, int(spec.options.get("max_instances", 4)))
    track = meta.track  # stream mode: follow these faces in the next frame, their landmarks smoothed
    if track is not None:
        track.keep([blaze.face_mesh_roi(pts) for pts, _ in found])
        now = track.tick()
        found = [(track.smooth(i, pts, now, blaze.object_scale(pts)), p) for i, (pts, p) in enumerate(found)]
    faces = []
    for pts, presence in found:
        kps = tuple(tuple(pts[list(idx), :2].mean(axis=0)) for idx in MESH468_KEYPOINTS)
        faces.append(Face(box=box_of(pts, meta.width, meta.height), score=presence, keypoints=kps, landmarks=pts,
                          keypoint_names=KEYPOINT_NAMES))
    return FaceResult(tuple(faces))


def distinct_faces(found: list[tuple[np.ndarray, float]], most: int, iou: float = 0.5
                   ) -> list[tuple[np.ndarray, float]]:
    """One mesh per face (two followed regions may converge on one face), best first, at most ``most``."""
    kept: list[tuple[np.ndarray, float]] = []
    for pts, p in sorted(found, key=lambda f: -f[1]):
        box = np.concatenate([pts[:, :2].min(axis=0), pts[:, :2].max(axis=0)])
        if all(blaze.iou_one(box, np.concatenate([k[:, :2].min(axis=0), k[:, :2].max(axis=0)])[None])[0] <= iou
               for k, _ in kept):
            kept.append((pts, p))
    return kept[:most]


# --- OpenCV Haar cascade ------------------------------------------------------------------
def haar_pre(rgb: np.ndarray, spec: ModelSpec) -> tuple[np.ndarray, tuple[float, tuple[int, int]]]:
    import cv2

    small, scale = fit_within(rgb, int(spec.options.get("max_side", 640)))
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    return gray, (scale, rgb.shape[:2])


def haar_post(raw: tuple[np.ndarray, np.ndarray], meta: tuple[float, tuple[int, int]], spec: ModelSpec) -> FaceResult:
    boxes, weights = raw
    scale, (h, w) = meta
    faces = []
    for (x, y, bw, bh), weight in zip(boxes, weights):
        box = (x / scale, y / scale, min(w, (x + bw) / scale), min(h, (y + bh) / scale))
        # The cascade's last-stage weight is unbounded; squash it into a [0, 1] confidence.
        faces.append(Face(box=box, score=float(1.0 / (1.0 + np.exp(-weight)))))
    return FaceResult(tuple(faces))


# --- YuNet (OpenCV Zoo, ONNX) -------------------------------------------------------------
YUNET_STRIDES = (8, 16, 32)


def yunet_pre(rgb: np.ndarray, spec: ModelSpec) -> tuple[np.ndarray, Letterbox]:
    """BGR, 0-255, NCHW, letterboxed into the network's input size (the format OpenCV's FaceDetectorYN feeds)."""
    img, lb = letterbox(rgb, spec.input_size or (640, 640))
    return np.ascontiguousarray(img[:, :, ::-1].transpose(2, 0, 1)[None], dtype=np.float32), lb


def decode_yunet(outputs: dict[str, np.ndarray], input_hw: tuple[int, int], min_score: float = 0.3,
                 nms_iou: float = 0.3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """YuNet's 12 outputs (cls/obj/bbox/kps per stride) -> boxes (N, 4), scores (N,), keypoints (N, 5, 2) in
    network-input pixels. Mirrors the decoding in OpenCV's FaceDetectorYN."""
    h, w = input_hw
    boxes, scores, kps = [], [], []
    for s in YUNET_STRIDES:
        cols = w // s
        cls = np.asarray(outputs[f"cls_{s}"], np.float32).reshape(-1)
        obj = np.asarray(outputs[f"obj_{s}"], np.float32).reshape(-1)
        bbox = np.asarray(outputs[f"bbox_{s}"], np.float32).reshape(-1, 4)
        kp = np.asarray(outputs[f"kps_{s}"], np.float32).reshape(-1, 10)
        score = np.sqrt(np.clip(cls, 0, 1) * np.clip(obj, 0, 1))
        idx = np.flatnonzero(score >= min_score)
        if idx.size == 0:
            continue
        r, c = np.divmod(idx, cols)
        cx, cy = (c + bbox[idx, 0]) * s, (r + bbox[idx, 1]) * s
        bw, bh = np.exp(bbox[idx, 2]) * s, np.exp(bbox[idx, 3]) * s
        boxes.append(np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1))
        scores.append(score[idx])
        pts = kp[idx].reshape(-1, 5, 2)
        kps.append(np.stack([(pts[:, :, 0] + c[:, None]) * s, (pts[:, :, 1] + r[:, None]) * s], axis=2))
    if not boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32)
    boxes, scores, kps = np.concatenate(boxes), np.concatenate(scores), np.concatenate(kps)
    keep = nms(boxes, scores, nms_iou)
    return boxes[keep], scores[keep], kps[keep]


def yunet_post(raw: dict[str, np.ndarray], lb: Letterbox, spec: ModelSpec) -> FaceResult:
    w, h = spec.input_size or (640, 640)
    boxes, scores, kps = decode_yunet(raw, (h, w), min_score=min(0.3, spec.thresholds.score),
                                      nms_iou=spec.thresholds.nms or 0.3)
    faces = []
    for box, score, pts in zip(lb.to_frame(boxes), scores, lb.to_frame(kps)):
        x0, y0, x1, y1 = np.clip(box, 0, [lb.width, lb.height, lb.width, lb.height])
        if x1 > x0 and y1 > y0:
            faces.append(Face(box=(x0, y0, x1, y1), score=float(min(1.0, score)), keypoints=tuple(map(tuple, pts)),
                              keypoint_names=YUNET_NAMES))
    return FaceResult(tuple(faces))


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
                                list(spec.options.get("target_labels", [])), hw)
    keep = scores >= 0.05
    boxes, scores = boxes[keep], scores[keep]
    keep = nms(boxes, scores, 0.5)
    return FaceResult(tuple(Face(box=tuple(b), score=float(min(1.0, s))) for b, s in zip(boxes[keep], scores[keep])
                            if b[2] > b[0] and b[3] > b[1]))


def blazeface_device(spec: ModelSpec) -> dict[str, Any]:
    """What the page's BlazeFace (families.js "blazeface") needs: the same numbers the decode above reads."""
    return {"family": "blazeface", "detector": dict(spec.options["detector"]), "floor": BLAZEFACE_FLOOR,
            "thresholds": {"score": spec.thresholds.score, "nms": spec.thresholds.nms or 0.3},
            "keypoint_names": list(KEYPOINT_NAMES), "noun": "face", "result_key": "faces"}


def mesh_device(spec: ModelSpec) -> dict[str, Any] | None:
    """The face mesh's page version: the cascade, with the mesh's keypoints and drawn lines."""
    return blaze.device(spec, "face_mesh", mesh_keypoints=[list(i) for i in MESH468_KEYPOINTS],
                        mesh_edges=_mesh_edges(468).tolist(), noun="face", result_key="faces")


PIPELINES = {
    "blazeface": Pipeline(blazeface_pre, blazeface_post, options=("detector",), device=blazeface_device),
    "blaze_face_mesh": Pipeline(blaze.preprocess, mesh_post, options=blaze.OPTIONS, device=mesh_device),
    "yunet": Pipeline(yunet_pre, yunet_post),
    "hf_detection_face": Pipeline(postprocess=hf_detection_post, options=("target_labels",)),
    "mediapipe_face_detection": Pipeline(postprocess=from_mediapipe_detection),
    "mediapipe_face_mesh": Pipeline(postprocess=from_mediapipe_mesh),
    "opencv_haar": Pipeline(haar_pre, haar_post, options=("max_side",)),
}
FACE_LABELS = ("face", "human face")  # what a Hub detector's class must be called to find faces


def hub_model(card: HubCard) -> ModelSpec:
    """Bring your own: an object detector with a face class."""
    if card.pipeline_tag != "object-detection":
        raise card.refuse(f"is tagged '{card.pipeline_tag or 'no task'}'; this tab needs {TASK.hub_hint}")
    ids = [i for i, lab in card.id2label.items() if lab.lower() in FACE_LABELS]
    if not ids:
        labels = ", ".join(list(card.id2label.values())[:6]) or "unknown labels"
        raise card.refuse(f"detects {labels}; the face tab needs a detector with a 'face' label")
    return card.spec(task="face", pipeline="hf_detection_face",
                     options={"head": "object_detection", "target_labels": ids})


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
def _mesh_edges(points: int) -> np.ndarray:
    edges = np.array(_MESH_EDGES, dtype=np.int64).reshape(-1, 2)
    return edges[(edges < points).all(axis=1)]


def draw(canvas: Canvas, result: FaceResult, **_: Any) -> None:
    for face in result.faces:
        if face.landmarks:
            canvas.mesh(np.array(face.landmarks), _mesh_edges(len(face.landmarks)))
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
    pipelines=PIPELINES,
    draw=draw,
    agreement=agreement,
    default_pair=("face/blazeface-short", "face/facemesh"),
    trackable=True,
    description="Boxes, scores and facial keypoints; ids follow each face across frames.",
    hub_hint="object-detection with a 'face' label",
    hub_model=hub_model,
))
