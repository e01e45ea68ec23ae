"""PP-HumanSeg (OpenCV Zoo, ONNX, from the Hub): background and person scores, the person's probability kept."""
from __future__ import annotations

import cv2
import numpy as np

from tasks.base import Pipeline
from tasks.segmentation import SegmentationResult, softmax
from zoo.registry import register_models
from zoo.specs import HubSource, ModelSpec, Thresholds

def pphumanseg_pre(rgb: np.ndarray, spec: ModelSpec) -> tuple[np.ndarray, tuple[int, int]]:
    """RGB resized to the input size, scaled to [-1, 1], NCHW."""
    w, h = spec.input_size or (192, 192)
    x = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) * (2.0 / 255.0) - 1.0
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None]), rgb.shape[:2]


def two_class_foreground(scores: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """(1, 2, h, w) background/person scores (logits or probabilities) -> person probability at frame size."""
    s = np.asarray(scores, np.float32)[0]
    prob = s if (s.min() >= 0 and s.max() <= 1 and np.allclose(s.sum(axis=0), 1, atol=1e-3)) else softmax(s)
    h, w = hw
    return cv2.resize(prob[1], (w, h), interpolation=cv2.INTER_LINEAR)


def pphumanseg_post(raw: dict[str, np.ndarray], hw: tuple[int, int], spec: ModelSpec) -> SegmentationResult:
    return SegmentationResult.from_foreground(two_class_foreground(next(iter(raw.values())), hw), spec.labels)



PIPELINE = Pipeline(pphumanseg_pre, pphumanseg_post)

register_models(ModelSpec(
    id="segmentation/pphumanseg",
    task="segmentation",
    name="PP-HumanSeg (OpenCV Zoo, 2023mar)",
    runtime="onnxruntime",
    pipeline=PIPELINE,
    source=HubSource("opencv/human_segmentation_pphumanseg", "human_segmentation_pphumanseg_2023mar.onnx", "main"),
    input_size=(192, 192),
    labels=("background", "person"),
    license="Apache-2.0",
    reference="https://arxiv.org/abs/2112.07146",
    thresholds=Thresholds(0.5, source="OpenCV Zoo's demo: argmax of background and person"),
))
