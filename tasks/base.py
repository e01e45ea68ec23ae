"""What every task shares: the pipeline shape, instance-list results, box matching."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, fields, replace
from typing import Any, Callable, ClassVar, Generic, Sequence, TypeVar

import numpy as np

from zoo.byo import HubCard
from zoo.cache import MODELS, ModelCache
from zoo.errors import RefusedModelError
from zoo.specs import ModelSpec

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


def identity_pre(rgb: np.ndarray, spec: ModelSpec) -> tuple[np.ndarray, tuple[int, int]]:
    """Most runtimes take the RGB frame as it is; the meta is the frame's (height, width)."""
    return rgb, rgb.shape[:2]


@dataclass(frozen=True)
class Pipeline:
    """preprocess -> runner -> postprocess, the two ends pure functions of the task. ``options`` are the spec
    option keys the two ends read. Without ``postprocess``, the runner's output is already the result (a
    composite model that runs other models itself)."""

    preprocess: Callable[[np.ndarray, ModelSpec], tuple[Any, Any]] = identity_pre
    postprocess: Callable[[Any, Any, ModelSpec], Any] | None = None
    options: tuple[str, ...] = ()
    # the page's version of this pipeline (playground/device/families.js): the family's name and the
    # constants it needs, from the spec, so that nothing is typed twice; None: it runs on the server only
    device: Callable[[ModelSpec], dict[str, Any]] | None = None

    def run(self, spec: ModelSpec, rgb: np.ndarray, runner: Callable[[Any], Any]) -> Any:
        inputs, meta = self.preprocess(rgb, spec)
        raw = runner(inputs)
        return raw if self.postprocess is None else self.postprocess(raw, meta, spec)


@dataclass(frozen=True)
class Options:
    """One side's settings (its sliders), typed: made once where a request enters (:meth:`from_values`, which
    checks and bounds them); everything below reads these fields, never a mapping. A task with settings of
    its own subclasses it (segmentation: the mask's opacity)."""

    min_score: float | None = None  # None: the model's reference threshold (spec.thresholds.score)
    max_results: int | None = None

    @classmethod
    def from_values(cls, values: Any = None, controls: Sequence["Control"] = ()) -> "Options":
        """Settings from a request: numbers only, each held to its control's range; unknown names ignored."""
        if isinstance(values, cls):
            return values
        if values is not None and not isinstance(values, dict):
            raise ValueError("settings are a mapping of names to numbers")
        values, ranges = values or {}, {c.name: c for c in controls}
        out: dict[str, Any] = {}
        for f in fields(cls):
            v = values[f.name] if f.name in values else None
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"the setting {f.name} must be a number")
            c = ranges.get(f.name)
            v = min(max(v, c.minimum), c.maximum) if c else v
            out[f.name] = int(v) if f.name == "max_results" else float(v)
        return cls(**out)

    def predict_kwargs(self) -> dict[str, Any]:
        return {"min_score": self.min_score, "max_results": self.max_results}

    def draw_kwargs(self) -> dict[str, Any]:
        """The task's own settings, for its drawing."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("min_score", "max_results") and getattr(self, f.name) is not None}

    def to_json(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass(frozen=True)
class Control:
    """A per-model knob shown next to a picker (score threshold, max results, opacity)."""

    name: str
    label: str
    minimum: float
    maximum: float
    value: float
    step: float


DEFAULT_CONTROLS = (
    Control("min_score", "Score threshold", 0.0, 1.0, 0.5, 0.05),
    Control("max_results", "Max results", 1, 10, 5, 1),
)


@dataclass(frozen=True)
class TaskDef:
    """Everything particular to one task that the rest of the playground needs: registered once by the
    task's module (:func:`register_task`); the app, the CLI and the benches read it from :data:`TASKS`."""

    name: str  # also its tab's id and its API endpoint (/name)
    title: str
    result_type: type
    # draw(canvas, result, **options): the task's drawing, onto pixels or into the live view's overlay
    # (tasks.draw.Canvas / tasks.draw.Overlay)
    draw: Callable[..., None]
    agreement: Callable[[Any, Any], dict[str, Any]]
    default_pair: tuple[str, str]  # the models its tab starts with (when they run offline)
    trackable: bool = False
    controls: tuple[Control, ...] = DEFAULT_CONTROLS
    options: type[Options] = Options  # the settings one side takes, typed
    description: str = ""
    # bring your own: what a Hub model must be for this task, and the rule that makes its entry
    hub_hint: str = "none yet"
    hub_model: Callable[[HubCard], ModelSpec] | None = None

    def options_of(self, values: Any) -> Options:
        """A request's settings for one side, checked once (where requests enter)."""
        return self.options.from_values(values, self.controls)

    def annotate(self, rgb: np.ndarray, result: Any, **options: Any) -> np.ndarray:
        """The result drawn on a copy of the frame."""
        from tasks.draw import Canvas

        canvas = Canvas(rgb)
        self.draw(canvas, result, **options)
        return canvas.rgb()

    def overlay(self, shape: tuple[int, ...], result: Any, **options: Any) -> list[dict[str, Any]]:
        """The same drawing as commands for the browser's live view, over a frame of ``shape``."""
        from tasks.draw import Overlay

        canvas = Overlay(shape)
        self.draw(canvas, result, **options)
        return canvas.ops

    def accept_hub(self, card: HubCard) -> ModelSpec:
        """The entry for a Hub model in this task, or RefusedModelError saying what the task needs."""
        if self.hub_model is None:
            raise card.refuse(f"cannot be used here: {self.hub_hint}")
        return self.hub_model(card)


TASKS: dict[str, TaskDef] = {}


