"""Latency measured on this machine: by this process's predictions and by `python -m zoo bench`."""
from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict, deque
from pathlib import Path

import numpy as np
from zoo import settings

log = logging.getLogger(__name__)
_lock = threading.Lock()
_recent: dict[str, deque] = defaultdict(lambda: deque(maxlen=200))


def bench_file() -> Path:
    root = settings.cache_dir()
    return root / "bench.json"


def record(model_id: str, latency_ms: float) -> None:
    with _lock:
        _recent[model_id].append(float(latency_ms))


def save_bench(rows: list[dict]) -> None:
    path = bench_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        old = json.loads(path.read_text()) if path.is_file() else {}
        old.update({r["model"]: r for r in rows})
        path.write_text(json.dumps(old, indent=1))
    except (OSError, ValueError) as exc:
        log.warning("could not save bench results to %s: %s", path, exc)


def latency_text(model_id: str) -> str:
    with _lock:
        recent = list(_recent.get(model_id, ()))
    if recent:
        return f"{np.median(recent):.1f} (this app, {len(recent)} runs)"
    try:
        rows = json.loads(bench_file().read_text())
        r = rows.get(model_id)
        if r:
            return f"{r['p50_ms']:.1f} (bench, {r['width']}x{r['height']})"
    except (OSError, ValueError):
        pass
    return "not measured yet"
