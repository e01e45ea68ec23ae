"""A fake webcam file for Chromium (`--use-file-for-fake-video-capture`), made at run time.

Frames come from ``../shared/media/video.avi`` when it is there (a synthetic moving scene when not),
with Grace Hopper's face (matplotlib's sample photo) gliding across so the face models have a real face
to find, and a bar code strip along the bottom that carries the frame's index, so that a page can tell
which camera frame an annotated output shows.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from zoo.images import load_image, sample_image_path

VIDEO = Path(__file__).resolve().parents[2] / "shared" / "media" / "video.avi"
BITS = 10  # frame index modulo 1024
STRIP_H = 24


def _frames_from_video(width: int, height: int, count: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(VIDEO))
    frames = []
    while len(frames) < count:
        ok, bgr = cap.read()
        if not ok:
            break
        h, w = bgr.shape[:2]
        scale = max(width / w, height / h)
        bgr = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        y0 = (bgr.shape[0] - height) // 2
        x0 = (bgr.shape[1] - width) // 2
        frames.append(cv2.cvtColor(bgr[y0:y0 + height, x0:x0 + width], cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


def _synthetic(width: int, height: int, i: int) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width]
    base = (127 + 60 * np.sin((xx + 4 * i) / 40.0) + 40 * np.cos(yy / 30.0)).astype(np.uint8)
    return np.dstack([base, np.roll(base, 20, axis=1), np.roll(base, 40, axis=0)])


def draw_barcode(frame: np.ndarray, index: int) -> None:
    """Bits of ``index`` as black/white blocks between a white start block and a black end block."""
    h, w = frame.shape[:2]
    blocks = [1] + [(index >> b) & 1 for b in range(BITS)] + [0]
    bw = w // len(blocks)
    for k, bit in enumerate(blocks):
        frame[h - STRIP_H:h, k * bw:(k + 1) * bw] = 255 if bit else 0


def make_frames(width: int = 640, height: int = 480, fps: int = 25, seconds: float = 8.0,
                face: bool = True, shared: bool = True) -> list[np.ndarray]:
    """``shared=False``: the synthetic scene even where the shared video is (a picture for the repository
    must hold nothing of ../shared/media)."""
    count = int(fps * seconds)
    base = _frames_from_video(width, height, count) if shared and VIDEO.is_file() else []
    head = load_image(sample_image_path())[90:370, 130:400]
    side = height // 3
    head = cv2.resize(head, (side * head.shape[1] // head.shape[0], side), interpolation=cv2.INTER_AREA)
    frames = []
    for i in range(count):
        # the source video is 50 fps; pick frames so it plays at its own speed, bouncing at the end
        if base:
            j = int(i * 50 / fps) % (2 * len(base) - 2)
            frame = base[j if j < len(base) else 2 * len(base) - 2 - j].copy()
        else:
            frame = _synthetic(width, height, i)
        if face:
            t = i / max(1, count - 1)
            x = int((width - head.shape[1]) * (0.1 + 0.8 * (0.5 - 0.5 * np.cos(2 * np.pi * t))))
            y = int((height - STRIP_H - head.shape[0]) * 0.3)
            frame[y:y + head.shape[0], x:x + head.shape[1]] = head
        draw_barcode(frame, i)
        frames.append(frame)
    return frames


def write_y4m(path: str | Path, frames: list[np.ndarray], fps: int) -> Path:
    path = Path(path)
    h, w = frames[0].shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


def make_y4m(path: str | Path, width: int = 640, height: int = 480, fps: int = 25, seconds: float = 8.0,
             shared: bool = True) -> Path:
    return write_y4m(path, make_frames(width, height, fps, seconds, shared=shared), fps)
