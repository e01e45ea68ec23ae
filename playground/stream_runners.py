"""Each live stream's own stream-mode runners: models that follow what they found from frame to frame (MediaPipe's
face mesh, hands and pose, the LiteRT cascades) get one runner per stream side, bounded in number, closed
when idle. (Tracking ids, which ByteTrack gives any result, are tasks.tracking.)"""
from __future__ import annotations

import threading
import time
import weakref
from typing import Any

from playground.guard import BUDGET
from zoo import settings
from zoo.cache import close_runner, open_stream_runner
from zoo.errors import BusyError
from zoo.runtimes import runtime
from zoo.specs import ModelSpec

def max_stream_runners() -> int:
    return settings.get("PLAYGROUND_MAX_TRACKERS")


STREAM_RUNNER_IDLE_S = 30.0


class StreamRunners:
    """One stream's own runners in video (tracking) mode, one per side, for the models whose runtime has
    such a mode (MediaPipe's face mesh, hands, pose): each follows what it found from frame to frame, so
    the detector need not run on every frame. Created on first use; closed when the side's model changes,
    when the stream has been idle for :data:`STREAM_RUNNER_IDLE_S`, or when its session ends. At most
    ``PLAYGROUND_MAX_TRACKERS`` exist across all streams; past that a new one is refused with a sentence."""

    _count = 0
    _count_lock = threading.Lock()
    _all: "weakref.WeakSet[StreamRunners]" = weakref.WeakSet()

    def __init__(self) -> None:
        self._sides: dict[str, tuple[ModelSpec, Any, str | None]] = {}
        self._lock = threading.Lock()
        self.used_at = time.monotonic()
        self.address: str | None = None  # the visitor's address: its share of runners (playground.guard)
        StreamRunners._all.add(self)

    @classmethod
    def open_count(cls) -> int:
        with cls._count_lock:
            return cls._count

    def runner_for(self, side: str, spec: ModelSpec) -> Any | None:
        """The side's own runner for ``spec`` (made now if needed), or None if the model has no video mode."""
        StreamRunners.close_idle()
        self.used_at = time.monotonic()
        rt = runtime(spec.runtime)
        with self._lock:
            held = self._sides.get(side)
            if held is not None and held[0] == spec:
                return held[1]
        self.close(side)
        if not rt.has_stream_mode(spec):
            return None
        address = self.address
        BUDGET.claim("stream_runners", address)
        with StreamRunners._count_lock:
            if StreamRunners._count >= max_stream_runners():
                BUDGET.release("stream_runners", address)
                raise BusyError("the playground is busy: every live tracking slot is taken; try again in a minute")
            StreamRunners._count += 1
        try:
            runner = open_stream_runner(spec)
        except BaseException:
            with StreamRunners._count_lock:
                StreamRunners._count -= 1
            BUDGET.release("stream_runners", address)
            raise
        with self._lock:
            self._sides[side] = (spec, runner, address)
        return runner

    def close(self, side: str | None = None) -> None:
        """Close one side's runner (or all of them)."""
        with self._lock:
            keys = [side] if side is not None else list(self._sides)
            gone = [self._sides.pop(k) for k in keys if k in self._sides]
        for _, runner, address in gone:
            close_runner(runner)
            with StreamRunners._count_lock:
                StreamRunners._count -= 1
            BUDGET.release("stream_runners", address)

    @classmethod
    def close_idle(cls, idle_s: float = STREAM_RUNNER_IDLE_S) -> None:
        now = time.monotonic()
        for _ in range(10):  # the garbage collector may drop a member while the set is copied
            try:
                pools = list(cls._all)
                break
            except RuntimeError:
                continue
        else:
            return
        for pool in pools:
            if pool._sides and now - pool.used_at > idle_s:
                pool.close()

