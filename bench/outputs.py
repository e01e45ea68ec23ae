"""Every bundled model's output on the shared photos, through the CLI and through the API, as one JSON
file with the timings taken out: run it before and after a change that must not change behaviour, and
compare the two files.

    .venv/bin/python -m bench.outputs OUT.json
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from tasks import TASKS
from bench.server import REPO, free_port, start_app

MEDIA = REPO.parent / "shared" / "media"


def _photos() -> list[Path]:
    from zoo.images import sample_image_path

    return [sample_image_path(), *sorted(MEDIA.glob("*.jpg"))]


def _untimed(obj):
    if isinstance(obj, dict):
        return {k: _untimed(v) for k, v in obj.items() if k != "latency_ms"}
    if isinstance(obj, list):
        return [_untimed(v) for v in obj]
    return obj


def cli_outputs(model_ids: list[str]) -> dict:
    out = {}
    photos = [str(p) for p in _photos()]
    for mid in model_ids:
        run = subprocess.run([sys.executable, "-m", "zoo", "run", mid, *photos], cwd=REPO, capture_output=True,
                             text=True, timeout=600)
        rows = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
        out[mid] = [{**_untimed(r), "image": Path(r["image"]).name} for r in rows]
    return out


def api_outputs() -> dict:
    from gradio_client import Client, handle_file

    from playground.ui import default_pair

    port = free_port()
    proc = start_app(port, {"HF_HUB_OFFLINE": "1"})
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        out = {}
        for task in TASKS:
            a, b = default_pair(task)
            for photo in _photos():
                _, _, payload = client.predict(handle_file(str(photo)), a, b, api_name=f"/{task}")
                out[f"{task}:{photo.name}"] = _untimed(payload)
        return out
    finally:
        proc.terminate()
        proc.wait(30)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.outputs", description=__doc__.splitlines()[0])
    p.add_argument("out", metavar="OUT.json", type=Path, help="where to write the outputs (JSON)")
    args = p.parse_args(argv)
    out = subprocess.run([sys.executable, "-m", "zoo", "list", "--json"], cwd=REPO, capture_output=True,
                         text=True, check=True)
    bundled = [r["id"] for r in json.loads(out.stdout) if r["offline"] and not r["source"].startswith("hf:")]
    result = {"cli": cli_outputs(bundled), "api": api_outputs()}
    args.out.write_text(json.dumps(result, indent=1, sort_keys=True))
    print(f"{len(result['cli'])} models through the CLI, {len(result['api'])} API calls -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
