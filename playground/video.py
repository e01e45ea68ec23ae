"""A video file through A and B: frame by frame, one side-by-side H.264 video and per-frame latency.

The work is bounded whatever the file says about itself: at most :data:`MAX_VIDEO_SECONDS` of it, read at
most :data:`MAX_FPS` frames a second (a 240 fps file is sampled, not read frame by frame), at most
:data:`MAX_FRAMES` frames in all, frames at most :data:`VIDEO_MAX_SIDE` wide before the models, and a
stream whose frames are larger than :data:`MAX_SOURCE_PIXELS` refused from its header. The work is a
generator (:func:`video_steps`): the page stops iterating it when its visitor leaves, and the files it
was writing are removed.
"""
from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Generator, Mapping

import cv2
import numpy as np

from playground.limits import WORKSPACE
from playground.pair import load_sides, offered_spec, run_pair, user_message
from playground.offers import Offer
from tasks import TASKS
from tasks.base import amount
from tasks.tracking import StreamTracker
from zoo.errors import ZooError
from zoo.specs import ModelSpec

log = logging.getLogger(__name__)

MAX_VIDEO_SECONDS = 30
MAX_FPS = 15
MAX_FRAMES = 300
MAX_DECODED = 3000  # frames decoded at most (a sampled high-rate file decodes more than it keeps)
MAX_SOURCE_PIXELS = 4096 * 2304
VIDEO_MAX_SIDE = 640


@dataclass
class VideoReport:
    path: str
    frames: int
    fps: float
    latency: dict[str, list[float]]  # "a"/"b" -> per-frame model latency (ms)
    errors: list[str]
    note: str = ""  # why the video was cut short, when it was
    found: dict[str, list[float]] = field(default_factory=lambda: {"a": [], "b": []})  # per frame (tasks.base.amount)

    def csv_rows(self, models: Mapping[str, str]) -> list[dict[str, Any]]:
        """One row per frame: its time, and each side's model, what it found and how long it took."""
        rows = []
        for i in range(self.frames):
            row: dict[str, Any] = {"frame": i, "time_s": round(i / self.fps, 3)}
            for k in ("a", "b"):
                row.update({f"{k}_model": models[k], f"{k}_found": self.found[k][i],
                            f"{k}_latency_ms": round(self.latency[k][i], 2)})
            rows.append(row)
        return rows


def _label(frame: np.ndarray, text: str) -> np.ndarray:
    out = frame.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 24), (0, 0, 0), -1)
    cv2.putText(out, text, (6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return out


class _Writer:
    """H.264 in MP4 (every browser plays it), through PyAV's own FFmpeg: ~14 ms a 1280x360 frame here,
    where OpenCV's VP9 took 356 ms."""

    def __init__(self, path: Path, fps: float, width: int, height: int):
        import av

        self.width, self.height = width - width % 2, height - height % 2  # yuv420p wants even sides
        self.out = av.open(str(path), "w", options={"movflags": "+faststart"})
        self.stream = self.out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        self.stream.width, self.stream.height, self.stream.pix_fmt = self.width, self.height, "yuv420p"
        self.stream.options = {"preset": "veryfast", "crf": "23", "threads": "1"}

    def write(self, rgb: np.ndarray) -> None:
        import av

        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[: self.height, : self.width]), format="rgb24")
        for packet in self.stream.encode(frame):
            self.out.mux(packet)

    def close(self) -> None:
        try:
            for packet in self.stream.encode():
                self.out.mux(packet)
        finally:
            self.out.close()


def _open(path: str | Path):
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except Exception:  # noqa: BLE001 - any failure to open is "not a video"
        raise ZooError("could not read the video: not a video file, or a codec the playground cannot decode") \
            from None
    if not container.streams.video:
        container.close()
        raise ZooError("the file has no video stream")
    stream = container.streams.video[0]
    w, h = stream.codec_context.width or 0, stream.codec_context.height or 0
    if w * h > MAX_SOURCE_PIXELS:
        container.close()
        raise ZooError(f"the video's frames are too large ({w}x{h}; at most 4096x2304)")
    stream.thread_count = 1  # the models have the cores
    return container, stream


def upright(frame) -> np.ndarray:
    """A decoded frame as RGB, turned as its display matrix says (a phone's portrait clip is stored sideways
    with a rotation to show it by): the rotation is counter-clockwise degrees, as FFmpeg's own autorotate
    reads it."""
    rgb = frame.to_ndarray(format="rgb24")
    quarter = round((getattr(frame, "rotation", 0) or 0) / 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, quarter)) if quarter else rgb


def _sampled(container, stream, max_seconds: float, fps_out: float, note: list[str]):
    """(time s, RGB frame) at most ``fps_out`` a second for ``max_seconds``, each frame shrunk for the models."""
    next_t, decoded = 0.0, 0
    rate = float(stream.average_rate or stream.guessed_rate or 25.0)
    try:
        for frame in container.decode(stream):
            decoded += 1
            t = float(frame.time) if frame.time is not None else decoded / rate
            if t >= max_seconds:
                note.append(f"only the first {max_seconds:g} s are used")
                return
            if decoded > MAX_DECODED:
                note.append(f"stopped after {t:.1f} s ({MAX_DECODED} frames decoded)")
                return
            if t + 1e-6 < next_t:
                continue
            next_t = max(next_t + 1.0 / fps_out, t)
            scale = min(1.0, VIDEO_MAX_SIDE / max(frame.width, frame.height))
            if scale < 1.0:
                frame = frame.reformat(width=max(2, round(frame.width * scale)),
                                       height=max(2, round(frame.height * scale)))
            yield t, upright(frame)
    except ZooError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged stream ends the video where it breaks
        note.append(f"the video is damaged after {next_t:.1f} s ({exc.__class__.__name__})")


