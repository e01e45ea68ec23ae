"""What defines a task and a model's processing: the pipeline shape, a side's typed settings and its controls,
the task definition and its registry, the check every entry passes, and running one model on one frame.
(Result types' shared pieces are in tasks.results, agreement helpers in tasks.agreement, array helpers for
pre/post-processing in tasks.geometry.)"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, fields
from typing import Any, Callable, Sequence

import numpy as np

from zoo.byo import HubCard
from zoo.cache import MODELS, ModelCache
from zoo.errors import RefusedModelError
from zoo.specs import ModelSpec


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
    Control("max_results", "Max results", 1, 20, 10, 1),  # a group photo: up to ten by default
)


@dataclass(frozen=True)
class Example:
    """A still image that shows what a task is for, made at run time from what installed packages carry,
    and what the task's default pair finds on it (``at_least``: per side, the instances found, or the share
    of the picture that is not background); tests hold every example to its caption."""

    label: str  # a few words, on the example's button
    caption: str  # what it shows and what the default pair finds
    make: Callable[[], np.ndarray]
    at_least: dict[str, float]


def amount(result: dict[str, Any]) -> float:
    """What a side found, as one number: instances, or the share of the picture that is not background."""
    if "coverage" in result:
        return float(sum(v for k, v in result["coverage"].items() if k != "background"))
    return float(next((len(v) for k, v in result.items() if isinstance(v, list)), 0))


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
    description: str = ""  # what a first-time visitor is looking at, in one plain line
    examples: tuple[Example, ...] = ()
    no_examples: str = ""  # why a task has no example image, when it has none
    # bring your own: what a Hub model must be for this task, and the rule that makes its entry
    hub_hint: str = "none yet"
    hub_model: Callable[[HubCard], ModelSpec] | None = None

    def options_of(self, values: Any) -> Options:
        """A request's settings for one side, checked once (where requests enter)."""
        return self.options.from_values(values, self.controls)

    def options_by_side(self, controls: Any) -> dict[str, Options]:
        """A request's settings for sides A and B ({"a": {...}, "b": {...}}, either may be missing)."""
        controls = controls or {}
        return {k: self.options_of(controls[k] if k in controls else None) for k in ("a", "b")}

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
