"""Model specifications: a model is data, not a class.

A :class:`ModelSpec` says where a model's weights come from (a file inside an
installed package, or a file in a Hugging Face Hub repo at a pinned revision),
which runtime runs it, which of its task's pipelines prepares its input and turns
the runtime's raw output into a result, and what a person needs to know about it
(licence, reference). The zoo knows no task: a spec names its task, and the task
layer checks that the task, its pipeline and the options exist (``tasks.base.check_spec``).
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Union

# Ids of models outside the registry: a Hub repo a user brought, a file (command line), a session's own model.
EXTERNAL_PREFIXES = ("hf:", "file:", "mine:")

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*/[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True)
class BundledSource:
    """A model file that ships inside an installed Python package (MediaPipe's model files are pinned by hash
    and may sit in the playground's model folder instead: see zoo.bundled)."""

    package: str
    path: str  # relative to the package's directory; "" for code-only models

    kind = "bundled"

    def locate(self) -> Path | None:
        from zoo import bundled

        if self.package == bundled.PACKAGE and self.path in bundled.FILES:  # pinned: the package or the model folder
            return bundled.locate(self.path)
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        root = Path(list(spec.submodule_search_locations)[0])
        return root / self.path if self.path else root

    def available(self) -> bool:
        p = self.locate()
        return p is not None and p.exists()

    def describe(self) -> str:
        return f"{self.package}:{self.path}" if self.path else self.package


@dataclass(frozen=True)
class HubSource:
    """A model file in a Hugging Face Hub repo, pinned to a revision."""

    repo_id: str
    filename: str
    revision: str
    # True when `revision` is a verified 40-hex commit; tags/branches are recorded as such.
    revision_is_commit: bool = False
    extra_files: tuple[str, ...] = ()

    kind = "hub"

    def describe(self) -> str:
        models = [f for f in self.extra_files if f.endswith((".onnx", ".safetensors"))]
        return f"hf:{self.repo_id}@{self.revision[:12]}/" + " + ".join((self.filename, *models))


@dataclass(frozen=True)
class LocalSource:
    """A model file on this machine (a trained gesture head)."""

    path: str

    kind = "local"

    def available(self) -> bool:
        return Path(self.path).is_file()

    def describe(self) -> str:
        return f"file:{self.path}"


Source = Union[BundledSource, HubSource, LocalSource]


@dataclass(frozen=True)
class Thresholds:
    """A model's thresholds in one place, read by its decode and by the UI: the reference score below which a
    result is dropped (for segmentation, the mask threshold) with where that number comes from, the NMS
    overlap where the model has NMS, and ``floor``, the lowest score its decode produces: the Score slider runs
    from ``floor`` to 1, and every step of it changes what is shown."""

    score: float = 0.5
    nms: float | None = None
    source: str = "the playground's default"
    floor: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.floor <= self.score <= 1.0 or (self.nms is not None and not 0.0 < self.nms <= 1.0):
            raise ValueError(f"thresholds out of range: floor {self.floor}, score {self.score}, nms {self.nms}")


@dataclass(frozen=True)
class ModelSpec:
    id: str
    task: str
    name: str
    runtime: str  # a registered runtime (zoo.runtimes.register_runtime)
    # its pre- and post-processing: a tasks.base.Pipeline, defined beside the entry in its model family's module
    # (the zoo carries it and never calls it)
    pipeline: Any
    source: Source
    input_size: tuple[int, int] | None  # (width, height) the network sees; None: any
    labels: tuple[str, ...] = ()
    license: str = ""
    reference: str = ""
    # settings read by its runtime and its pipeline, each of which declares the keys it reads
    options: Mapping[str, Any] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    note: str = ""
    # a first-stage detector from another repo (ViTPose reads the people an RT-DETR finds)
    detector: HubSource | None = None
    # the id of the entry whose model this one runs through MediaPipe's own graph (a reference for the port)
    reference_of: str = ""

    def __post_init__(self) -> None:
        external = self.id.startswith(EXTERNAL_PREFIXES)
        if not _ID_RE.match(self.id) and not external:
            raise ValueError(f"bad model id {self.id!r}: expected 'task/name'")
        if not re.match(r"^[a-z][a-z0-9_]*$", self.task or ""):
            raise ValueError(f"{self.id}: bad task name {self.task!r}")
        if not external and self.id.split("/", 1)[0] != self.task:
            raise ValueError(f"{self.id}: id prefix does not match task {self.task!r}")
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    def bundled_files(self) -> tuple[str, ...]:
        """The pinned model files (zoo.bundled) this entry runs: its source and a cascade's landmark file."""
        if not isinstance(self.source, BundledSource):
            return ()
        extra = self.options.get("landmark_model")
        return tuple(p for p in (self.source.path, extra) if p)

    @property
    def bundled(self) -> bool:
        return isinstance(self.source, BundledSource)

    def hub_sources(self) -> tuple[HubSource, ...]:
        return tuple(s for s in (self.source, self.detector) if isinstance(s, HubSource))
