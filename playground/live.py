"""Running A and B side by side on frames: per-session state, latest-frame-wins, rates, agreement.

No Gradio here: the tab wiring in ``playground.ui`` calls these, and tests call them directly.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
import weakref
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Iterable, Mapping

import cv2
import numpy as np

from playground import backends
from playground.backends import Stream
from playground.engine import Prediction, predict
from playground.guard import BUDGET
from playground.offers import Offer
from tasks import TASKS
from tasks.base import Options, TaskDef
from tasks.tracking import StreamTracker
from zoo.cache import close_runner, resolve_path
from zoo.errors import BusyError, ZooError, clip, scrub
from zoo.images import ImageError, decode_jpeg, fit_within, load_image, to_rgb_uint8
from zoo.runtimes import runtime
from zoo import settings
from zoo.specs import ModelSpec

log = logging.getLogger(__name__)

# A and B of every session run on this pool; the runtimes release the GIL while they compute.
EXECUTOR = ThreadPoolExecutor(max_workers=16, thread_name_prefix="ab")
STREAM_MAX_SIDE = 640  # streamed frames larger than this are downscaled once, before both models
# A still image is shrunk to this before the models (their inputs are 128-640 px; a bigger picture only
# costs memory and time) and the results are pixels of that picture.
STILL_MAX_SIDE = 1280


def max_frame_side() -> int:
    """The longest side of a live frame (the page sends 1280x720 at most)."""
    return settings.get("PLAYGROUND_LIVE_MAX_SIDE")


def max_frame_pixels() -> int:
    return settings.get("PLAYGROUND_LIVE_MAX_PIXELS")


def user_message(exc: BaseException) -> str:
    """One sentence for a person; never a traceback, a server path or a long echo of their input."""
    if isinstance(exc, ZooError):
        return clip(scrub(str(exc)), 400)
    log.exception("unexpected error", exc_info=exc)
    return f"something went wrong ({exc.__class__.__name__}); the other model and the app keep working"


@dataclass
class SideOutput:
    prediction: Prediction | None
    annotated: np.ndarray | None  # the result drawn on the frame (render="pixels")
    error: str | None = None
    seq: int = 0
    overlay: list[dict[str, Any]] | None = None  # the drawing as commands for the browser (render="overlay")
    model: str = ""
    agreement: dict[str, Any] | None = None  # A and B on this frame, when this side finished the pair
    shape: tuple[int, int] = (0, 0)  # the frame's (height, width): the result's pixels

    def message(self, side: str) -> dict[str, Any]:
        """What the live socket sends for this side: the API's result JSON (model, latency_ms, result) with
        the frame's sequence number and the overlay's drawing; or the side's sentence."""
        msg: dict[str, Any] = {"type": "result", "side": side, "seq": self.seq,
                               "image": {"width": int(self.shape[1]), "height": int(self.shape[0])}}
        if self.prediction is None:
            msg.update(model=self.model, error=self.error or "no result")
        else:
            msg.update(self.prediction.to_json())
            msg["draw"] = self.overlay or []
        if self.agreement is not None:
            msg["agreement"] = self.agreement
        if backends.note():
            msg["note"] = backends.note()
        return msg


def run_side(task: TaskDef, spec: ModelSpec, frame: np.ndarray, options: Options,
             tracker: StreamTracker | None = None, mirror_display: bool = False, seq: int = 0,
             progress: Callable[[float, str], None] | None = None,
             stream: Stream | None = None, render: str = "pixels") -> SideOutput:
    """One model on one frame: predict, track, draw. With ``mirror_display`` (a selfie preview) the model
    sees the camera's frame as it is, and its result is mirrored to draw on the mirrored picture the user
    sees; the result's coordinates (and the handedness of hands) are then those of that picture.
    ``stream`` names the live stream's side, whose own runner (video mode) a tracking model uses; None: the
    shared one.
    ``render``: "pixels" draws on the frame (``annotated``), "overlay" records the drawing for the
    browser's live view (``overlay``)."""
    draw_kw = options.draw_kwargs()
    try:
        pred = predict(spec, frame, progress=progress, stream=stream, **options.predict_kwargs())
        result = pred.result
        if tracker is not None:
            result = tracker.update(result)
        if mirror_display:
            result = result.flipped(frame.shape[1])
        pred = Prediction(pred.model, result, pred.latency_ms)
        if render == "overlay":
            return SideOutput(pred, None, seq=seq, overlay=task.overlay(frame.shape, result, **draw_kw), model=spec.id,
                              shape=frame.shape[:2])
        shown = cv2.flip(frame, 1) if mirror_display else frame
        return SideOutput(pred, task.annotate(shown, result, **draw_kw), seq=seq, model=spec.id)
    except Exception as exc:  # noqa: BLE001 - shown to the user as one sentence
        return SideOutput(None, None, user_message(exc), seq=seq, model=spec.id, shape=frame.shape[:2])


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


