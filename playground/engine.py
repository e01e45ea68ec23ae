"""The engine: one model on one image, as the app, the API, the video path and the CLI run it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from playground import backends
from playground.backends import Stream
from tasks import infer  # the tasks package: every task registered
from zoo import stats
from zoo.cache import ModelCache
from zoo.images import to_rgb_uint8
from zoo.registry import get_spec
from zoo.specs import ModelSpec


@dataclass(frozen=True)
class Prediction:
    model: str
    result: Any
    latency_ms: float  # preprocess + inference + postprocess; loading is not counted

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "latency_ms": round(self.latency_ms, 2), "result": self.result.to_json()}


def predict(
    model: str | ModelSpec,
    image: np.ndarray,
    *,
    min_score: float | None = None,
    max_results: int | None = None,
    cache: ModelCache | None = None,
    progress: Callable[[float, str], None] | None = None,
    stream: Stream | None = None,
) -> Prediction:
    """Run one zoo model (a spec, or a registry id) on one image (any dtype/channels; converted to RGB uint8
    here, where sizes no model may see are refused) where the backend runs models (``playground.backends``:
    this process, or a Ray Serve cluster). Without ``min_score``, the model's reference threshold
    (``spec.thresholds``) applies. ``stream``: one side of a live stream, for models that track from frame
    to frame. An explicit ``cache`` runs the model in this process with those models (the CLI's bench)."""
    spec = model if isinstance(model, ModelSpec) else get_spec(model)
    if min_score is None:
        min_score = spec.thresholds.score
    rgb = to_rgb_uint8(image)
    if cache is not None:
        result, latency = infer(spec, rgb, cache=cache, progress=progress)
    else:
        result, latency = backends.current().infer(spec, rgb, progress=progress, stream=stream)
    if hasattr(result, "filter"):
        result = result.filter(min_score=min_score, max_results=max_results)
    stats.record(spec.id, latency)
    return Prediction(spec.id, result, latency)
