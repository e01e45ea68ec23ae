"""Runtime adapters: they load a model file and run it. Nothing else.

Each adapter is a function ``load(spec, path) -> Runner``; a Runner is called with the
preprocessed input the task's pipeline made and returns the runtime's raw output. Adapters are
registered by name here; specs pick them by their ``runtime`` field.
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any, Callable, Protocol

from zoo.specs import ModelSpec


class Runner(Protocol):
    def __call__(self, inputs: Any) -> Any: ...


# name -> "module:function"; imported on first use so that importing the zoo stays cheap.
RUNTIMES: dict[str, str] = {
    "mediapipe": "zoo.runtimes.mediapipe_rt:load",
    "opencv_cascade": "zoo.runtimes.opencv_rt:load_cascade",
    "opencv_dnn": "zoo.runtimes.opencv_rt:load_dnn",
    "onnxruntime": "zoo.runtimes.onnx_rt:load",
    # detector + landmark model, two ONNX sessions (MediaPipe's two-stage models as OpenCV Zoo exports them)
    "onnx_cascade": "zoo.runtimes.onnx_rt:load_cascade",
    "transformers": "zoo.runtimes.transformers_rt:load",
    # a person detector, then a top-down pose model on each person (RT-DETR + ViTPose)
    "transformers_pose": "zoo.runtimes.transformers_rt:load_detect_then_pose",
    # a trained gesture head: MediaPipe hands + the head (its features come from the gesture task)
    "gesture_head": "tasks.gesture_lab:load_runner",
    # a Hub image classifier over hand crops (bring-your-own in the gesture tab)
    "hand_crop_classifier": "tasks.gesture_lab:load_crop_classifier",
}


def loader(runtime: str) -> Callable[[ModelSpec, Path | None], Runner]:
    try:
        target = RUNTIMES[runtime]
    except KeyError:
        raise ValueError(f"unknown runtime {runtime!r}; known: {', '.join(sorted(RUNTIMES))}") from None
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


def threads_per_model() -> int:
    """Threads each model may use: A and B run at once, so each gets half of the cores."""
    env = os.environ.get("ZOO_THREADS_PER_MODEL")
    if env:
        return max(1, int(env))
    return max(1, (os.cpu_count() or 2) // 2)