def _offered(task_name: str, models: Mapping[str, Any], offer: Offer) -> tuple[dict[str, ModelSpec], dict[str, str]]:
    """The sides' entries, and the sentence for a side whose model is not one the session was offered."""
    specs: dict[str, ModelSpec] = {}
    failed: dict[str, str] = {}
    for key, model in models.items():
        try:
            specs[key] = offered_spec(task_name, model, offer)
        except ZooError as exc:
            failed[key] = user_message(exc)
    return specs, failed


def _panels(outs: Mapping[str, Any], rgb: np.ndarray, names: Mapping[str, str], latency: dict[str, list[float]],
            errors: list[str], found: dict[str, list[float]]) -> np.ndarray:
    """One output frame: A and B side by side, each labelled with its model and time (or its error)."""
    panels = []
    for key in ("a", "b"):
        out = outs[key]
        if out.error:
            if out.error not in errors:
                errors.append(out.error)
            latency[key].append(float("nan"))
            found[key].append(float("nan"))
            panels.append(_label(rgb, f"{key.upper()}: {names[key]}: error"))
        else:
            latency[key].append(out.prediction.latency_ms)
            found[key].append(amount(out.prediction.result.to_json()))
            panels.append(_label(out.annotated, f"{key.upper()}: {names[key]}  {out.prediction.latency_ms:.0f} ms"))
    return np.hstack(panels)


def video_steps(task_name: str, path: str | Path, models: Mapping[str, Any],
                controls: Mapping[str, Mapping[str, Any]] | None = None, *, offer: Offer | None = None,
                max_seconds: float = MAX_VIDEO_SECONDS, max_frames: int = MAX_FRAMES
                ) -> Generator[tuple[float, str], None, VideoReport]:
    """Yields (fraction done, what is happening) as it goes; returns the :class:`VideoReport`."""
    task = TASKS[task_name]
    offer = offer or Offer(task_name)
    options = task.options_by_side(controls)  # checked here, where it enters
    specs, failed = _offered(task_name, models, offer)
    container, stream = _open(path)
    folder = WORKSPACE.new_dir("video")
    out_path = folder / "side_by_side.mp4"
    writer, finished = None, False
    try:
        rate = float(stream.average_rate or stream.guessed_rate or 25.0)
        fps_out = max(1.0, min(MAX_FPS, rate))
        seconds = min(max_seconds, float(stream.duration * stream.time_base) if stream.duration else max_seconds)
        expected = max(1, min(max_frames, int(seconds * fps_out)))
        yield 0.0, "loading the models"
        failed = load_sides(specs, None, failed)
        names = {k: (specs[k].id if k in specs else str(models[k])[:40]) for k in ("a", "b")}
        errors: list[str] = list(dict.fromkeys(failed.values()))
        trackers = {k: StreamTracker(frame_rate=int(round(fps_out))) if task.trackable else None for k in ("a", "b")}
        latency: dict[str, list[float]] = {"a": [], "b": []}
        found: dict[str, list[float]] = {"a": [], "b": []}
        note: list[str] = []
        n = 0
        for _, rgb in _sampled(container, stream, max_seconds, fps_out, note):
            if n >= max_frames:
                note.append(f"only the first {max_frames} frames are used")
                break
            frame = _panels(run_pair(task, specs, rgb, options, failed, trackers), rgb, names, latency, errors, found)
            if writer is None:
                writer = _Writer(out_path, fps_out, frame.shape[1], frame.shape[0])
            writer.write(frame)
            n += 1
            yield min(1.0, n / expected), f"frame {n} of about {expected}"
        if n == 0:
            raise ZooError("the video has no frames that could be read")
        writer.close()
        writer, finished = None, True
        return VideoReport(str(out_path), n, fps_out, latency, errors, "; ".join(dict.fromkeys(note)), found)
    finally:
        container.close()
        if writer is not None:
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - the file goes anyway
                pass
        if not finished:  # stopped early (the visitor left, or an error): nothing stays behind
            shutil.rmtree(folder, ignore_errors=True)


def process_video(task_name: str, path: str | Path, model_a: str, model_b: str,
                  controls: Mapping[str, Mapping[str, Any]] | None = None,
                  progress: Callable[[float, str], None] | None = None,
                  max_seconds: float = MAX_VIDEO_SECONDS, offer: Offer | None = None) -> VideoReport:
    """:func:`video_steps` to the end, reporting its progress."""
    steps = video_steps(task_name, path, {"a": model_a, "b": model_b}, controls, offer=offer,
                        max_seconds=max_seconds)
    while True:
        try:
            fraction, text = next(steps)
        except StopIteration as done:
            return done.value
        if progress is not None:
            progress(fraction, text)
