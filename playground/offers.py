"""Which models a browser session (or an API client's session) may run: the registry's, plus the ones
that session added from the Hub with the Add action or trained in the Teach panel. Nothing else: an id
typed into a picker or sent to the API that names neither is refused before any file or network is touched.
"""
from __future__ import annotations

import itertools
import secrets
import threading
import time
import weakref
from pathlib import Path

from playground.guard import SHARES
from tasks import hub_spec
from zoo.errors import BusyError, RefusedModelError
from tasks.gesture_lab import spec_for_file
from zoo.registry import UnknownModelError, get_spec
from zoo import settings
from zoo.specs import ModelSpec

MAX_ADDED_PER_SESSION = 5
MAX_ADDED_IN_ALL = 100  # Hub models added by all live sessions together
MAX_TRAINED_PER_SESSION = 5


def added_idle_s() -> int:
    """A session's added models expire after this long unused (an API session never says it has ended)."""
    return settings.get("PLAYGROUND_ADDED_IDLE_S")

_live: "weakref.WeakSet[Offer]" = weakref.WeakSet()
_live_lock = threading.Lock()
_serial = itertools.count(1)


class Offer:
    """The models one session of one tab may run. Gradio gives each session its own copy (``__deepcopy__``)
    and drops it when the session ends, which frees that session's places under the global cap."""

    def __init__(self, task: str):
        self.task = task
        self._own: dict[str, ModelSpec] = {}
        self._lock = threading.Lock()
        self.used_at = time.monotonic()
        self.address: str | None = None  # who added its Hub models (their per-address share)
        with _live_lock:
            _live.add(self)

    def __deepcopy__(self, memo) -> "Offer":
        return Offer(self.task)

    def spec(self, model_id: object) -> ModelSpec:
        """The entry for an id this session may run; UnknownModelError (a sentence) for any other."""
        if isinstance(model_id, str):
            with self._lock:
                self.used_at = time.monotonic()
                own = self._own.get(model_id)
            if own is not None:
                return own
        if isinstance(model_id, str) and model_id.startswith(("hf:", "file:", "mine:")):
            raise UnknownModelError(model_id, hint="a Hub model runs here once this session has added it "
                                                   "(Add a model from the Hub)")
        return get_spec(model_id)

    def own(self) -> list[ModelSpec]:
        with self._lock:
            return list(self._own.values())

    def _count(self, prefix: str) -> int:
        return sum(1 for k in self._own if k.startswith(prefix))

    def expire(self, idle_s: float) -> None:
        """Forget this session's added Hub models once it has been idle for ``idle_s``."""
        with self._lock:
            if time.monotonic() - self.used_at > idle_s:
                for key in [k for k in self._own if k.startswith("hf:")]:
                    del self._own[key]

    def add_hub(self, repo_id: str, revision: str | None = None, *, address: str | None = None) -> ModelSpec:
        """The Add action: read the card, check it fits this tab, keep it for this session only. Counted
        per session, per client ``address`` (``playground.guard``'s "adds" share) and in all; sessions idle
        for :func:`added_idle_s` give their places back."""
        text = (repo_id or "").strip()
        if not text:
            raise RefusedModelError("type a Hub model id first (owner/name)")
        model_id = f"{text}@{revision.strip()}" if (revision or "").strip() else text
        with self._lock:
            self.used_at = time.monotonic()
            if self._count("hf:") >= MAX_ADDED_PER_SESSION:
                raise BusyError(f"a session may add at most {MAX_ADDED_PER_SESSION} Hub models")
        idle = added_idle_s()
        with _live_lock:
            offers = list(_live)
        for offer in offers:
            offer.expire(idle)
        total = sum(o._count("hf:") for o in offers)
        if total >= MAX_ADDED_IN_ALL:
            raise BusyError("the playground holds as many added models as it can right now; try again later")
        if address is not None:
            share = SHARES["adds"].limit()
            mine = sum(o._count("hf:") for o in offers if o.address == address)
            if mine >= share:
                raise BusyError(f"your address has added {mine} Hub models, its share of this playground "
                                f"(at most {share}); they expire after {idle // 60} minutes unused")
        spec = hub_spec(model_id, task=self.task)
        with self._lock:
            self._own[spec.id] = spec
            if address is not None:
                self.address = address
        return spec

    def add_trained(self, path: str | Path, kind: str) -> ModelSpec:
        """A head the Teach panel trained in this session: an id of its own (never its path)."""
        with self._lock:
            heads = [k for k in self._own if k.startswith("mine:")]
            while len(heads) >= MAX_TRAINED_PER_SESSION:  # the oldest head makes room
                self._own.pop(heads.pop(0))
        model_id = f"mine:{kind}-head-{next(_serial)}-{secrets.token_hex(4)}"
        spec = spec_for_file(model_id, path=path)
        with self._lock:
            self._own[model_id] = spec
        return spec
