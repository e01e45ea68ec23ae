"""A bounded, thread-safe cache of loaded models: each loads once, the least recently used go."""
from __future__ import annotations

import ctypes
import logging
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from contextlib import contextmanager
from typing import Callable, Iterator
from urllib.error import URLError

from zoo.errors import ModelLoadError, ModelUnavailableError, ZooError
from zoo.runtimes import Runner, runtime
from zoo.specs import BundledSource, LocalSource, ModelSpec
from zoo import settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    spec: ModelSpec
    runner: Runner
    load_seconds: float


def resolve_path(spec: ModelSpec, progress: Callable[[float, str], None] | None = None) -> Path | None:
    """Where the model's main file is on disk, fetching it from the Hub if needed."""
    src = spec.source
    if isinstance(src, LocalSource):
        if not src.available():
            raise ModelUnavailableError(f"{spec.id}: the file is gone")
        return Path(src.path)
    if isinstance(src, BundledSource):
        from zoo import bundled

        pinned = [p for p in spec.bundled_files() if p in bundled.FILES]
        if bundled.missing(pinned):  # a host without scripts/setup (a Space): fetched once, on first use
            bundled.fetch(pinned, progress=progress)
        path = src.locate()
        if path is None:
            raise ModelUnavailableError(f"{spec.id}: the package '{src.package}' is not installed")
        if not path.exists():
            raise ModelUnavailableError(f"{spec.id}: {src.describe()} is missing from the installed package")
        return path
    from zoo import hub

    return hub.fetch(src, progress=progress)


def load(spec: ModelSpec, progress: Callable[[float, str], None] | None = None) -> Loaded:
    t0 = time.perf_counter()
    path = resolve_path(spec, progress)
    if spec.detector is not None:  # two repos: the runtime gets (model, detector)
        from zoo import hub

        path = (path, hub.fetch(spec.detector, progress=progress))
    try:
        runner = runtime(spec.runtime).load(spec, path)
    except ZooError:
        raise
    except Exception as exc:  # runtimes raise anything; the user gets one sentence
        log.warning("loading %s failed: %r", spec.id, exc, exc_info=log.isEnabledFor(logging.DEBUG))
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        if isinstance(exc, (URLError, socket.gaierror, ConnectionError)):  # mediapipe fetching a missing file
            raise ModelUnavailableError(
                f"{spec.id}: its model file is not installed and could not be downloaded (no network)"
            ) from exc
        raise ModelLoadError(f"{spec.id}: could not be loaded ({reason})") from exc
    dt = time.perf_counter() - t0
    log.info("loaded %s in %.2f s", spec.id, dt)
    return Loaded(spec, runner, dt)


