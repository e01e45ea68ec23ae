"""Drawing: each task's ``draw(canvas, result)`` speaks to a canvas, and there are two of them.

- :class:`Canvas` draws pixels with supervision's annotators (still images, videos, the CLI). They draw on
  OpenCV-ordered (BGR) arrays; the playground's images are RGB, so the colour order is swapped once on the
  way in and once on the way out.
- :class:`Overlay` records the same calls as drawing commands for the live view's browser code
  (``playground/static/live.js``), with every colour and size already worked out here, so live overlays
  look like the pictures the server draws and the browser holds no styles of its own.

Inference never draws; these only draw.
"""
from __future__ import annotations

from typing import Sequence

import base64
from typing import Any

import cv2
import numpy as np
import supervision as sv

PALETTE = sv.ColorPalette.DEFAULT
POINT_COLOR = sv.Color.WHITE
EDGE_COLOR = sv.Color.from_hex("#00d084")
MESH_COLOR = sv.Color.from_hex("#b0b0b0")
# A live mask travels as a PNG at most this wide or high (nearest-neighbour; the browser scales it up).
MASK_MAX_SIDE = 320


def frame_scale(height: int, width: int) -> float:
    """Text and line sizes follow the frame."""
    return max(0.4, min(2.0, max(height, width) / 900))


def blend(rgb: np.ndarray, colors: np.ndarray, where: np.ndarray, opacity: float) -> np.ndarray:
    out = rgb.copy()
    if where.any():
        out[where] = (rgb[where].astype(np.float32) * (1 - opacity) +
                      colors[where].astype(np.float32) * opacity).astype(np.uint8)
    return out