def max_tracking_runners() -> int:
    return settings.get("PLAYGROUND_MAX_TRACKERS")


TRACKING_IDLE_S = 30.0


class TrackingRunners:
    """One stream's own runners in video (tracking) mode, one per side, for the models whose runtime has
    such a mode (MediaPipe's face mesh, hands, pose): each follows what it found from frame to frame, so
    the detector need not run on every frame. Created on first use; closed when the side's model changes,
    when the stream has been idle for :data:`TRACKING_IDLE_S`, or when its session ends. At most
    ``PLAYGROUND_MAX_TRACKERS`` exist across all streams; past that a new one is refused with a sentence."""

    _count = 0
    _count_lock = threading.Lock()
    _all: "weakref.WeakSet[TrackingRunners]" = weakref.WeakSet()

    def __init__(self) -> None:
        self._sides: dict[str, tuple[ModelSpec, Any, str | None]] = {}
        self._lock = threading.Lock()
        self.used_at = time.monotonic()
        self.address: str | None = None  # the visitor's address: its share of runners (playground.guard)
        TrackingRunners._all.add(self)

    @classmethod
    def open_count(cls) -> int:
        with cls._count_lock:
            return cls._count

    def runner_for(self, side: str, spec: ModelSpec) -> Any | None:
        """The side's own runner for ``spec`` (made now if needed), or None if the model has no video mode."""
        TrackingRunners.close_idle()
        self.used_at = time.monotonic()
        rt = runtime(spec.runtime)
        with self._lock:
            held = self._sides.get(side)
            if held is not None and held[0] == spec:
                return held[1]
        self.close(side)
        if rt.load_tracking is None or not rt.tracks(spec):
            return None
        address = self.address
        BUDGET.claim("stream_runners", address)
        with TrackingRunners._count_lock:
            if TrackingRunners._count >= max_tracking_runners():
                BUDGET.release("stream_runners", address)
                raise BusyError("the playground is busy: every live tracking slot is taken; try again in a minute")
            TrackingRunners._count += 1
        try:
            runner = rt.load_tracking(spec, resolve_path(spec))
        except BaseException:
            with TrackingRunners._count_lock:
                TrackingRunners._count -= 1
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
            with TrackingRunners._count_lock:
                TrackingRunners._count -= 1
            BUDGET.release("stream_runners", address)

    @classmethod
    def close_idle(cls, idle_s: float = TRACKING_IDLE_S) -> None:
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
        self.tracking = TrackingRunners()  # this stream's own video-mode runners
        self.token = secrets.token_hex(8)  # names this session in per-visitor limits
        self.sides = {"a": Side(), "b": Side()}
        self.lock = threading.Lock()
        self.seq = 0
        self.models: dict[str, str] = dict(models or {})
        self.controls: dict[str, Options] = self.options_by_side(controls)
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
        return self.tracking.address

    @address.setter
    def address(self, value: str | None) -> None:
        self.tracking.address = value

    def __deepcopy__(self, memo) -> "StreamSession":
        """Gradio copies a State's initial value for each browser session: each gets a fresh stream with
        the same models and controls, never another session's trackers or frames."""
        return StreamSession(self.task.name, self.models, self.controls)  # with a fresh offer of its own

    def close(self) -> None:
        """The session has ended (Gradio calls this when it drops the state): its tracking runners go, and
        its live socket, if any, closes."""
        self.closed = True
        self.end_tracking()

    def end_tracking(self) -> None:
        """The stream has ended: its tracking runners go, here and wherever the models run."""
        self.tracking.close()
        backend = backends.current()
        for key in self.sides:
            backend.end_stream(f"{self.token}/{key}")

    def set_model(self, key: str, model_id: str) -> None:
        with self.lock:
            self.models[key] = model_id

    def options_by_side(self, controls: Mapping[str, Any] | None) -> dict[str, Options]:
        """Each side's settings, checked (where a request enters)."""
        controls = controls or {}
        return {k: self.task.options_of(controls[k] if k in controls else None) for k in ("a", "b")}

    def set_controls(self, controls: Mapping[str, Any]) -> None:
        options = self.options_by_side(controls)
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
                           Stream(f"{self.token}/{key}", partial(self.tracking.runner_for, key, spec)), render=render)
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


def agreement_json(task: TaskDef, a: Prediction, b: Prediction) -> dict[str, Any]:
    out = dict(task.agreement(a.result, b.result))
    out.pop("pairs", None)
    return out


