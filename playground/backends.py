"""Where the models run: the one inference interface under still images, video, live and the CLI.

``local`` (the default) runs them in this process, exactly as before; ``ray`` sends each call to the
playground's Ray Serve application (``playground.serving``), which places replicas across a cluster, keeps a
bounded set of loaded models on each and routes a call to a replica holding its model. Everything above
:func:`current` (``playground.engine.predict``) is the same for both: the result objects that come back are
the ones the local path makes.

Settings (read when the backend is first used, not at import):
- ``ZOO_BACKEND``: ``local`` or ``ray``.
- ``RAY_ADDRESS``: a running cluster to join (its Serve application started by ``python -m
  playground.serving``); unset, a local Ray starts in this process and the application is deployed on it.
- ``ZOO_RAY_FALLBACK``: ``local`` to run the models here when the cluster cannot be reached (each side's
  readout says so); unset, each call answers with that sentence until the cluster is back.
- ``ZOO_RAY_FRAMES``: how frames cross, ``raw`` (the array, through Ray's object store) or ``jpeg``.
- ``ZOO_RAY_TIMEOUT_S``: how long one call may take on the cluster (default 60).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np

from playground.serving import (APP_NAME, frames_setting, local_ray_options, multiplexed_id, pack_frame,
                                prepare_local_ray, reachable, runtime_env)
from playground.serving import deploy as deploy_app
from zoo.errors import ZooError
from zoo import settings as env

log = logging.getLogger(__name__)

RETRY_CONNECT_S = 30.0  # an unreachable cluster is tried again at most this often


class ClusterError(ZooError):
    """The model cluster cannot be reached, or lost a call twice."""


@dataclass(frozen=True)
class Stream:
    """One side of one live stream, for the models that keep tracking state between frames (MediaPipe's
    video mode). ``key`` names it wherever the models run; ``local_runner`` makes this process's own
    runner for it (the local backend's way)."""
    key: str
    local_runner: Callable[[], Any] | None = None


class Backend(Protocol):
    name: str
    note: str  # a sentence for each side's readout ("" when all is as configured)

    def infer(self, spec: Any, rgb: np.ndarray, *, progress: Callable[[float, str], None] | None = None,
              stream: Stream | None = None) -> tuple[Any, float]:
        """The task's result for one RGB uint8 frame and the model's time in ms (loading not counted)."""

    def is_loaded(self, model_id: str) -> bool: ...

    def preload(self, spec: Any, progress: Callable[[float, str], None] | None = None) -> None: ...

    def end_stream(self, key: str) -> None:
        """The stream ``key`` has ended: its tracking state goes."""


class LocalBackend:
    """The models in this process: the bounded cache of loaded models, and a stream's own runners."""
    name = "local"

    def __init__(self, note: str = "") -> None:
        self.note = note

    def infer(self, spec, rgb, *, progress=None, stream=None):
        from tasks import infer

        runner = stream.local_runner() if stream is not None and stream.local_runner is not None else None
        return infer(spec, rgb, progress=progress, runner=runner)

    def is_loaded(self, model_id: str) -> bool:
        from zoo.cache import MODELS

        return MODELS.is_loaded(model_id)

    def preload(self, spec, progress=None) -> None:
        from zoo.cache import MODELS

        MODELS.get(spec, progress)

    def end_stream(self, key: str) -> None:
        """Nothing: a stream's own runners close with its session (``playground.stream_runners.StreamRunners``)."""


def _lost(exc: BaseException) -> bool:
    """A call lost with its replica (killed, crashed, being replaced): worth one more try elsewhere."""
    from ray import exceptions as rx

    kinds = tuple(k for k in (getattr(rx, n, None) for n in (
        "RayActorError", "ActorDiedError", "ActorUnavailableError", "WorkerCrashedError", "NodeDiedError",
        "ObjectLostError", "OwnerDiedError")) if k is not None)
    return isinstance(exc, kinds)


class RayBackend:
    """The models on the playground's Ray Serve application (see ``playground.serving``)."""
    name = "ray"

    def __init__(self, address: str | None = None, deploy: bool | None = None) -> None:
        self.address = address if address is not None else env.get("RAY_ADDRESS") or None
        if not self.address:
            prepare_local_ray()
        import ray
        from ray import serve

        self.note = ""
        self.frames = frames_setting()
        self.timeout_s = env.get("ZOO_RAY_TIMEOUT_S")
        try:
            if self.address and not ray.is_initialized():
                reachable(self.address)
            if not ray.is_initialized():
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False, configure_logging=False,
                         **({} if self.address else {"runtime_env": runtime_env(), **local_ray_options()}))
        except Exception as exc:  # noqa: BLE001 - any failure to join is the same sentence to a person
            raise ClusterError(f"the model cluster at {self.address or 'this machine'} cannot be reached "
                               f"({exc.__class__.__name__})") from exc
        if deploy if deploy is not None else not self.address:
            self.handle = deploy_app()
        else:
            try:
                self.handle = serve.get_app_handle(APP_NAME)
            except Exception as exc:  # noqa: BLE001
                raise ClusterError("the model cluster has no playground application running: start it there "
                                   "with `python -m playground.serving`") from exc
        self._seen: set[str] = set()
        self._streams: dict[str, set[str]] = {}  # stream key -> the multiplexed ids it has used
        self._streams_lock = threading.Lock()

    def _call(self, method: str, model_key: str, *args) -> Any:
        for attempt in (1, 2):
            try:
                handle = self.handle.options(multiplexed_model_id=model_key)
                return getattr(handle, method).remote(*args).result(timeout_s=self.timeout_s)
            except Exception as exc:  # noqa: BLE001 - sorted below
                if isinstance(exc, ZooError):
                    raise
                if _lost(exc) and attempt == 1:
                    log.warning("a model replica was lost during a call (%s); trying once more", exc.__class__.__name__)
                    continue
                if _lost(exc):
                    raise ClusterError("the model server lost this frame twice; the next one tries again") from exc
                if exc.__class__.__name__ in ("TimeoutError", "GetTimeoutError"):
                    raise ClusterError(f"the model cluster did not answer within {self.timeout_s:.0f} s") from exc
                raise
        raise AssertionError("unreachable")

    def infer(self, spec, rgb, *, progress=None, stream=None):
        key = multiplexed_id(spec, stream.key if stream is not None else None)
        if stream is not None:
            with self._streams_lock:
                self._streams.setdefault(stream.key, set()).add(key)
        result, latency = self._call("infer", key, spec, pack_frame(rgb, self.frames),
                                     stream.key if stream is not None else None)
        self._seen.add(spec.id)
        return result, latency

    def is_loaded(self, model_id: str) -> bool:
        return model_id in self._seen

    def preload(self, spec, progress=None) -> None:
        self._call("warm", multiplexed_id(spec, None), spec)
        self._seen.add(spec.id)

    def end_stream(self, key: str) -> None:
        with self._streams_lock:
            used = self._streams.pop(key, set())
        for model_key in used:  # sent to the replica that holds it: its multiplexed id routes there
            try:
                self.handle.options(multiplexed_model_id=model_key).end_stream.remote(model_key)
            except Exception as exc:  # noqa: BLE001 - a cluster gone has nothing left to release
                log.info("could not release a stream's tracking state: %r", exc)


