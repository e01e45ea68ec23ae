"""What MediaPipe's model families share as data: where their files come from, their licence, and the
"reference" entry that runs the same model through MediaPipe's own graph (the optional mediapipe package)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from tasks.base import Pipeline
from zoo.specs import BundledSource, ModelSpec

MP = "mediapipe"  # the package whose wheel carries the files (pinned by hash in zoo.bundled)
APACHE = "Apache-2.0"
REFERENCE_NOTE = ("MediaPipe's own graph, for comparing with the playground's port of it; needs the optional "
                  "mediapipe package (Python 3.12 and older).")


def mp_file(path: str) -> BundledSource:
    return BundledSource(MP, path)


def reference(spec: ModelSpec, solution: dict[str, Any], pipeline: Pipeline, source: str | None = None) -> ModelSpec:
    """``spec``'s model through MediaPipe's own graph (``<id>-graph``): the A/B can set the port beside it."""
    return replace(spec, id=f"{spec.id}-graph", name=f"{spec.name}: MediaPipe's own graph (reference)",
                   runtime="mediapipe", pipeline=pipeline, options=solution, reference_of=spec.id,
                   source=mp_file(source) if source else spec.source,
                   note=(REFERENCE_NOTE + " " + spec.note).strip())
