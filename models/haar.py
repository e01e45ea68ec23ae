"""OpenCV's Haar cascade for frontal faces (Viola-Jones, 2001): the classic baseline, shipped inside OpenCV."""
from __future__ import annotations

import numpy as np

from tasks.base import Pipeline
from tasks.face import Face, FaceResult
from zoo.images import fit_within
from zoo.registry import register_models
from zoo.specs import BundledSource, ModelSpec, Thresholds

# --- OpenCV Haar cascade ------------------------------------------------------------------
def haar_pre(rgb: np.ndarray, spec: ModelSpec) -> tuple[np.ndarray, tuple[float, tuple[int, int]]]:
    import cv2

    small, scale = fit_within(rgb, int(spec.options["max_side"]))
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



PIPELINE = Pipeline(haar_pre, haar_post, options=("max_side",))

register_models(ModelSpec(
    id="face/haar-frontal",
    task="face",
    name="OpenCV Haar cascade, frontal face (Viola-Jones)",
    runtime="opencv_cascade",
    pipeline=PIPELINE,
    source=BundledSource("cv2", "data/haarcascade_frontalface_default.xml"),
    input_size=None,
    license="BSD-3-Clause (Intel License Agreement)",
    reference="https://doi.org/10.1109/CVPR.2001.990517",
    options={"scale_factor": 1.15, "min_neighbors": 5, "max_side": 640, "min_size_frac": 0.1},
    note="Classic 2001 baseline: no keypoints, frontal faces only.",
    thresholds=Thresholds(0.5, source="the playground's: OpenCV gives level weights, squashed by a sigmoid",
                          floor=0.0),
))
