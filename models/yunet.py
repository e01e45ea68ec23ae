"""YuNet (OpenCV Zoo, ONNX, from the Hub): five keypoints per face, decoded as OpenCV's FaceDetectorYN does."""
from __future__ import annotations

import numpy as np

from tasks.base import Pipeline
from tasks.geometry import Letterbox, letterbox, nms
from tasks.face import Face, FaceResult
from zoo.registry import register_models
from zoo.specs import HubSource, ModelSpec, Thresholds

# YuNet's five, in its order (OpenCV's FaceDetectorYN): eyes, nose tip, mouth corners; "right" is the subject's.
YUNET_NAMES = ("right_eye", "left_eye", "nose_tip", "right_mouth_corner", "left_mouth_corner")


# --- YuNet (OpenCV Zoo, ONNX) -------------------------------------------------------------
YUNET_STRIDES = (8, 16, 32)
YUNET_FLOOR = 0.1  # the lowest score decoded: the Score slider works from here up


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
    boxes, scores, kps = decode_yunet(raw, (h, w), min_score=spec.thresholds.floor,
                                      nms_iou=spec.thresholds.nms)
    faces = []
    for box, score, pts in zip(lb.to_frame(boxes), scores, lb.to_frame(kps)):
        x0, y0, x1, y1 = np.clip(box, 0, [lb.width, lb.height, lb.width, lb.height])
        if x1 > x0 and y1 > y0:
            faces.append(Face(box=(x0, y0, x1, y1), score=float(min(1.0, score)), keypoints=tuple(map(tuple, pts)),
                              keypoint_names=YUNET_NAMES))
    return FaceResult(tuple(faces))



def yunet_device(spec: ModelSpec) -> dict:
    """The page's YuNet (families.js "yunet", on onnxruntime-web): the numbers the decode above reads."""
    w, h = spec.input_size or (640, 640)
    return {"family": "yunet", "input": [w, h], "strides": list(YUNET_STRIDES), "floor": spec.thresholds.floor,
            "thresholds": {"score": spec.thresholds.score, "nms": spec.thresholds.nms},
            "keypoint_names": list(YUNET_NAMES), "noun": "face", "result_key": "faces"}


PIPELINE = Pipeline(yunet_pre, yunet_post, device=yunet_device)

register_models(ModelSpec(
    id="face/yunet",
    task="face",
    name="YuNet (OpenCV Zoo, 2023mar)",
    runtime="onnxruntime",
    pipeline=PIPELINE,
    source=HubSource("opencv/face_detection_yunet", "face_detection_yunet_2023mar.onnx", "main"),
    input_size=(640, 640),
    license="MIT",
    reference="https://doi.org/10.1007/s11633-023-1423-y",
    note="Five keypoints: eyes, nose tip, mouth corners.",
    thresholds=Thresholds(0.9, 0.3, "OpenCV Zoo's YuNet demo: --conf_threshold 0.9, --nms_threshold 0.3",
                          floor=YUNET_FLOOR),
))
