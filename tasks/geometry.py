"""Pure array helpers the model families' pre/post-processing share: letterboxing and its way back to frame
pixels, NMS and the sigmoid."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into a network's input: scaled, then padded (right/bottom, or both sides
    evenly: ``pad`` is the left/top padding in input pixels)."""

    scale: float
    height: int  # the original frame
    width: int
    pad: tuple[float, float] = (0.0, 0.0)

    def to_frame(self, xy: np.ndarray) -> np.ndarray:
        """Network-input pixels -> frame pixels: points (..., 2) or boxes (..., 4)."""
        a = np.asarray(xy, dtype=np.float32)
        pad = np.resize(np.asarray(self.pad, np.float32), a.shape[-1]) if a.ndim and a.shape[-1] % 2 == 0 else 0.0
        return (a - pad) / self.scale


def letterbox(rgb: np.ndarray, size: tuple[int, int], pad_value: int = 0, *, centre: bool = False,
              interpolation: int | None = None) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping the aspect ratio into (width, height), padding right and bottom (or, with ``centre``,
    both sides evenly, as MediaPipe's ImageToTensorCalculator does). Area averaging when shrinking unless
    ``interpolation`` says otherwise."""
    import cv2

    w, h = size
    H, W = rgb.shape[:2]
    scale = min(w / W, h / H)
    nw, nh = max(1, round(W * scale)), max(1, round(H * scale))
    out = np.full((h, w, 3), pad_value, dtype=np.uint8)
    x0, y0 = ((w - nw) // 2, (h - nh) // 2) if centre else (0, 0)
    interp = interpolation if interpolation is not None else cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    out[y0:y0 + nh, x0:x0 + nw] = cv2.resize(rgb, (nw, nh), interpolation=interp)
    return out, Letterbox(scale, H, W, (float(x0), float(y0)))


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float = 0.3) -> np.ndarray:
    """Indices kept by non-maximum suppression (supervision's implementation)."""
    import supervision as sv

    if len(boxes) == 0:
        return np.zeros(0, dtype=int)
    keep = sv.box_non_max_suppression(np.hstack([boxes, scores[:, None]]).astype(np.float32), iou_threshold=iou)
    return np.flatnonzero(keep)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float32)))

