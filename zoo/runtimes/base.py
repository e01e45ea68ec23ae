"""The runtime registry: names, load functions and the option keys each reads (see zoo.runtimes)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

from zoo.errors import ZooError
from zoo import settings


class Runner(Protocol):
    def __call__(self, inputs: Any) -> Any: ...


@dataclass
class Runtime:
    name: str
    load: Callable[[Any, Path | None], Runner]
    options: frozenset[str]  # the spec option keys this runtime reads
    # stream mode: a runner for one stream that keeps state between frames (it follows what it found instead
    # of detecting again), for the specs ``streams`` accepts; None: the runtime has no such mode. (Not to be
    # confused with tracking ids, which ByteTrack gives any result: tasks.tracking.)
    load_stream: Callable[[Any, Path | None], Runner] | None = None
    streams: Callable[[Any], bool] = lambda spec: False
    requires: tuple[str, ...] = ()  # the Python packages it needs (optional ones: mediapipe, torch)

    def has_stream_mode(self, spec: Any) -> bool:
        return self.load_stream is not None and self.streams(spec)

    def installed(self) -> bool:
        """Are the packages this runtime needs installed here?"""
        import importlib.util

        return all(importlib.util.find_spec(p) is not None for p in self.requires)


RUNTIMES: dict[str, Runtime] = {}


def register_runtime(name: str, *, options: tuple[str, ...] = (), requires: tuple[str, ...] = ()) -> Callable:
    """Decorator: ``@register_runtime("onnxruntime", requires=("onnxruntime",))`` over a ``load(spec, path)``
    function; ``requires`` names the packages it imports when a model loads."""

    def deco(load: Callable) -> Callable:
        if name in RUNTIMES and RUNTIMES[name].load is not load:
            raise ValueError(f"runtime {name!r} is registered twice")
        RUNTIMES[name] = Runtime(name, load, frozenset(options), requires=tuple(requires))
        return load

    return deco


def register_stream_mode(name: str, *, streams: Callable[[Any], bool]) -> Callable:
    """Decorator: ``@register_stream_mode("mediapipe", streams=...)`` over a ``load(spec, path)`` that gives
    one stream its own stateful runner (stream mode), for the specs ``streams`` accepts."""

    def deco(load: Callable) -> Callable:
        rt = runtime(name)
        rt.load_stream, rt.streams = load, streams
        return load

    return deco


def runtime(name: str) -> Runtime:
    try:
        return RUNTIMES[name]
    except KeyError:
        raise ZooError(f"unknown runtime {name!r}; known: {', '.join(sorted(RUNTIMES))}") from None


def threads_per_model() -> int:
    """Threads each model may use: A and B run at once, so each gets half of the cores."""
    chosen = settings.get("ZOO_THREADS_PER_MODEL")
    return chosen if chosen else max(1, (os.cpu_count() or 2) // 2)


class Cascade:
    """Two models in turn: a detector on each of the plan's inputs (``plan.firsts``: the whole frame, and
    tiles of it when the entry asks), then a landmark model on each crop the task's plan cuts from the
    detector's outputs (``plan.crops``; see models.blaze). Only runs; decides nothing."""

    def __init__(self, detector: Runner, landmark: Runner):
        self.detector, self.landmark = detector, landmark

    def __call__(self, plan: Any) -> tuple[list[Any], list[tuple[Any, Any]]]:
        firsts = [self.detector(x) for x in plan.firsts]
        return firsts, [(roi, self.landmark(blob)) for blob, roi in plan.crops(firsts)]



class FollowingCascade(Cascade):
    """One stream's cascade (stream mode), over its own two interpreters: it keeps the stream's memory (a
    dict the task's plan fills; the zoo does not look inside) and gives it to the plan, whose ``follow``
    may return the crops of the regions the last frame's landmarks set, so the detector is skipped. The
    memory lives on this runner, which belongs to one stream, never on the shared models."""

    def __init__(self, detector: Runner, landmark: Runner):
        super().__init__(detector, landmark)
        self.memory: dict = {}

    def __call__(self, plan: Any) -> tuple[list[Any], list[tuple[Any, Any]]]:
        plan.memory["stream"] = self.memory
        crops = plan.follow(self.memory) if getattr(plan, "follow", None) is not None else None
        if crops is None:
            return super().__call__(plan)
        return [], [(roi, self.landmark(blob)) for blob, roi in crops]


    def close(self) -> None:
        for part in (self.detector, self.landmark):
            close = getattr(part, "close", None)
            if close is not None:
                close()
