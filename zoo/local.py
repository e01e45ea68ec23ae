"""Models from local files: the gesture heads the gesture lab exports (``file:PATH`` ids)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zoo.errors import ZooError

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