def shaped_points(xy: np.ndarray, visible: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Points as (N, K, 2) float32 and their visibility as (N, K) bools (all visible when not given); None
    when there are none."""
    xy = np.asarray(xy, dtype=np.float32)
    if xy.size == 0:
        return None
    xy = xy.reshape(len(xy), -1, 2)
    vis = (np.ones(xy.shape[:2], bool) if visible is None
           else np.asarray(visible, dtype=bool).reshape(xy.shape[:2]))
    return xy, vis


class Sizes:
    """Line, point and label sizes for a frame of (height, width): one rule for both canvases, so the live
    overlay and the server's pictures cannot drift apart."""

    def __init__(self, height: int, width: int):
        self.scale = frame_scale(height, width)

    @property
    def thickness(self) -> int:
        return max(1, round(2 * self.scale))

    @property
    def radius(self) -> int:
        return max(1, round(3 * self.scale))

    @property
    def text_scale(self) -> float:
        return 0.5 * self.scale

    @property
    def text_padding(self) -> int:
        return max(2, round(4 * self.scale))

    @property
    def legend_line(self) -> int:
        return round(22 * self.scale)


class Canvas(Sizes):
    """An RGB frame opened for supervision's annotators."""

    def __init__(self, rgb: np.ndarray):
        super().__init__(*rgb.shape[:2])
        self.bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)  # a copy, in OpenCV's order

    def rgb(self) -> np.ndarray:
        return cv2.cvtColor(self.bgr, cv2.COLOR_BGR2RGB)

    def boxes(self, boxes: np.ndarray, labels: Sequence[str], color_ids: Sequence[int]) -> None:
        if len(boxes) == 0:
            return
        det = sv.Detections(xyxy=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
                            class_id=np.asarray(color_ids, dtype=int))
        sv.BoxAnnotator(color=PALETTE, thickness=self.thickness, color_lookup=sv.ColorLookup.CLASS).annotate(self.bgr, det)
        sv.LabelAnnotator(color=PALETTE, text_scale=self.text_scale, text_thickness=max(1, self.thickness // 2),
                          text_padding=self.text_padding, color_lookup=sv.ColorLookup.CLASS
                          ).annotate(self.bgr, det, labels=list(labels))

    def keypoints(self, xy: np.ndarray, visible: np.ndarray | None = None,
                  edges: Sequence[tuple[int, int]] | None = None, radius: int | None = None,
                  color: sv.Color = POINT_COLOR, edge_color: sv.Color = EDGE_COLOR) -> None:
        """Draw points (N, K, 2) in pixels; ``edges`` are 0-based index pairs; hidden points are skipped."""
        shaped = shaped_points(xy, visible)
        if shaped is None:
            return
        xy = shaped[0].copy()
        xy[~shaped[1]] = 0.0  # supervision skips (0, 0)
        kp = sv.KeyPoints(xy=xy)
        if edges:
            sv.EdgeAnnotator(color=edge_color, thickness=self.thickness,
                             edges=[(a + 1, b + 1) for a, b in edges]).annotate(self.bgr, kp)
        r = radius if radius is not None else self.radius
        for pts in xy:  # VertexAnnotator would draw hidden (0, 0) points too
            for x, y in pts:
                if x or y:
                    cv2.circle(self.bgr, (int(x), int(y)), r, color.as_bgr(), -1, cv2.LINE_AA)

    def mesh(self, xy: np.ndarray, edges: np.ndarray, color: sv.Color = MESH_COLOR) -> None:
        """A dense mesh (hundreds of edges) in one vectorised call; ``edges`` is an (E, 2) index array."""
        pts = np.asarray(xy, dtype=np.float32)[:, :2]
        segs = np.round(pts[np.asarray(edges)]).astype(np.int32)  # (E, 2, 2)
        cv2.polylines(self.bgr, list(segs), False, color.as_bgr(), 1, cv2.LINE_8)

    def mask(self, colors: np.ndarray, where: np.ndarray, opacity: float) -> None:
        """``colors`` (H, W, 3 RGB) blended over the pixels where ``where`` is true."""
        if where.shape != self.bgr.shape[:2]:
            raise ValueError("the mask does not match the image")
        self.bgr = blend(self.bgr, np.ascontiguousarray(colors[..., ::-1]), where, opacity)

    def legend(self, items: Sequence[tuple[str, tuple[int, int, int]]]) -> None:
        """A legend in the top-left corner: (text, RGB colour) rows."""
        if not items:
            return
        fs = self.text_scale
        th = max(1, round(self.scale))
        line = self.legend_line
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


def _hex(color: sv.Color | tuple[int, int, int]) -> str:
    return color.as_hex() if isinstance(color, sv.Color) else "#%02x%02x%02x" % tuple(int(c) for c in color)


class Overlay(Sizes):
    """The :class:`Canvas` calls, recorded as drawing commands (JSON-ready dicts) for the browser, over a
    frame of ``shape`` (height, width). Sizes are those :class:`Canvas` would use on that frame; coordinates
    are the frame's pixels (rounded to 0.1 px to keep messages small)."""

    def __init__(self, shape: tuple[int, ...]):
        self.height, self.width = int(shape[0]), int(shape[1])
        super().__init__(self.height, self.width)
        self.ops: list[dict[str, Any]] = []

    def boxes(self, boxes: np.ndarray, labels: Sequence[str], color_ids: Sequence[int]) -> None:
        if len(boxes) == 0:
            return
        th = self.thickness
        self.ops.append({
            "op": "boxes", "xyxy": np.round(np.asarray(boxes, np.float64).reshape(-1, 4), 1).tolist(),
            "labels": list(labels), "colors": [_hex(PALETTE.by_idx(int(i))) for i in color_ids],
            "text_color": _hex(sv.Color.WHITE), "thickness": th,
            # supervision's label: OpenCV's Hershey font at text_scale 0.5 * scale (about 22 px per unit of scale)
            "font_px": round(22 * self.text_scale, 1), "padding": self.text_padding})

    def keypoints(self, xy: np.ndarray, visible: np.ndarray | None = None,
                  edges: Sequence[tuple[int, int]] | None = None, radius: int | None = None,
                  color: sv.Color = POINT_COLOR, edge_color: sv.Color = EDGE_COLOR) -> None:
        shaped = shaped_points(xy, visible)
        if shaped is None:
            return
        xy, vis = np.round(shaped[0].astype(np.float64), 1), shaped[1]
        self.ops.append({
            "op": "points", "xy": xy.tolist(), "visible": vis.astype(int).tolist(),
            "edges": [list(map(int, e)) for e in (edges or [])], "radius": radius or self.radius,
            "color": _hex(color), "edge_color": _hex(edge_color), "thickness": self.thickness})

    def mesh(self, xy: np.ndarray, edges: np.ndarray, color: sv.Color = MESH_COLOR) -> None:
        pts = np.round(np.asarray(xy, dtype=np.float64)[:, :2], 1)
        edges = np.asarray(edges)
        used = np.unique(edges.ravel())  # only the points the edges use travel, renumbered
        self.ops.append({"op": "mesh", "xy": pts[used].tolist(), "edges": np.searchsorted(used, edges).tolist(),
                         "color": _hex(color), "thickness": 1})

    def mask(self, colors: np.ndarray, where: np.ndarray, opacity: float) -> None:
        """A coloured, see-through PNG of the mask, at most :data:`MASK_MAX_SIDE` a side."""
        if where.shape != (self.height, self.width):
            raise ValueError("the mask does not match the image")
        f = min(1.0, MASK_MAX_SIDE / max(where.shape))
        size = (max(1, round(where.shape[1] * f)), max(1, round(where.shape[0] * f)))
        small = cv2.resize(where.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
        rgba = np.zeros((size[1], size[0], 4), np.uint8)
        rgba[..., :3] = cv2.resize(np.ascontiguousarray(colors), size, interpolation=cv2.INTER_NEAREST)
        rgba[..., 3] = np.where(small, round(255 * opacity), 0)
        ok, png = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
        self.ops.append({"op": "mask", "png": base64.b64encode(png.tobytes()).decode("ascii"),
                         "width": size[0], "height": size[1]})

    def legend(self, items: Sequence[tuple[str, tuple[int, int, int]]]) -> None:
        if items:
            self.ops.append({"op": "legend", "items": [[t, _hex(c)] for t, c in items],
                             "font_px": round(22 * self.text_scale, 1), "line": self.legend_line})
