"""MediaPipe Selfie Segmentation (general 256x256 and landscape 256x144, LiteRT): the playground's port of its
graph, and that graph as a reference where the mediapipe package is installed."""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from models.mp_common import APACHE, mp_file, reference
from tasks.base import Pipeline
from tasks.segmentation import SegmentationResult, color_of
from zoo.registry import register_models
from zoo.specs import ModelSpec, Thresholds

def from_mediapipe_selfie(raw: Any, hw: tuple[int, int], spec: ModelSpec) -> SegmentationResult:
    h, w = hw
    prob = raw.segmentation_mask
    if prob is None:
        return SegmentationResult.empty(h, w, spec.labels)
    return SegmentationResult.from_foreground(prob, spec.labels)


# --- MediaPipe selfie segmentation on LiteRT: the project's own port of its graph ----------------------
def selfie_pre(rgb: np.ndarray, spec: ModelSpec) -> tuple[np.ndarray, tuple[int, int]]:
    """The frame stretched to the model's input as MediaPipe's graph samples it (no aspect ratio kept), RGB
    in [0, 1]."""
    from models.blaze import image_to_tensor

    img, _ = image_to_tensor(rgb, spec.input_size, keep_aspect=False)
    return np.ascontiguousarray((img.astype(np.float32) * (1.0 / 255.0))[None]), rgb.shape[:2]


def selfie_post(raw: dict[str, np.ndarray], hw: tuple[int, int], spec: ModelSpec) -> SegmentationResult:
    """The person probability (the model's own sigmoid), upsampled bilinearly to the frame before any
    threshold, so the mask's edge is smooth."""
    prob = np.asarray(next(iter(raw.values())), np.float32)[0, :, :, 0]
    h, w = hw
    return SegmentationResult.from_foreground(cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR),
                                              spec.labels, threshold=spec.thresholds.score)


def selfie_device(spec: ModelSpec) -> dict[str, Any]:
    """The page's version (families.js "selfie"): the input size, the person's colour, the default threshold."""
    w, h = spec.input_size
    return {"family": "selfie", "input": [w, h], "labels": list(spec.labels), "color": list(color_of(1, "person")),
            "thresholds": {"score": spec.thresholds.score}, "noun": "person", "result_key": "coverage"}



PIPELINE = Pipeline(selfie_pre, selfie_post, device=selfie_device)
GRAPH = Pipeline(postprocess=from_mediapipe_selfie)


def entry(variant: str, size: tuple[int, int], file: str) -> ModelSpec:
    return ModelSpec(
        id=f"segmentation/selfie-{variant}",
        task="segmentation",
        name=f"MediaPipe Selfie Segmentation ({variant}, {size[0]}x{size[1]})",
        runtime="litert",
        pipeline=PIPELINE,
        source=mp_file(f"modules/selfie_segmentation/{file}"),
        input_size=size,
        labels=("background", "person"),
        license=APACHE,
        reference="https://ai.google.dev/edge/mediapipe/solutions/vision/image_segmenter",
        thresholds=Thresholds(0.1, source="MediaPipe's selfie segmentation example: segmentation_mask > 0.1"),
    )


SELFIE = {"general": entry("general", (256, 256), "selfie_segmentation.tflite"),
          "landscape": entry("landscape", (256, 144), "selfie_segmentation_landscape.tflite")}
register_models(*SELFIE.values(), *(reference(spec, {"solution": "selfie_segmentation", "model_selection": i}, GRAPH)
                                    for i, spec in enumerate(SELFIE.values())))
