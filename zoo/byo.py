"""Bring your own model: a Hub model's card, read and checked for safety, becomes a zoo entry.

``hf:OWNER/NAME[@REVISION]`` is the id of such an entry everywhere (CLI, app, API). :func:`read_card`
refuses, each with its reason: custom code, pickled weights only, no safetensors, not a transformers model,
too large, sharded weights, malformed ids. Whether a model fits a task is the task's to say (each
task module has a rule that turns a :class:`HubCard` into a spec, or refuses it): the zoo knows no task.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from zoo import hub
from zoo.errors import RefusedModelError, clip
from zoo.specs import HubSource, ModelSpec, Thresholds
from zoo import settings

log = logging.getLogger(__name__)

PICKLE_EXT = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
_ID = re.compile(r"^hf:(?P<repo>[^@\s]+)(@(?P<rev>\S+))?$")
_lock = threading.Lock()
_known: dict[str, "HubCard"] = {}


def parse(model_id: str) -> tuple[str, str | None]:
    text = model_id.strip()
    m = _ID.match(text if text.startswith("hf:") else f"hf:{text}")
    if not m:
        raise RefusedModelError(f"'{clip(model_id)}' is not a Hub model id: expected owner/name or owner/name@revision")
    return hub.validate_repo_id(m["repo"]), hub.validate_revision(m["rev"])


def model_id_for(repo_id: str, revision: str | None) -> str:
    return f"hf:{repo_id}@{revision}" if revision else f"hf:{repo_id}"


@dataclass(frozen=True)
class HubCard:
    """What the Hub says about a repo that passed the safety checks: enough for a task to decide."""

    repo_id: str
    revision: str | None  # as asked (None: the default branch)
    commit: str  # what it resolved to; the entry is pinned to it
    pipeline_tag: str | None
    architectures: tuple[str, ...]
    id2label: Mapping[int, str]
    weights: str  # the one safetensors file
    files: tuple[str, ...]  # the other files to fetch beside it (config, preprocessor)
    license: str | None = None

    @property
    def model_id(self) -> str:
        return model_id_for(self.repo_id, self.revision)

    def refuse(self, why: str) -> RefusedModelError:
        return RefusedModelError(f"{self.model_id} {why}")

    def spec(self, *, task: str, pipeline: Any, runtime: str = "transformers", options: Mapping[str, Any] | None = None,
             detector: HubSource | None = None, thresholds: Thresholds | None = None) -> ModelSpec:
        """The entry for this card, as the task decided to run it."""
        return ModelSpec(
            id=self.model_id, task=task, name=f"{self.repo_id} (from the Hub)", runtime=runtime, pipeline=pipeline,
            source=HubSource(self.repo_id, self.weights, self.commit, revision_is_commit=True, extra_files=self.files),
            detector=detector, input_size=None, license=self.license or "see the model card",
            reference=f"https://huggingface.co/{self.repo_id}", options=dict(options or {}),
            thresholds=thresholds or Thresholds(), note="Added from the Hub by a user.")


def read_card(model_id: str) -> HubCard:
    """Read the model's card and check it is safe to load. Raises RefusedModelError or HubError."""
    repo_id, revision = parse(model_id)
    info = hub.model_info(repo_id, revision)
    files = {s.rfilename: (s.size or 0) for s in (info.siblings or [])}
    config = dict(info.config or {})
    where = model_id_for(repo_id, revision)

    if config.get("auto_map") or any(f.endswith(".py") for f in files if "/" not in f):
        raise RefusedModelError(f"{where} needs custom code (trust_remote_code), which the playground never runs")
    weights = [f for f in files if f.endswith(".safetensors") and "/" not in f]
    if not weights:
        if any(f.endswith(PICKLE_EXT) for f in files):
            raise RefusedModelError(f"{where} has its weights only as pickles (.bin/.pt/.pth/.ckpt), which can run "
                                    "code when loaded; the playground loads safetensors or ONNX only")
        raise RefusedModelError(f"{where} has no safetensors weights")
    if "config.json" not in files:
        raise RefusedModelError(f"{where} has no config.json: not a transformers model")
    if info.library_name not in (None, "transformers"):
        raise RefusedModelError(f"{where} is a {info.library_name} model; the playground runs transformers models")
    wanted = [*weights, "config.json"] + [f for f in ("preprocessor_config.json",) if f in files]
    size = sum(files[f] for f in wanted)
    cap = hub.max_download_bytes()
    if size > cap:
        raise RefusedModelError(f"{where} is {size / 2**20:.0f} MiB, over the {cap / 2**20:.0f} MiB cap "
                                "(ZOO_MAX_DOWNLOAD_BYTES)")
    if len(weights) > 1:
        raise RefusedModelError(f"{where} has sharded weights; the playground loads single-file models")
    id2label = {int(k): str(v) for k, v in (config.get("id2label") or {}).items() if str(k).lstrip("-").isdigit()}
    return HubCard(repo_id, revision, info.sha or revision or "main", info.pipeline_tag,
                   tuple(config.get("architectures") or ()), id2label, weights[0],
                   tuple(f for f in wanted if f != weights[0]), getattr(info.card_data, "license", None))


# --- the command line's remembered list (the app keeps added models in the visitor's session) --------
def _store() -> Path:
    root = settings.cache_dir()
    return root / "byo.json"


def remember(card: HubCard) -> None:
    """Keep an accepted card for this process and in the remembered list, so that a cached model runs
    offline later (``python -m zoo run hf:...``): its entry is made again by the same task rule, with the same
    thresholds and options."""
    with _lock:
        _known[card.model_id] = card
    data = {**asdict(card), "id2label": {str(k): v for k, v in card.id2label.items()}}
    path = _store()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        old = json.loads(path.read_text()) if path.is_file() else {}
        old[card.model_id] = data
        path.write_text(json.dumps(old, indent=1))
    except (OSError, ValueError) as exc:
        log.warning("could not remember %s: %s", card.model_id, exc)


def recall(model_id: str) -> HubCard | None:
    """A card accepted earlier (in this process, or remembered on disk), or None."""
    repo_id, revision = parse(model_id)
    key = model_id_for(repo_id, revision)
    with _lock:
        if key in _known:
            return _known[key]
    try:
        data = json.loads(_store().read_text()).get(key)
        card = HubCard(**{**data, "architectures": tuple(data["architectures"]), "files": tuple(data["files"]),
                          "id2label": {int(k): v for k, v in data["id2label"].items()}})
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # nothing remembered, or written by an older version: the card is read again
    with _lock:
        _known[key] = card
    return card