def register_task(task: TaskDef) -> TaskDef:
    """Make a task known to the playground: its tab, its endpoint, its models' pipelines."""
    if task.name in TASKS and TASKS[task.name] is not task:
        raise ValueError(f"task {task.name!r} is registered twice")
    TASKS[task.name] = task
    return task


def unregister_task(name: str) -> None:
    TASKS.pop(name, None)


def check_spec(spec: ModelSpec) -> None:
    """A spec's task and runtime exist, its pipeline is a :class:`Pipeline`, its thresholds fit its task's
    Score control, and its options are keys they read: a typo fails loudly instead of silently falling back
    to a default."""
    from zoo.runtimes import RUNTIMES

    task = TASKS.get(spec.task)
    if task is None:
        raise ValueError(f"{spec.id}: unknown task {spec.task!r}")
    if spec.runtime not in RUNTIMES:
        raise ValueError(f"{spec.id}: unknown runtime {spec.runtime!r}")
    if not isinstance(spec.pipeline, Pipeline):
        raise ValueError(f"{spec.id}: its pipeline is {type(spec.pipeline).__name__}, not a tasks.base.Pipeline")
    known = set(RUNTIMES[spec.runtime].options) | set(spec.pipeline.options)
    unknown = sorted(set(spec.options) - known)
    if unknown:
        raise ValueError(f"{spec.id}: option(s) {', '.join(unknown)} are read by neither its runtime "
                         f"({spec.runtime}) nor its pipeline")


def spec_for_card(card: HubCard, task: str | None = None) -> ModelSpec:
    """A Hub model's entry from its checked card (zoo.byo): the task's rule; with no task, the first task
    whose rule accepts it (the command line's ``hf:`` ids)."""
    if task is not None:
        return TASKS[task].accept_hub(card)
    refusals = []
    for t in TASKS.values():
        if t.hub_model is None:
            continue
        try:
            return t.hub_model(card)
        except RefusedModelError as exc:
            refusals.append(exc)
    raise card.refuse(f"is tagged '{card.pipeline_tag or 'no task'}', which no task here runs") from (
        refusals[0] if refusals else None)


def hub_spec(model_id: str, task: str | None = None) -> ModelSpec:
    """A Hub model's entry: its card read from the Hub and checked (zoo.byo), then :func:`spec_for_card`."""
    from zoo.byo import read_card

    return spec_for_card(read_card(model_id), task)


def match_boxes(a: np.ndarray, b: np.ndarray, min_iou: float = 0.1) -> list[tuple[int, int, float]]:
    """One-to-one matching of two box sets by IoU (Hungarian); pairs below ``min_iou`` are dropped."""
    if len(a) == 0 or len(b) == 0:
        return []
    import supervision as sv
    from scipy.optimize import linear_sum_assignment

    iou = sv.box_iou_batch(np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32))
    rows, cols = linear_sum_assignment(-iou)
    return [(int(r), int(c), float(iou[r, c])) for r, c in zip(rows, cols) if iou[r, c] >= min_iou]


ONE = {"people": "person", "faces": "face", "hands": "hand"}


def nothing_found(count_a: int, count_b: int, noun: str) -> dict[str, Any] | None:
    """The agreement when either side found nothing, the same in every task: both empty is nothing to
    compare (score None, not 100%); one empty is 0, saying which side found what."""
    if count_a and count_b:
        return None
    if not count_a and not count_b:
        return {"score": None, "count_a": 0, "count_b": 0, "matched": 0,
                "summary": f"nothing to compare: neither A nor B found any {noun}"}
    side, other, n = ("A", "B", count_a) if count_a else ("B", "A", count_b)
    return {"score": 0.0, "count_a": count_a, "count_b": count_b, "matched": 0,
            "summary": f"{side} found {n} {ONE.get(noun, noun) if n == 1 else noun}, {other} found none"}


def box_agreement(a: InstanceResult, b: InstanceResult, noun: str) -> dict[str, Any]:
    """Counts, matches and mean matched IoU, with a sentence a non-engineer can read."""
    empty = nothing_found(len(a), len(b), noun)
    if empty is not None:
        return {**empty, "mean_iou": None, "pairs": []}
    pairs = match_boxes(a.boxes, b.boxes)
    n = max(len(a), len(b))
    if not pairs:
        return {"score": 0.0, "count_a": len(a), "count_b": len(b), "matched": 0, "mean_iou": None,
                "summary": f"0 of {n} {noun} matched: A and B found them in different places", "pairs": []}
    mean_iou = float(np.mean([p[2] for p in pairs]))
    union = len(a) + len(b) - len(pairs)
    return {
        "score": round(len(pairs) / union * mean_iou, 3),
        "count_a": len(a),
        "count_b": len(b),
        "matched": len(pairs),
        "mean_iou": round(mean_iou, 3),
        "summary": f"{len(pairs)} of {n} {noun} matched, mean box overlap {mean_iou:.0%}",
        "pairs": pairs,
    }


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


def infer(spec: ModelSpec, rgb: np.ndarray, *, cache: ModelCache = MODELS,
          progress: Callable[[float, str], None] | None = None, runner: Callable[[Any], Any] | None = None
          ) -> tuple[Any, float]:
    """One model on one RGB uint8 frame: its task's pipeline around its runner, the model held (leased) from
    ``cache`` while it runs, or ``runner`` when given (a stream's own tracking runner). Returns the result
    and the time it took (ms; loading not counted)."""
    pipeline: Pipeline = spec.pipeline
    if runner is not None:
        t0 = time.perf_counter()
        result = pipeline.run(spec, rgb, runner)
        return result, (time.perf_counter() - t0) * 1000.0
    with cache.lease(spec, progress) as loaded:
        t0 = time.perf_counter()
        result = pipeline.run(spec, rgb, loaded.runner)
        return result, (time.perf_counter() - t0) * 1000.0
