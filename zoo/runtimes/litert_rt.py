"""LiteRT (the TFLite interpreter, ``ai-edge-litert``): the ``.tflite`` files that ship inside the
mediapipe wheel (and the npm package's BlazePose lite/heavy), run directly rather than through MediaPipe's
graphs, so that a task can run them its own way (every person in the frame, not one tracked person)."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ModelUnavailableError
from zoo.runtimes.base import Cascade, register_runtime, threads_per_model
from zoo.specs import BundledSource, ModelSpec


class LiteRTRunner:
    """One interpreter; calls are serialised (an interpreter holds its tensors between calls)."""

    def __init__(self, path: Path):
        from ai_edge_litert.interpreter import Interpreter

        self._it = Interpreter(model_path=str(path), num_threads=threads_per_model())
        self._it.allocate_tensors()
        self._input = self._it.get_input_details()[0]["index"]
        self._outputs = [(o["name"], o["index"]) for o in self._it.get_output_details()]
        self._lock = threading.Lock()

    def __call__(self, x: Any) -> dict[str, np.ndarray]:
        with self._lock:
            self._it.set_tensor(self._input, np.ascontiguousarray(x, dtype=np.float32))
            self._it.invoke()
            return {name: self._it.get_tensor(i).copy() for name, i in self._outputs}


@register_runtime("litert_cascade", options=("landmark_model",))
def load_cascade(spec: ModelSpec, path: Path | None) -> Cascade:
    """The main file is the detector; ``landmark_model`` is the landmark file's path in the same package."""
    if path is None or not isinstance(spec.source, BundledSource):
        raise ModelUnavailableError(f"{spec.id}: its detector file is not installed")
    landmark = BundledSource(spec.source.package, spec.options["landmark_model"]).locate()
    if landmark is None or not landmark.is_file():
        raise ModelUnavailableError(f"{spec.id}: {spec.options['landmark_model']} is not installed "
                                    "(scripts/setup copies it from the npm package @mediapipe/pose)")
    return Cascade(LiteRTRunner(path), LiteRTRunner(landmark))
