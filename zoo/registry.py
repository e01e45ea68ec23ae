"""The zoo's registry: every model the playground knows is an entry some module registered.

Each model family's module (``models/``: the spec as data, its thresholds with their provenance, and its
pre/post-processing beside it) calls :func:`register_models` when imported, as timm's ``@register_model``;
the registry holds exactly what registered. Bundled entries run offline from files inside installed
packages; Hub entries are fetched on first use. The zoo knows no task and no family.
"""
from __future__ import annotations

import difflib
import sys
from typing import Any, Iterable

from zoo.errors import ZooError, clip
from zoo.runtimes import runtime
from zoo.specs import EXTERNAL_PREFIXES, BundledSource, LocalSource, ModelSpec

class UnknownModelError(ZooError, KeyError):
    """An id that names no model the caller may run; the message lists the closest ids."""

    def __init__(self, model_id: object, suggestions: Iterable[str] = (), hint: str = ""):
        self.model_id = model_id
        self.suggestions = list(suggestions)
        if self.suggestions:
            hint = f"closest: {', '.join(self.suggestions)}"
        super().__init__(f"unknown model '{clip(model_id)}'" + (f"; {hint}" if hint else ""))

    def __str__(self) -> str:  # KeyError quotes its message; a person should not see that
        return self.args[0]


_REGISTERED: dict[str, ModelSpec] = {}  # in the order registered
_MODULE: dict[str, str] = {}  # id -> the module that registered it (``python -m zoo lock`` rewrites that file)


def register_models(*specs: ModelSpec, module: str | None = None) -> tuple[ModelSpec, ...]:
    """Add entries to the registry, at import of the module that defines them. An id registered twice by
    different entries is an error (the same entry again, a module imported twice, is not)."""
    where = module or sys._getframe(1).f_globals.get("__name__", "")
    for spec in specs:
        if spec.id.startswith(EXTERNAL_PREFIXES):
            raise ValueError(f"{spec.id}: registry ids are 'task/name'")
        if spec.id in _REGISTERED and _REGISTERED[spec.id] != spec:
            raise ValueError(f"{spec.id} is registered twice")
        _REGISTERED[spec.id] = spec
        _MODULE[spec.id] = where
    return specs


def unregister_models(*ids: str) -> None:
    for model_id in ids:
        _REGISTERED.pop(model_id, None)
        _MODULE.pop(model_id, None)


def registered_in(model_id: str) -> str:
    """The module that registered an entry."""
    return _MODULE[model_id]


def _all() -> tuple[ModelSpec, ...]:
    # MediaPipe's own graphs are offered only where the optional mediapipe package is installed
    return tuple(s for s in _REGISTERED.values() if not s.reference_of or runtime(s.runtime).installed())


def registered() -> tuple[ModelSpec, ...]:
    """Every registered entry, the reference ones included wherever they can run or not."""
    return tuple(_REGISTERED.values())


def all_specs(task: str | None = None) -> list[ModelSpec]:
    return [s for s in _all() if task is None or s.task == task]


def offline_available(spec: ModelSpec) -> bool:
    """Can this model run now without the network?"""
    if not runtime(spec.runtime).installed():
        return False
    if isinstance(spec.source, (BundledSource, LocalSource)):
        return spec.source.available()
    from zoo import hub

    return all(hub.is_cached(s) for s in spec.hub_sources())


def row(spec: ModelSpec) -> dict[str, Any]:
    """A spec as one row of ``python -m zoo list`` (and of the app's Zoo tab)."""
    return {
        "id": spec.id,
        "task": spec.task,
        "name": spec.name,
        "runtime": spec.runtime,
        "source": spec.source.describe() + (f" after {spec.detector.describe()}" if spec.detector else ""),
        "offline": offline_available(spec),
        "license": spec.license,
        "reference": spec.reference,
        "note": spec.note,
    }


def get_spec(model_id: str) -> ModelSpec:
    """A registry entry by id. Only the registry: bring-your-own (``hf:``) and local files (``file:``) are
    resolved by the command line (``playground.cli.resolve``), and by a session's own offer in the app."""
    if isinstance(model_id, str):
        for spec in _all():
            if spec.id == model_id:
                return spec
    raise UnknownModelError(model_id, suggest(model_id))


def suggest(model_id: object) -> list[str]:
    if not isinstance(model_id, str) or not model_id or len(model_id) > 200:
        return []
    ids = [s.id for s in _all()]
    close = difflib.get_close_matches(model_id, ids, n=3, cutoff=0.3)
    if not close:
        close = [i for i in ids if model_id.split("/")[0] in i][:3]
    return close
