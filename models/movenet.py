"""MoveNet SinglePose Lightning (ONNX export of the TF Hub model, from the Hub): one person, 17 COCO keypoints."""
from __future__ import annotations

import numpy as np

from tasks.base import Pipeline
from tasks.geometry import Letterbox, letterbox
from tasks.pose import COCO_NAMES, PoseResult, person_from_points
from zoo.registry import register_models
from zoo.specs import HubSource, ModelSpec, Thresholds

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



PIPELINE = Pipeline(movenet_pre, movenet_post)

register_models(ModelSpec(
    id="pose/movenet-lightning",
    task="pose",
    name="MoveNet SinglePose Lightning (ONNX)",
    runtime="onnxruntime",
    pipeline=PIPELINE,
    source=HubSource("Xenova/movenet-singlepose-lightning", "onnx/model.onnx",
                     "1baf53634ad1a1b18749fd8ae205e6265c6077af", revision_is_commit=True),
    input_size=(192, 192),
    license="Apache-2.0",
    reference="https://www.tensorflow.org/hub/tutorials/movenet",
    thresholds=Thresholds(0.11, source="TF Hub's MoveNet tutorial: keypoint_threshold 0.11"),
))
