"""The five tasks of the playground and the one way to run a model on an image."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from tasks import face, gesture, hands, pose, segmentation
from tasks.base import TaskDef
from zoo import stats
from zoo.cache import MODELS, ModelCache
from zoo.images import to_rgb_uint8
from zoo.registry import get_spec
from zoo.specs import ModelSpec

TASKS: dict[str, TaskDef] = {m.TASK.name: m.TASK for m in (face, hands, pose, gesture, segmentation)}


@dataclass(frozen=True)
class Prediction:
    model: str
    result: Any
    latency_ms: float  # preprocess + inference + postprocess; loading is not counted

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "latency_ms": round(self.latency_ms, 2), "result": self.result.to_json()}


def task_of(spec: ModelSpec) -> TaskDef:
    return TASKS[spec.task]


def predict(
    model: str | ModelSpec,
    image: np.ndarray,
    *,
    min_score: float | None = None,
    max_results: int | None = None,
    cache: ModelCache = MODELS,
    progress: Callable[[float, str], None] | None = None,
) -> Prediction:
    """Run one zoo model on one image (any dtype/channels; converted to RGB uint8 here)."""
    spec = model if isinstance(model, ModelSpec) else get_spec(model)
    task = task_of(spec)
    pipeline = task.pipelines[spec.decoder]
    rgb = to_rgb_uint8(image)  # also refuses sizes no model may see
    with cache.lease(spec, progress) as loaded:
        t0 = time.perf_counter()
        inputs, meta = pipeline.preprocess(rgb, spec)
        raw = loaded.runner(inputs)
        result = pipeline.postprocess(raw, meta, spec)
        latency = (time.perf_counter() - t0) * 1000.0
    if hasattr(result, "filter"):
        result = result.filter(min_score=min_score, max_results=max_results)
    stats.record(spec.id, latency)
    return Prediction(spec.id, result, latency)
