"""A live stream's session: A and B side by side on a stream of frames, latest frame wins, each side's
tracking ids and stream-mode runners, rates and agreement. (One frame's run and the still-image path are
``playground.pair``; the stream-mode runners ``playground.stream_runners``.)

No Gradio here: the tab wiring in ``playground.ui`` calls these, and tests call them directly.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from playground import backends
from playground.backends import Stream
from playground.offers import Offer
from playground.pair import EXECUTOR, SideOutput, agreement_json, run_side, user_message
from playground.stream_runners import StreamRunners
from tasks import TASKS
from tasks.base import Options, TaskDef
from tasks.tracking import StreamTracker
from zoo import settings
from zoo.errors import ZooError
from zoo.images import decode_jpeg, fit_within, to_rgb_uint8
from zoo.specs import ModelSpec

log = logging.getLogger(__name__)

STREAM_MAX_SIDE = 640  # streamed frames larger than this are downscaled once, before both models


def max_frame_side() -> int:
    """The longest side of a live frame (the page sends 1280x720 at most)."""
    return settings.get("PLAYGROUND_LIVE_MAX_SIDE")


def max_frame_pixels() -> int:
    return settings.get("PLAYGROUND_LIVE_MAX_PIXELS")


@dataclass
class Side:
    model_id: str | None = None
    tracker: StreamTracker | None = None
    busy: bool = False  # a frame in flight (at most one: latest frame wins)
    seen: int = -1  # the seq of the newest frame this side started
    last: SideOutput | None = None  # the newest finished
    recent: deque = field(default_factory=lambda: deque(maxlen=16))  # finished outputs, for agreement

    def output_for(self, seq: int) -> SideOutput | None:
        return next((o for o in self.recent if o.seq == seq), None)

    def ensure_tracker(self, task: TaskDef, model_id: str) -> StreamTracker | None:
        if self.model_id != model_id:  # a new model: its ids start afresh
            self.model_id = model_id
            self.tracker = StreamTracker() if task.trackable else None
        return self.tracker


class StreamSession:
    """One browser session's live stream: its trackers, its in-flight work, its rates, and the models and
    controls it runs with (set by the pickers as they change, so frames need not carry them).

    Latest frame wins: :meth:`take` starts a frame only on the sides that are free; a side still busy with
    an older frame skips it, so nothing queues and the lag stays bounded, and the faster side is not held
    back by the slower one. The live socket (``playground.live_socket``) feeds it; tests call it directly.
    """

    def __init__(self, task: str, models: Mapping[str, str] | None = None,
                 controls: Mapping[str, Mapping[str, Any]] | None = None, offer: Offer | None = None):
        self.task = TASKS[task]
        self.offer = offer or Offer(task)  # the models this session may run
        self.runners = StreamRunners()  # this stream's own stream-mode runners
        self.token = secrets.token_hex(8)  # names this session in per-visitor limits
        self.sides = {"a": Side(), "b": Side()}
        self.lock = threading.Lock()
        self.seq = 0
        self.models: dict[str, str] = dict(models or {})
        self.controls: dict[str, Options] = self.task.options_by_side(controls)
        self.agreement: dict[str, Any] | None = None
        self.loading = {"a": False, "b": False}  # a side waiting for its model's first load
        self.load_note = {"a": "", "b": ""}  # how that load is going (a download's progress)
        self.frame_at = 0.0  # when the last frame came in (monotonic)
        self.closed = False  # the browser session has ended
        self.linked_controls: dict[str, dict[str, float]] = {}  # a shared link's settings, until its models load
        self.in_page: frozenset[str] = frozenset()  # the sides the visitor's page runs itself (playground.device)
        self._latest: np.ndarray | None = None  # the newest camera frame, for the gesture lab's bursts
        self._latest_as: tuple[int, bool, str] = (0, True, "overlay")  # its seq, mirror flag and render mode
        self._follow: Callable[[str, int, Future], None] | None = None  # see follow()

    @property
    def address(self) -> str | None:
        """The visitor's address, set by the live socket: its stream-mode runners count against it."""
        return self.runners.address

    @address.setter
    def address(self, value: str | None) -> None:
        self.runners.address = value

    def __deepcopy__(self, memo) -> "StreamSession":
        """Gradio copies a State's initial value for each browser session: each gets a fresh stream with
        the same models and controls, never another session's trackers or frames."""
        return StreamSession(self.task.name, self.models, self.controls)  # with a fresh offer of its own

    def close(self) -> None:
        """The session has ended (Gradio calls this when it drops the state): its tracking runners go, and
        its live socket, if any, closes."""
        self.closed = True
        self.end_stream_runners()

    def end_stream_runners(self) -> None:
        """The stream has ended: its tracking runners go, here and wherever the models run."""
        self.runners.close()
        backend = backends.current()
        for key in self.sides:
            backend.end_stream(f"{self.token}/{key}")

    def set_model(self, key: str, model_id: str) -> None:
        with self.lock:
            self.models[key] = model_id

    def set_controls(self, controls: Mapping[str, Any]) -> None:
        options = self.task.options_by_side(controls)
        with self.lock:
            self.controls = options

    def latest_camera_frame(self) -> np.ndarray | None:
        """The newest frame as the camera saw it (unmirrored), or None before the stream started."""
        with self.lock:
            latest = self._latest
        return None if latest is None else latest.copy()

    def take(self, frame: np.ndarray | bytes, *, seq: int | None = None, mirror: bool = True,
             render: str = "overlay", sides: Iterable[str] | None = None) -> dict[str, Future]:
        """Offer one camera frame (as the camera sees it: an RGB array, or the JPEG the page sends) to
        both sides (or to ``sides``); returns {side: future of its SideOutput} for the sides that took it.
        A busy side skips it. A free side not in ``sides`` takes it when it is newer than the newest it has
        started (the page asks only the sides it believes free; the server knows better), so a frame sent
        again for one side never reruns on the other. The frame is decoded once, for both. With ``mirror``,
        results are those of the mirrored picture the user sees. Raises ImageError for a frame that cannot be
        read."""
        wanted = set(sides) if sides is not None else {"a", "b"}
        if isinstance(frame, (bytes, bytearray, memoryview)):  # a live frame: a JPEG, and nothing else
            frame = decode_jpeg(bytes(frame), max_side=max_frame_side(), max_pixels=max_frame_pixels())
        frame, _ = fit_within(to_rgb_uint8(frame), STREAM_MAX_SIDE)
        started: dict[str, Future] = {}
        with self.lock:
            self.frame_at = time.monotonic()
            self.seq = self.seq + 1 if seq is None else int(seq)
            self._latest, self._latest_as = frame, (self.seq, mirror, render)
            for key, side in self.sides.items():  # a free side not asked takes it too when it is newer than its own
                if key in self.in_page:  # the page runs this side itself
                    continue
                if not side.busy and (key in wanted or side.seen < self.seq):
                    started[key] = self._start(key, frame, self.seq, mirror, render)
        return started

    def follow(self, callback: Callable[[str, int, Future], None] | None) -> None:
        """Latest frame wins on the server too: with a ``callback``, a side that finishes while a newer frame
        than its own has come in (one the page sent to the other side only, as this side was busy) starts on
        the newest frame at once, and ``callback(side, seq, future)`` is told, from that side's thread,
        before the finished frame's future completes. None stops it. The live socket follows its session;
        a new follower (a reloaded page numbers its frames from 1 again) starts the sides' numbering afresh."""
        with self.lock:
            self._follow = callback
            if callback is not None:
                for side in self.sides.values():
                    side.seen = -1

    def _start(self, key: str, frame: np.ndarray, seq: int, mirror: bool, render: str) -> Future:
        """Start side ``key`` on ``frame`` (the lock held)."""
        side = self.sides[key]
        model_id = self.models[key]
        tracker = side.ensure_tracker(self.task, model_id)
        side.seen = seq
        try:
            spec = self.offer.spec(model_id)
        except ZooError as exc:  # a model this session may not run: that side's sentence
            done: Future = Future()
            done.set_result(self._record(key, SideOutput(None, None, user_message(exc), seq=seq, model=model_id),
                                         locked=True))
            return done
        side.busy = True
        self.loading[key] = not backends.current().is_loaded(model_id)
        note = self._load_reporter(key) if self.loading[key] else None
        return EXECUTOR.submit(self._run, key, spec, frame, self.controls[key], tracker, mirror, seq,
                               note, render)

    def _run(self, key: str, spec: ModelSpec, frame: np.ndarray, options: Options,
             tracker: StreamTracker | None, mirror: bool, seq: int, note, render: str) -> SideOutput:
        out = None
        try:
            out = run_side(self.task, spec, frame, options, tracker, mirror, seq, note,
                           Stream(f"{self.token}/{key}", partial(self.runners.runner_for, key, spec)), render=render)
        finally:
            if out is None:  # run_side turns errors into sentences; this is only for the unforeseen
                out = SideOutput(None, None, "something went wrong; the next frame tries again", seq=seq, model=spec.id)
            self._record(key, out)
        if out.error is None:
            self._pick_up(key)
        return out

    def _pick_up(self, key: str) -> None:
        """A side has finished: if the session is followed and a newer frame than this side's last has come
        in, start the side on it now (see ``follow``)."""
        follow = self._follow
        if follow is None:
            return
        with self.lock:
            side = self.sides[key]
            if self.closed or side.busy or self._latest is None or self._latest_as[0] <= side.seen or \
                    key in self.in_page:
                return
            seq, mirror, render = self._latest_as
            future = self._start(key, self._latest, seq, mirror, render)
        follow(key, seq, future)

    def _load_reporter(self, key: str) -> Callable[[float, str], None]:
        def report(fraction: float, text: str) -> None:
            self.load_note[key] = text

        return report

    def _record(self, key: str, out: SideOutput, locked: bool = False) -> SideOutput:
        """A side has finished a frame: it is free again, its rate ticks, and when the other side has done
        the same frame the pair's agreement rides on this output."""
        if not locked:
            with self.lock:
                return self._record(key, out, locked=True)
        side = self.sides[key]
        side.busy, side.last, self.loading[key] = False, out, False
        if out.error is None:
            side.recent.append(out)
            other = self.sides["b" if key == "a" else "a"].output_for(out.seq)
            if other is not None and other.prediction is not None:
                pair = (out, other) if key == "a" else (other, out)
                self.agreement = agreement_json(self.task, pair[0].prediction, pair[1].prediction)
                self.agreement["frame"] = out.seq
                out.agreement = self.agreement
        return out


