"""MediaPipe BlazeFace, short and full range (LiteRT): the playground's port of MediaPipe's face detection
graph, and that graph itself as a reference where the mediapipe package is installed."""
from __future__ import annotations

from typing import Any

import numpy as np

from models import blaze
from models.mp_common import APACHE, mp_file, reference
from tasks.base import Pipeline
from tasks.geometry import Letterbox
from tasks.face import Face, FaceResult
from zoo.registry import register_models
from zoo.specs import ModelSpec, Thresholds

REFERENCE = "https://arxiv.org/abs/1907.05047"
# BlazeFace's six keypoints, in its order; "right" is the subject's right.
KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion", "left_ear_tragion")


# The lowest score BlazeFace decodes at: the Score slider works from here up (MediaPipe's own graph: 0.5).
FLOOR = 0.1


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


# --- BlazeFace and the face mesh on LiteRT: the project's own port of MediaPipe's graphs ------------
def blazeface_pre(rgb: np.ndarray, spec: ModelSpec) -> tuple[np.ndarray, Letterbox]:
    """The frame fitted (aspect kept, padded) into the detector's square input, scaled as it wants."""
    net = blaze.NetInput.from_options(spec.options["detector"])
    img, lb = blaze.fit(rgb, net.size)
    return net.blob(img), lb


def blazeface_post(raw: dict[str, np.ndarray], lb: Letterbox, spec: ModelSpec) -> FaceResult:
    """BlazeFace's SSD outputs -> faces: anchors, sigmoid scores, MediaPipe's weighted NMS (IoU
    ``thresholds.nms``), decoded from ``thresholds.floor`` so the Score slider filters the rest."""
    o = spec.options["detector"]
    dets = blaze.detect(raw, lb, int(o["size"]), tuple(o["strides"]), 6, spec.thresholds.floor,
                        per_layer=int(o["per_layer"]), iou=spec.thresholds.nms, weighted=True,
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


def blazeface_device(spec: ModelSpec) -> dict[str, Any]:
    """What the page's BlazeFace (families.js "blazeface") needs: the same numbers the decode above reads."""
    return {"family": "blazeface", "detector": dict(spec.options["detector"]), "floor": spec.thresholds.floor,
            "thresholds": {"score": spec.thresholds.score, "nms": spec.thresholds.nms},
            "keypoint_names": list(KEYPOINT_NAMES), "noun": "face", "result_key": "faces"}



PIPELINE = Pipeline(blazeface_pre, blazeface_post, options=("detector",), device=blazeface_device)
GRAPH = Pipeline(postprocess=from_mediapipe_detection)

# BlazeFace's numbers, from MediaPipe's face_detection_*_range graphs (SsdAnchorsCalculator)
DETECTOR = {
    "short": {"size": 128, "strides": (8, 16, 16, 16), "per_layer": 2, "range": (-1.0, 1.0), "keypoints": 6,
              "weighted": True},
    "full": {"size": 192, "strides": (4,), "per_layer": 1, "range": (-1.0, 1.0), "keypoints": 6, "weighted": True},
}
MIN_SCORE = {"short": 0.5, "full": 0.6}  # the full-range graph's own; its solution does not override it
FILES = {"short": "modules/face_detection/face_detection_short_range.tflite",
         "full": "modules/face_detection/face_detection_full_range_sparse.tflite"}


def entry(variant: str, note: str) -> ModelSpec:
    return ModelSpec(
        id=f"face/blazeface-{variant}",
        task="face",
        name=f"MediaPipe BlazeFace {variant} range",
        runtime="litert",
        pipeline=PIPELINE,
        source=mp_file(FILES[variant]),
        input_size=(DETECTOR[variant]["size"],) * 2,
        license=APACHE,
        reference=REFERENCE,
        options={"detector": DETECTOR[variant]},
        note=note,
        thresholds=Thresholds(MIN_SCORE[variant], 0.3,
                              f"MediaPipe's face_detection_{variant}_range graph: min_score_thresh "
                              f"{MIN_SCORE[variant]}, weighted NMS IoU 0.3", floor=FLOOR),
    )


SHORT = entry("short", "Faces within about 2 m of the camera.")
FULL = entry("full", "Faces up to about 5 m from the camera.")
register_models(
    SHORT, FULL,
    *(reference(spec, {"solution": "face_detection", "model_selection": i, "min_confidence": 0.5}, GRAPH)
      for i, spec in enumerate((SHORT, FULL))),
)
