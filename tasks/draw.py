"""Drawing helpers over supervision's annotators (inference never draws; these only draw).

supervision's annotators draw on OpenCV-ordered (BGR) arrays; the playground's images are RGB, so
the colour order is swapped once on the way in and once on the way out.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
import supervision as sv

PALETTE = sv.ColorPalette.DEFAULT


class Canvas:
    """An RGB frame opened for supervision's annotators."""

    def __init__(self, rgb: np.ndarray):
        self.bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)  # a copy, in OpenCV's order
        h, w = rgb.shape[:2]
        self.scale = max(0.4, min(2.0, max(h, w) / 900))  # text and line size follow the frame

    @property
    def thickness(self) -> int:
        return max(1, round(2 * self.scale))

    def rgb(self) -> np.ndarray:
        return cv2.cvtColor(self.bgr, cv2.COLOR_BGR2RGB)

    def boxes(self, boxes: np.ndarray, labels: Sequence[str], color_ids: Sequence[int]) -> None:
        if len(boxes) == 0:
            return
        det = sv.Detections(xyxy=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
                            class_id=np.asarray(color_ids, dtype=int))
        sv.BoxAnnotator(color=PALETTE, thickness=self.thickness, color_lookup=sv.ColorLookup.CLASS).annotate(self.bgr, det)
        sv.LabelAnnotator(color=PALETTE, text_scale=0.5 * self.scale, text_thickness=max(1, self.thickness // 2),
                          text_padding=max(2, round(4 * self.scale)), color_lookup=sv.ColorLookup.CLASS
                          ).annotate(self.bgr, det, labels=list(labels))

    def keypoints(self, xy: np.ndarray, visible: np.ndarray | None = None,
                  edges: Sequence[tuple[int, int]] | None = None, radius: int | None = None,
                  color: sv.Color = sv.Color.WHITE, edge_color: sv.Color = sv.Color.from_hex("#00d084")) -> None:
        """Draw points (N, K, 2) in pixels; ``edges`` are 0-based index pairs; hidden points are skipped."""
        xy = np.asarray(xy, dtype=np.float32)
        if xy.size == 0:
            return
        xy = xy.reshape(len(xy), -1, 2).copy()
        if visible is not None:
            xy[~np.asarray(visible, dtype=bool).reshape(xy.shape[:2])] = 0.0  # supervision skips (0, 0)
        kp = sv.KeyPoints(xy=xy)
        if edges:
            sv.EdgeAnnotator(color=edge_color, thickness=self.thickness,
                             edges=[(a + 1, b + 1) for a, b in edges]).annotate(self.bgr, kp)
        r = radius if radius is not None else max(1, round(3 * self.scale))
        for pts in xy:  # VertexAnnotator would draw hidden (0, 0) points too
            for x, y in pts:
                if x or y:
                    cv2.circle(self.bgr, (int(x), int(y)), r, color.as_bgr(), -1, cv2.LINE_AA)

    def mesh(self, xy: np.ndarray, edges: np.ndarray, color: sv.Color = sv.Color.from_hex("#b0b0b0")) -> None:
        """A dense mesh (hundreds of edges) in one vectorised call; ``edges`` is an (E, 2) index array."""
        pts = np.asarray(xy, dtype=np.float32)[:, :2]
        segs = np.round(pts[np.asarray(edges)]).astype(np.int32)  # (E, 2, 2)
        cv2.polylines(self.bgr, list(segs), False, color.as_bgr(), 1, cv2.LINE_8)

    def legend(self, items: Sequence[tuple[str, tuple[int, int, int]]]) -> None:
        """A legend in the top-left corner: (text, RGB colour) rows."""
        if not items:
            return
        fs = 0.5 * self.scale
        th = max(1, round(self.scale))
        line = round(22 * self.scale)
        width = max(cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, fs, th)[0][0] for t, _ in items) + round(34 * self.scale)
        h = line * len(items) + round(8 * self.scale)
        sub = self.bgr[0:h, 0:width]
        sub[:] = (sub * 0.4).astype(np.uint8)
        for i, (text, rgb) in enumerate(items):
            y = round(6 * self.scale) + i * line
            cv2.rectangle(self.bgr, (round(6 * self.scale), y), (round(22 * self.scale), y + line - 6),
                          tuple(int(c) for c in rgb[::-1]), -1)
            cv2.putText(self.bgr, text, (round(28 * self.scale), y + line - 8), cv2.FONT_HERSHEY_SIMPLEX, fs,
                        (255, 255, 255), th, cv2.LINE_AA)


def palette_rgb(index: int) -> tuple[int, int, int]:
    return PALETTE.by_idx(index).as_rgb()


def instance_label(kind: str, score: float, track_id: int | None, extra: str = "") -> str:
    tid = f"#{track_id} " if track_id is not None else ""
    return f"{tid}{extra + ' ' if extra else ''}{score:.2f}".strip() or kind


def color_ids(track_ids: Sequence[int | None]) -> list[int]:
    return [t if t is not None else i for i, t in enumerate(track_ids)]


def stamp(rgb: np.ndarray, text: str) -> np.ndarray:
    """A small caption in the top-left corner, drawn in place (the live readout rides on the frame, so the
    page need not re-lay itself out for every number)."""
    scale = max(0.4, min(1.0, rgb.shape[1] / 1000))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    pad = 4
    region = rgb[0:th + base + 2 * pad, 0:tw + 2 * pad]
    region[:] = (region * 0.35).astype(np.uint8)
    cv2.putText(rgb, text, (pad, pad + th), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return rgb