class Unreachable:
    """The cluster cannot be reached and no fallback is set: every call says so (the cluster is tried again
    at most every :data:`RETRY_CONNECT_S`)."""
    name = "ray"

    def __init__(self, sentence: str) -> None:
        self.note = sentence
        self.since = time.monotonic()

    def infer(self, spec, rgb, *, progress=None, stream=None):
        raise ClusterError(self.note)

    def is_loaded(self, model_id: str) -> bool:
        return True

    def preload(self, spec, progress=None) -> None:
        raise ClusterError(self.note)

    def end_stream(self, key: str) -> None:
        pass


_lock = threading.Lock()
_current: Backend | None = None


def setting() -> str:
    return env.get("ZOO_BACKEND")


def current() -> Backend:
    """The backend the settings ask for, made on first use. An unreachable cluster gives the local backend
    (with a note) when ``ZOO_RAY_FALLBACK=local``, else a backend that answers each call with the sentence."""
    global _current
    with _lock:
        if isinstance(_current, Unreachable) and time.monotonic() - _current.since > RETRY_CONNECT_S:
            _current = None
        if _current is not None:
            return _current
        if setting() == "local":
            _current = LocalBackend()
            return _current
        try:
            _current = RayBackend()
        except ClusterError as exc:
            sentence = str(exc)
            if env.get("ZOO_RAY_FALLBACK") == "local":
                log.error("%s; the models run in this process instead", sentence)
                _current = LocalBackend(note=f"{sentence}: running on the app's own machine")
            else:
                log.error("%s", sentence)
                _current = Unreachable(sentence)
        return _current


def note() -> str:
    """The current backend's sentence for the readouts ("" when none, or when no backend is made yet)."""
    backend = _current
    return backend.note if backend is not None else ""


def use(backend: Backend | None) -> None:
    """Set the backend (tests and benchmarks); None: made again from the settings."""
    global _current
    with _lock:
        _current = backend
