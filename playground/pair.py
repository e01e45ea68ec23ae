"""A and B on one frame: one side's run (predict, track, draw), both sides at once, their agreement, the
models a session may run, and the still-image path the API and the image tab use. The error policy lives
here too: every failure a visitor can meet becomes one sentence (:func:`user_message`).

No Gradio here: the tab wiring in ``playground.ui`` calls these, and tests call them directly.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import cv2
import numpy as np

from playground import backends
from playground.backends import Stream
from playground.engine import Prediction, predict
from playground.offers import Offer
from tasks import TASKS
from tasks.base import Options, TaskDef
from tasks.tracking import StreamTracker
from zoo import settings
from zoo.errors import ZooError, clip, scrub
from zoo.images import ImageError, fit_within, load_image, to_rgb_uint8
from zoo.specs import ModelSpec

log = logging.getLogger(__name__)

# A and B of the live view run on this pool; the runtimes release the GIL while they compute.
EXECUTOR = ThreadPoolExecutor(max_workers=16, thread_name_prefix="ab")


def _below_live() -> None:
    """A batch thread (still images, videos) runs ``PLAYGROUND_BATCH_NICE`` below the live view (Linux: the
    nice value is per thread). With the crowd of bench.soak beside 8 API clients it took the live view from
    4.1 to 5.1 answers a second; a live frame is late when it waits, a still image only takes a little longer."""
    lower = settings.get("PLAYGROUND_BATCH_NICE")
    if lower and sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + lower))
        except OSError:
            log.debug("could not lower the batch threads' priority")


# A and B of still images and videos run on this one, below the live view.
BATCH = ThreadPoolExecutor(max_workers=16, thread_name_prefix="batch", initializer=_below_live)


# A still image is shrunk to this before the models (their inputs are 128-640 px; a bigger picture only
# costs memory and time) and the results are pixels of that picture.
STILL_MAX_SIDE = 1280


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
    futures = {key: BATCH.submit(run_side, task, spec, frame, options[key], (trackers or {}).get(key))
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
    rgb = BATCH.submit(still_image, image).result()  # decoding a large picture is batch work too
    options = task.options_by_side(controls)  # checked here, where it enters
    outs = run_pair(task, specs, rgb, options, load_sides(specs, progress))
    a, b = outs["a"], outs["b"]
    payload: dict[str, Any] = {
        "a": a.prediction.to_json() if a.prediction else {"model": specs["a"].id, "error": a.error},
        "b": b.prediction.to_json() if b.prediction else {"model": specs["b"].id, "error": b.error},
        "image": {"width": int(rgb.shape[1]), "height": int(rgb.shape[0])},
        "agreement": agreement_json(task, a.prediction, b.prediction) if a.prediction and b.prediction else {},
    }
    return a, b, payload

