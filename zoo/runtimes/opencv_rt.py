"""OpenCV runtime: Haar cascades."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from zoo.runtimes.base import register_runtime, threads_per_model
from zoo.specs import ModelSpec


class CascadeRunner:
    """Runs a Haar cascade on a grayscale image; returns (boxes xywh, level weights)."""

    def __init__(self, path: Path, options: Any):
        import cv2

        # OpenCV's own thread pool would take every core from the other model and the browser
        cv2.setNumThreads(threads_per_model())
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise RuntimeError(f"OpenCV could not read the cascade {path.name}")
        self._opts = options
        self._lock = threading.Lock()

    def __call__(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        side = int(min(gray.shape[:2]) * self._opts.get("min_size_frac", 0.0))
        with self._lock:
            boxes, _levels, weights = self._cascade.detectMultiScale3(
                gray,
                scaleFactor=self._opts.get("scale_factor", 1.1),
                minNeighbors=self._opts.get("min_neighbors", 5),
                minSize=(side, side),
                outputRejectLevels=True,
            )
        return np.asarray(boxes, dtype=np.float32).reshape(-1, 4), np.asarray(weights, dtype=np.float32).reshape(-1)


@register_runtime("opencv_cascade", options=("scale_factor", "min_neighbors", "min_size_frac"))
def load_cascade(spec: ModelSpec, path: Path | None) -> CascadeRunner:
    if path is None:
        raise RuntimeError(f"{spec.id}: cascade file not found")
    return CascadeRunner(path, spec.options)
