"""MediaPipe legacy solutions (mediapipe 0.10.21, optional: Python 3.12 and older): the reference entries,
MediaPipe's own graphs beside the project's LiteRT ports of them.

Static-image mode keeps no state between calls, so one loaded graph serves every still image and stream;
a lock serialises calls because a graph processes one packet at a time. Video (tracking) mode, for face
mesh, hands and pose, follows what it found from frame to frame instead of running its detector on every
frame: one such runner belongs to one stream and is never shared (``load_stream``).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np

from zoo.runtimes.base import register_runtime, register_stream_mode
from zoo.specs import BundledSource, ModelSpec


TRACKABLE = ("face_mesh", "hands", "pose")


def _solutions(static: bool = True) -> dict[str, Callable[..., Any]]:
    os.environ.setdefault("GLOG_minloglevel", "2")  # mediapipe's C++ logging: warnings and up only
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import mediapipe as mp

    s = mp.solutions
    return {
        "face_detection": lambda o: s.face_detection.FaceDetection(
            model_selection=o["model_selection"], min_detection_confidence=o.get("min_confidence", 0.3)
        ),
        "face_mesh": lambda o: s.face_mesh.FaceMesh(
            static_image_mode=static,
            max_num_faces=o.get("max_num_faces", 4),
            refine_landmarks=o.get("refine_landmarks", True),
            min_detection_confidence=o.get("min_confidence", 0.5),
        ),
        "hands": lambda o: s.hands.Hands(
            static_image_mode=static,
            max_num_hands=o.get("max_num_hands", 4),
            model_complexity=o["model_complexity"],
            min_detection_confidence=o.get("min_confidence", 0.5),
        ),
        "pose": lambda o: s.pose.Pose(
            static_image_mode=static,
            model_complexity=o["model_complexity"],
            min_detection_confidence=o.get("min_confidence", 0.5),
        ),
        "selfie_segmentation": lambda o: s.selfie_segmentation.SelfieSegmentation(
            model_selection=o["model_selection"]
        ),
    }


class MediaPipeRunner:
    def __init__(self, solution: Any):
        self._solution = solution
        self._lock = threading.Lock()

    def __call__(self, rgb: np.ndarray) -> Any:
        with self._lock:
            return self._solution.process(rgb)

    def close(self) -> None:
        with self._lock:
            self._solution.close()


def _place(spec: ModelSpec, path: Path | None) -> None:
    """MediaPipe's graphs read their files from its own package folder, and download the few its wheel lacks
    (BlazePose lite and heavy) into it on first use. Where the playground holds that file already (fetched
    and checked: zoo.bundled), it is copied there instead, so the graph needs no network."""
    import shutil

    from zoo import bundled

    root = bundled.package_root()
    if path is None or root is None or not isinstance(spec.source, BundledSource):
        return
    target = root / spec.source.path
    if not target.exists() and path.is_file() and path != target:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


@register_runtime("mediapipe", options=("solution", "model_selection", "model_complexity", "max_num_faces",
                                        "max_num_hands", "refine_landmarks", "min_confidence"),
                  requires=("mediapipe",))
def load(spec: ModelSpec, path: Path | None) -> MediaPipeRunner:
    name = spec.options["solution"]
    factory = _solutions()[name]
    _place(spec, path)
    return MediaPipeRunner(factory(spec.options))


@register_stream_mode("mediapipe", streams=lambda spec: spec.options.get("solution") in TRACKABLE)
def load_stream(spec: ModelSpec, path: Path | None) -> MediaPipeRunner:
    """A video-mode runner for one stream (face mesh, hands, pose)."""
    _place(spec, path)
    return MediaPipeRunner(_solutions(static=False)[spec.options["solution"]](spec.options))
