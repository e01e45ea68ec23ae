"""Models from local files: the gesture heads the gesture lab exports (``file:PATH`` ids)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zoo.errors import ZooError
from zoo.specs import LocalSource, ModelSpec

FORMAT = "vision-playground/gesture-head/1"


MAX_HEAD_BYTES = 16 * 1024 * 1024  # a trained head is a few kB (an image head's linear layer, a few MB)


class TeachError(ZooError):
    """Bad training data or a bad head file; the message says what to fix."""


def read_metadata(path: str | Path) -> dict[str, Any]:
    import onnx

    path = Path(path)
    if path.stat().st_size > MAX_HEAD_BYTES:
        raise TeachError(f"{path.name}: too large for a gesture head exported by the playground")
    try:
        onx = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - any parse failure is "not ONNX"
        raise TeachError(f"{path.name}: not an ONNX file") from exc
    meta = {p.key: p.value for p in onx.metadata_props}
    if meta.get("format") != FORMAT:
        raise TeachError(f"{path.name}: not a gesture head exported by the playground")
    meta["classes"] = json.loads(meta["classes"])
    return meta


def spec_for_file(model_id: str, *, path: str | Path | None = None) -> ModelSpec:
    """``file:PATH`` of an exported head -> its zoo entry (the command line). The app gives a head the
    session trained an id of its own (``mine:...``) and its ``path``, which never reaches the visitor."""
    path = Path(path if path is not None else model_id[len("file:"):]).expanduser()
    if not path.is_file():
        raise TeachError(f"{path}: no such file")
    meta = read_metadata(path)
    return ModelSpec(
        id=model_id, task="gesture", name=f"My gestures: {', '.join(meta['classes'])} ({meta['head']} head)",
        runtime="gesture_head", pipeline="trained_head", source=LocalSource(str(path.resolve())), input_size=None,
        labels=tuple(meta["classes"]), license="yours", reference="https://arxiv.org/abs/1801.04381",
        note=f"Trained in the gesture lab ({meta['head']} head"
             + (f" on {meta['backbone']}" if meta.get("backbone") else "") + ").")
