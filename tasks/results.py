"""The result types' shared pieces: checked boxes, scores and points, mirroring, rounding for JSON, and the
instance-list result (faces, hands, people) every such task builds on (as supervision's Detections)."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Generic, Sequence, TypeVar

import numpy as np

Box = tuple[float, float, float, float]


def check_box(box: Sequence[float], what: str = "box") -> Box:
    if len(box) != 4:
        raise ValueError(f"{what} needs 4 numbers, got {len(box)}")
    x0, y0, x1, y1 = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise ValueError(f"{what} has a non-finite coordinate: {box}")
    if x1 < x0 or y1 < y0:
        raise ValueError(f"{what} is inverted: {box}")
    return (x0, y0, x1, y1)


def check_score(score: float, what: str = "score") -> float:
    s = float(score)
    if not (0.0 <= s <= 1.0) or math.isnan(s):
        raise ValueError(f"{what} must lie in [0, 1], got {score}")
    return s


class Points(tuple):
    """Points already checked by :func:`check_points` (a tuple of equal-length tuples of finite floats):
    passed on unchanged when a result is copied (tracked, mirrored), instead of being checked again."""

    dims: int = 0


def check_points(points: Sequence[Sequence[float]], dims: int, what: str) -> tuple[tuple[float, ...], ...]:
    if isinstance(points, Points) and points.dims == dims:
        return points
    if len(points) == 0:
        return ()
    # One array check instead of a Python loop: a face mesh has 478 points and is re-checked whenever its
    # result is tracked or mirrored, on every live frame.
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != 2 or arr.shape[1] != dims or not np.isfinite(arr).all():
        bad = next((p for p in points if len(p) != dims or not all(math.isfinite(float(v)) for v in p)), points)
        raise ValueError(f"{what}: each point needs {dims} finite numbers, got {bad}")
    return _points(arr)


def _points(arr: np.ndarray) -> Points:
    out = Points(map(tuple, arr.tolist()))
    out.dims = arr.shape[1]
    return out


def box_of(points: np.ndarray, width: int, height: int) -> Box:
    """The box around points (pixels), clipped to the frame."""
    pts = np.asarray(points, dtype=np.float32)[:, :2]
    if len(pts) == 0:
        return (0.0, 0.0, 0.0, 0.0)
    x0, y0 = np.clip(pts.min(axis=0), 0, [width, height])
    x1, y1 = np.clip(pts.max(axis=0), 0, [width, height])
    return (float(x0), float(y0), float(max(x0, x1)), float(max(y0, y1)))


def flip_box(box: Sequence[float], width: int) -> Box:
    x0, y0, x1, y1 = box
    return (width - x1, y0, width - x0, y1)


def flip_points(points: Sequence[Sequence[float]], width: int) -> tuple[tuple[float, ...], ...]:
    if isinstance(points, Points) and len(points):  # still finite: mirrored as one array
        arr = np.array(points, dtype=np.float64)
        arr[:, 0] = width - arr[:, 0]
        return _points(arr)
    return tuple((width - p[0], *p[1:]) for p in points)


def _r(v: float) -> float:
    return round(float(v), 2)


def rounded(values: Sequence[float]) -> list[float]:
    return [_r(v) for v in values]


def rounded_rows(rows: Sequence[Sequence[float]]) -> list[list[float]]:
    """:func:`rounded` for many points at once (a face mesh's 478)."""
    return [rounded(p) for p in rows] if len(rows) < 32 else np.round(np.asarray(rows, np.float64), 2).tolist()


I = TypeVar("I")


@dataclass(frozen=True)
class InstanceResult(Generic[I]):
    """A list of detected instances (faces, hands, people), each with a box and a score."""

    items: tuple[I, ...] = ()
    key: ClassVar[str] = "items"

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))

    @classmethod
    def empty(cls):
        return cls(())

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    @property
    def boxes(self) -> np.ndarray:
        return np.array([i.box for i in self.items], dtype=np.float32).reshape(-1, 4)

    @property
    def scores(self) -> np.ndarray:
        return np.array([i.score for i in self.items], dtype=np.float32)

    def filter(self, min_score: float | None = None, max_results: int | None = None):
        kept = sorted((i for i in self.items if i.score >= (min_score or 0.0)), key=lambda i: -i.score)
        if max_results is not None:
            kept = kept[: max(0, int(max_results))]
        return replace(self, items=tuple(kept))

    def with_track_ids(self, ids: Sequence[int | None]):
        if len(ids) != len(self.items):
            raise ValueError("one track id per instance")
        return replace(self, items=tuple(replace(i, track_id=t) for i, t in zip(self.items, ids)))

    def flipped(self, width: int):
        """The same result for the horizontally mirrored frame (a selfie preview)."""
        return replace(self, items=tuple(i.flipped(width) for i in self.items))

    def to_json(self) -> dict[str, Any]:
        return {self.key: [i.to_json() for i in self.items]}

