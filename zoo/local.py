"""Models from local files: the gesture heads the gesture lab exports (``file:PATH`` ids)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zoo.errors import ZooError
from zoo.specs import LocalSource, ModelSpec

FORMAT = "vision-playground/gesture-head/1"


class TeachError(ZooError):
    """Bad training data or a bad head file; the message says what to fix."""


def read_metadata(path: str | Path) -> dict[str, Any]:
    import onnx

    path = Path(path)
    try:
        onx = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - any parse failure is "not ONNX"
        raise TeachError(f"{path.name}: not an ONNX file") from exc
    meta = {p.key: p.value for p in onx.metadata_props}
    if meta.get("format") != FORMAT:
        raise TeachError(f"{path.name}: not a gesture head exported by the playground")
    meta["classes"] = json.loads(meta["classes"])
    return meta


def spec_for_file(model_id: str) -> ModelSpec:
    """``file:PATH`` of an exported head -> its zoo entry."""
    path = Path(model_id[len("file:"):]).expanduser()
    if not path.is_file():
        raise TeachError(f"{path}: no such file")
    meta = read_metadata(path)
    return ModelSpec(
        id=model_id, task="gesture", name=f"My gestures: {', '.join(meta['classes'])} ({meta['head']} head)",
        runtime="gesture_head", decoder="trained_head", source=LocalSource(str(path.resolve())), input_size=None,
        labels=tuple(meta["classes"]), license="yours", reference="https://arxiv.org/abs/1801.04381",
        note=f"Trained in the gesture lab ({meta['head']} head"
             + (f" on {meta['backbone']}" if meta.get("backbone") else "") + ").")