def preload(specs: Iterable[ModelSpec], progress: Callable[[float, str], None] | None = None) -> dict[str, str]:
    """Load the models that are not loaded yet, here in the calling thread, so that a page's progress
    tracker (gr.Progress with track_tqdm, which follows this thread) shows their downloads. Returns
    {model id: the sentence} for those that could not be loaded; the others are in the cache."""
    failed: dict[str, str] = {}
    backend = backends.current()
    for spec in {s.id: s for s in specs}.values():
        if backend.is_loaded(spec.id):
            continue
        try:
            if progress is not None:
                progress(0.0, f"loading {spec.id} (first use)…")
            backend.preload(spec, progress)
        except Exception as exc:  # noqa: BLE001 - reported per side
            failed[spec.id] = user_message(exc)
    return failed


def run_pair(task: TaskDef, specs: Mapping[str, ModelSpec], frame: np.ndarray,
             options: Mapping[str, Options], failed: Mapping[str, str],
             trackers: Mapping[str, StreamTracker | None] | None = None) -> dict[str, SideOutput]:
    """Both sides on one frame, concurrently, by side key. A side in ``failed`` (its model could not be
    had or loaded) is that sentence as its error, without trying again."""
    futures = {key: EXECUTOR.submit(run_side, task, spec, frame, options[key], (trackers or {}).get(key))
               for key, spec in specs.items() if key not in failed}
    return {key: futures[key].result() if key in futures else SideOutput(None, None, failed[key])
            for key in ("a", "b") if key in futures or key in failed}


def load_sides(specs: Mapping[str, ModelSpec], progress: Callable[[float, str], None] | None = None,
               failed: Mapping[str, str] | None = None) -> dict[str, str]:
    """:func:`preload` for the sides of a request: {side: sentence} for each side that cannot run."""
    out = dict(failed or {})
    not_loaded = preload([s for k, s in specs.items() if k not in out], progress)
    out.update({k: not_loaded[s.id] for k, s in specs.items() if s.id in not_loaded})
    return out


def offered_spec(task_name: str, model: object, offer: Offer) -> ModelSpec:
    """A model of a request, checked: offered to this session, and made for this task."""
    spec = model if isinstance(model, ModelSpec) else offer.spec(model)
    if spec.task != task_name:
        raise ZooError(f"{spec.id} is a {spec.task} model, not a {task_name} model")
    return spec


def pair_specs(task_name: str, model_a: object, model_b: object, offer: Offer | None = None) -> dict[str, ModelSpec]:
    """The two models of a still-image request, both checked (:func:`offered_spec`)."""
    offer = offer or Offer(task_name)
    return {"a": offered_spec(task_name, model_a, offer), "b": offered_spec(task_name, model_b, offer)}


def still_image(image: Any) -> np.ndarray:
    """A still image from the page or the API (a file path, a pasted picture's bytes, or an array) as the
    RGB frame the models see: checked before decoding, then shrunk to :data:`STILL_MAX_SIDE`."""
    if image is None:
        raise ImageError("no image: upload one, take a snapshot or pick an example")
    if isinstance(image, (str, bytes, bytearray)):
        return load_image(image, max_side=STILL_MAX_SIDE)
    return fit_within(to_rgb_uint8(image), STILL_MAX_SIDE)[0]


def predict_pair(task_name: str, image: Any, model_a: str, model_b: str,
                 controls: Mapping[str, Mapping[str, Any]] | None = None,
                 progress: Callable[[float, str], None] | None = None,
                 offer: Offer | None = None) -> tuple[SideOutput, SideOutput, dict]:
    """A and B on one still image, concurrently. Raises ZooError with a readable message. Only models
    ``offer`` holds (the registry's, by default) run. Models are loaded first (with ``progress``); one
    that cannot be loaded makes that side an error."""
    task = TASKS[task_name]
    specs = pair_specs(task_name, model_a, model_b, offer)
    rgb = still_image(image)
    options = {k: task.options_of((controls or {}).get(k)) for k in ("a", "b")}  # checked here, where it enters
    outs = run_pair(task, specs, rgb, options, load_sides(specs, progress))
    a, b = outs["a"], outs["b"]
    payload: dict[str, Any] = {
        "a": a.prediction.to_json() if a.prediction else {"model": specs["a"].id, "error": a.error},
        "b": b.prediction.to_json() if b.prediction else {"model": specs["b"].id, "error": b.error},
        "image": {"width": int(rgb.shape[1]), "height": int(rgb.shape[0])},
        "agreement": agreement_json(task, a.prediction, b.prediction) if a.prediction and b.prediction else {},
    }
    return a, b, payload
