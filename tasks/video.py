"""A video file through A and B: frame by frame, one side-by-side annotated video and per-frame latency."""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import cv2
import numpy as np

from tasks import TASKS
from tasks.live import preload, run_pair
from tasks.tracking import StreamTracker
from zoo.errors import ZooError
from zoo.images import fit_within

log = logging.getLogger(__name__)

MAX_VIDEO_SECONDS = 30
VIDEO_MAX_SIDE = 640


@dataclass
class VideoReport:
    path: str
    frames: int
    fps: float
    latency: dict[str, list[float]]  # "a"/"b" -> per-frame model latency (ms)
    errors: list[str]


def _label(frame: np.ndarray, text: str) -> np.ndarray:
    out = frame.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 24), (0, 0, 0), -1)
    cv2.putText(out, text, (6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def process_video(task_name: str, path: str | Path, model_a: str, model_b: str,
                  controls: Mapping[str, Mapping[str, Any]] | None = None,
                  progress: Callable[[float, str], None] | None = None,
                  max_seconds: float = MAX_VIDEO_SECONDS) -> VideoReport:
    task = TASKS[task_name]
    controls = controls or {"a": {}, "b": {}}
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ZooError("could not read the video: not a video file, or a codec OpenCV cannot decode")
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    if not np.isfinite(fps) or fps <= 0 or fps > 240:
        fps = 25.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    limit = int(max_seconds * fps)
    n_expected = min(total, limit) if total > 0 else limit
    models = {"a": model_a, "b": model_b}
    failed = preload(models.values(), progress)  # a model that cannot load is not retried every frame
    errors: list[str] = list(dict.fromkeys(failed.values()))
    trackers = {k: StreamTracker(frame_rate=int(round(fps))) if task.trackable else None for k in ("a", "b")}
    out_path = Path(tempfile.mkdtemp(prefix="ab-video-")) / "side_by_side.webm"
    writer = None
    latency: dict[str, list[float]] = {"a": [], "b": []}
    n = 0
    try:
        while n < limit:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb, _ = fit_within(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), VIDEO_MAX_SIDE)
            outs = run_pair(task, models, rgb, controls, failed, trackers)
            panels = []
            for key, mid in models.items():
                out = outs[key]
                if out.error:
                    if out.error not in errors:
                        errors.append(out.error)
                    latency[key].append(float("nan"))
                    panels.append(_label(rgb, f"{key.upper()}: {mid}: error"))
                else:
                    latency[key].append(out.prediction.latency_ms)
                    panels.append(_label(out.annotated, f"{key.upper()}: {mid}  {out.prediction.latency_ms:.0f} ms"))
            frame = np.hstack(panels)
            if writer is None:
                h, w = frame.shape[:2]
                writer = cv2.VideoWriter(str(out_path), cv2.VideoWriter_fourcc(*"VP90"), fps, (w, h))
                if not writer.isOpened():
                    raise ZooError("could not write the output video (no VP9 encoder in this OpenCV)")
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
            n += 1
            if progress is not None:
                progress(min(1.0, n / max(1, n_expected)), f"frame {n} of {n_expected}")
    finally:
        cap.release()
        if writer is not None:
            writer.release()
    if n == 0:
        raise ZooError("the video has no frames that could be read")
    return VideoReport(str(out_path), n, fps, latency, errors)
