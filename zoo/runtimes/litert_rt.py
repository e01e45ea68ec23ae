"""LiteRT (the TFLite interpreter, ``ai-edge-litert``): the ``.tflite`` files that ship inside the
mediapipe wheel (and the npm package's BlazePose lite/heavy), run directly rather than through MediaPipe's
graphs; the tasks' own pre- and post-processing (anchors, weighted NMS, regions, masks) surround them."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ModelUnavailableError
from zoo.runtimes.base import Cascade, FollowingCascade, register_runtime, register_stream_mode, threads_per_model
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


    def close(self) -> None:
        with self._lock:
            self._it = None


@register_runtime("litert")
def load(spec: ModelSpec, path: Path | None) -> LiteRTRunner:
    """One ``.tflite`` file: a batch of one in, every output out by name."""
    if path is None or not path.is_file():
        raise ModelUnavailableError(f"{spec.id}: its model file is not installed")
    return LiteRTRunner(path)


@register_runtime("litert_cascade", options=("landmark_model",))
def load_cascade(spec: ModelSpec, path: Path | None) -> Cascade:
    """The main file is the detector; ``landmark_model`` is the landmark file's path in the same package."""
    if path is None or not isinstance(spec.source, BundledSource):
        raise ModelUnavailableError(f"{spec.id}: its detector file is not installed")
    landmark = BundledSource(spec.source.package, spec.options["landmark_model"]).locate()
    if landmark is None or not landmark.is_file():
        raise ModelUnavailableError(f"{spec.id}: {spec.options['landmark_model'].rsplit('/', 1)[-1]} is not on "
                                    "this machine (scripts/setup fetches it)")
    return Cascade(LiteRTRunner(path), LiteRTRunner(landmark))


@register_stream_mode("litert_cascade", streams=lambda spec: True)
def load_following(spec: ModelSpec, path: Path | None) -> FollowingCascade:
    """Stream mode: the stream's own two interpreters, which follow the landmarks from frame to frame and run
    the detector only to find what they do not follow (MediaPipe's video mode, done by the task's plan)."""
    cascade = load_cascade(spec, path)
    return FollowingCascade(cascade.detector, cascade.landmark)