def trim_memory() -> None:
    """Hand freed memory back to the system (glibc keeps it otherwise: a server that loads and closes models
    grew by ~60 MB a cycle of the five tabs without this, and stayed flat with it)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def open_stream_runner(spec: ModelSpec) -> Runner:
    """One stream's own runner in stream mode (its runtime's ``load_stream``), from the spec's files: the one
    way both the app's own stream runners (playground.live) and a Ray replica (playground.serving) open
    one. The caller owns it and closes it with :func:`close_runner`."""
    return runtime(spec.runtime).load_stream(spec, resolve_path(spec))


def close_runner(runner: Runner) -> None:
    """Free what a runner holds (a MediaPipe graph keeps its own threads and buffers until closed)."""
    close = getattr(runner, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception as exc:  # noqa: BLE001 - closing must never break the caller
        log.warning("closing a model failed: %r", exc)


@dataclass
class _Entry:
    loaded: Loaded
    users: int = 0  # leases held now
    evicted: bool = False  # out of the cache; closed when its last lease ends


def default_max_models() -> int:
    """Loaded models kept at once: at least the default pairs of every tab (10) and a few more."""
    return settings.get("ZOO_MAX_MODELS")


class ModelCache:
    """Each model loads once; the least recently used go when there are more than ``max_models`` (read
    from ``ZOO_MAX_MODELS`` when used, unless given). What goes is closed: at once when nobody is running
    it, otherwise when its last :meth:`lease` ends."""

    def __init__(self, max_models: int | None = None, load_fn: Callable[..., Loaded] = load):
        if max_models is not None and max_models < 1:
            raise ValueError("max_models must be at least 1")
        self._max_models = max_models
        self._load = load_fn
        self._items: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self.closed = 0  # models closed so far (a figure for tests and the soak)

    @property
    def max_models(self) -> int:
        return self._max_models if self._max_models is not None else default_max_models()

    def _hit(self, spec: ModelSpec, take: bool) -> _Entry | None:
        entry = self._items.get(spec.id)
        if entry is not None and entry.loaded.spec == spec:
            self._items.move_to_end(spec.id)
            entry.users += take
            return entry
        return None

    def _trim(self) -> list[Loaded]:
        """Called under the lock: the least recently used go until the cache fits its (current) size."""
        out = []
        while len(self._items) > self.max_models:
            old_id, old = self._items.popitem(last=False)
            log.info("released %s (cache holds %d models)", old_id, self.max_models)
            out += self._retire(old)
        return out

    def _acquire(self, spec: ModelSpec, progress, take: bool) -> _Entry:
        with self._lock:
            hit = self._hit(spec, take)
            to_close = self._trim() if hit is not None else []
        if hit is not None:
            self._close(to_close)
            return hit
        with self._lock:
            key_lock = self._key_locks.setdefault(spec.id, threading.Lock())
        with key_lock:  # one loader per model; others wait for it instead of loading twice
            with self._lock:
                hit = self._hit(spec, take)
            if hit is not None:
                return hit
            loaded = self._load(spec, progress)
            to_close = []
            with self._lock:
                old = self._items.pop(spec.id, None)
                if old is not None:  # the same id with another spec (a re-added model): retire the old one
                    to_close += self._retire(old)
                entry = _Entry(loaded, users=int(take))
                self._items[spec.id] = entry
                to_close += self._trim()
        self._close(to_close)
        return entry

    def _retire(self, entry: _Entry) -> list[Loaded]:
        """Called under the lock: the entry leaves the cache; returns it if it can be closed now."""
        entry.evicted = True
        return [entry.loaded] if entry.users == 0 else []

    def _close(self, items: list[Loaded]) -> None:
        for loaded in items:
            close_runner(loaded.runner)
            with self._lock:
                self.closed += 1
        if items:
            trim_memory()

    def get(self, spec: ModelSpec, progress: Callable[[float, str], None] | None = None) -> Loaded:
        """Load (or find) a model without holding it: for warming up. To run it, take a :meth:`lease`."""
        return self._acquire(spec, progress, take=False).loaded

    @contextmanager
    def lease(self, spec: ModelSpec, progress: Callable[[float, str], None] | None = None) -> Iterator[Loaded]:
        """The loaded model, kept open (not closed by an eviction) until the block ends."""
        entry = self._acquire(spec, progress, take=True)
        try:
            yield entry.loaded
        finally:
            with self._lock:
                entry.users -= 1
                done = entry.evicted and entry.users == 0
            if done:
                self._close([entry.loaded])

    def is_loaded(self, model_id: str) -> bool:
        with self._lock:
            return model_id in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def discard(self, model_id: str) -> None:
        """Forget one model (closed once nobody runs it; loaded again on its next use)."""
        with self._lock:
            entry = self._items.pop(model_id, None)
            to_close = self._retire(entry) if entry is not None else []
        self._close(to_close)

    def clear(self) -> None:
        with self._lock:
            entries, self._items = list(self._items.values()), OrderedDict()
            to_close = [loaded for e in entries for loaded in self._retire(e)]
        self._close(to_close)


MODELS = ModelCache()
