"""A bounded, thread-safe cache of loaded models: each loads once, the least recently used go."""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from zoo.errors import ModelLoadError, ModelUnavailableError, ZooError
from zoo.runtimes import Runner, loader
from zoo.specs import BundledSource, LocalSource, ModelSpec

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
        path = src.locate()
        if path is None:
            raise ModelUnavailableError(f"{spec.id}: the package '{src.package}' is not installed")
        if not path.exists():
            if spec.runtime == "mediapipe":
                # mediapipe fetches a few of its solution files itself on first use (pose lite/heavy)
                return None
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
        runner = loader(spec.runtime)(spec, path)
    except ZooError:
        raise
    except Exception as exc:  # runtimes raise anything; the user gets one sentence
        log.warning("loading %s failed: %r", spec.id, exc, exc_info=log.isEnabledFor(logging.DEBUG))
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        if "urlopen" in reason or "URLError" in exc.__class__.__name__ or "Name or service" in reason:
            raise ModelUnavailableError(
                f"{spec.id}: its model file is not installed and could not be downloaded (no network)"
            ) from exc
        raise ModelLoadError(f"{spec.id}: could not be loaded ({reason})") from exc
    dt = time.perf_counter() - t0
    log.info("loaded %s in %.2f s", spec.id, dt)
    return Loaded(spec, runner, dt)


class ModelCache:
    def __init__(self, max_models: int = 8, load_fn: Callable[..., Loaded] = load):
        if max_models < 1:
            raise ValueError("max_models must be at least 1")
        self.max_models = max_models
        self._load = load_fn
        self._items: OrderedDict[str, Loaded] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    def get(self, spec: ModelSpec, progress: Callable[[float, str], None] | None = None) -> Loaded:
        with self._lock:
            hit = self._items.get(spec.id)
            if hit is not None and hit.spec == spec:
                self._items.move_to_end(spec.id)
                return hit
            key_lock = self._key_locks.setdefault(spec.id, threading.Lock())
        with key_lock:  # one loader per model; others wait for it instead of loading twice
            with self._lock:
                hit = self._items.get(spec.id)
                if hit is not None and hit.spec == spec:
                    self._items.move_to_end(spec.id)
                    return hit
            loaded = self._load(spec, progress)
            with self._lock:
                self._items[spec.id] = loaded
                self._items.move_to_end(spec.id)
                while len(self._items) > self.max_models:
                    old_id, _old = self._items.popitem(last=False)
                    # Not closed here: a stream may still be using it; it goes with its last reference.
                    log.info("released %s (cache holds %d models)", old_id, self.max_models)
            return loaded

    def is_loaded(self, model_id: str) -> bool:
        with self._lock:
            return model_id in self._items

    def loaded_ids(self) -> list[str]:
        with self._lock:
            return list(self._items)

    def discard(self, model_id: str) -> None:
        """Forget one model (it is loaded again on its next use)."""
        with self._lock:
            self._items.pop(model_id, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


MODELS = ModelCache(max_models=int(os.environ.get("ZOO_MAX_MODELS", "8")))
