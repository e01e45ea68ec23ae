"""The live view's sides that run in the visitor's page: LiteRT.js in a Worker (``playground/device_js``).

The page runs the same ``.tflite`` file the server runs, fetched from here by model id (a registry model whose
task pipeline has a device version, never a path) and cached by the browser by its content hash, with the
constants of the zoo's own spec (:func:`device_spec`), so a side on the device and a side on the server can
be compared frame by frame. The runtime's files come from the pinned npm packages (``playground/device_js/
package.json``) that ``scripts/setup`` installs and bundles; without them (a host that only ran ``pip install``)
every side runs on the server and the page says why.

Routes, under the app's root (served by :class:`playground.live_socket.LiveSocket`):
``live/device/worker.js``, ``live/device/wasm/<file>`` (LiteRT.js's own files, by name),
``live/device/spec?id=<model id>`` (JSON) and ``live/device/model?id=<model id>&file=<n>&v=<sha256>`` (its n-th
file: a cascade has two).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent / "device_js"
WASM = ROOT / "node_modules" / "@litertjs" / "core" / "wasm"
WORKER = ROOT / "dist" / "worker.js"
PREFIX = "/live/device/"
IMMUTABLE = "public, max-age=31536000, immutable"


def why_not() -> str | None:
    """None when the page can run models here; else the sentence it shows."""
    if not WORKER.is_file() or not WASM.is_dir():
        return "this server cannot send models to your browser (its in-page runtime is not installed)"
    return None


def device_spec(model_id: str) -> dict[str, Any] | None:
    """The page's spec for a registry model that has a device version (its file pinned by hash), or None."""
    from zoo import bundled
    from zoo.errors import ZooError
    from zoo.registry import get_spec

    try:
        spec = get_spec(model_id)
    except ZooError:
        return None
    pipeline = spec.pipeline
    files = spec.bundled_files()
    if pipeline is None or pipeline.device is None or not files or not all(f in bundled.FILES for f in files):
        return None
    numbers = pipeline.device(spec)
    if numbers is None:
        return None
    shas = [bundled.FILES[f][0] for f in files]
    return {"id": spec.id, "task": spec.task, "name": spec.name, "sha256": shas,
            "model_urls": [f"{PREFIX.lstrip('/')}model?id={spec.id}&file={i}&v={sha}" for i, sha in enumerate(shas)],
            **numbers}


def options() -> dict[str, Any]:
    """The live view's ``device`` options (URLs relative to the app's root), or why there are none."""
    why = why_not()
    if why:
        return {"deviceWhy": why}
    version = int(WORKER.stat().st_mtime)
    return {"device": {"workerUrl": f"{PREFIX.lstrip('/')}worker.js?v={version}", "wasmDir": f"{PREFIX.lstrip('/')}wasm/",
                       "specUrl": f"{PREFIX.lstrip('/')}spec"}}


async def serve(scope, receive, send) -> None:
    from urllib.parse import parse_qs

    from starlette.responses import FileResponse, JSONResponse, PlainTextResponse

    path = scope["path"][scope["path"].index(PREFIX) + len(PREFIX):]
    query = {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()}
    if scope.get("method") not in ("GET", "HEAD") or why_not():
        return await PlainTextResponse("Not found.", 404)(scope, receive, send)
    if path == "worker.js":
        return await FileResponse(WORKER, media_type="text/javascript", headers={"cache-control": "no-cache"})(
            scope, receive, send)
    if path.startswith("wasm/"):
        name = path[len("wasm/"):]
        files = {p.name: p for p in WASM.iterdir() if p.suffix in (".js", ".wasm")}
        if name not in files:
            return await PlainTextResponse("Not found.", 404)(scope, receive, send)
        media = "application/wasm" if name.endswith(".wasm") else "text/javascript"
        return await FileResponse(files[name], media_type=media, headers={"cache-control": "public, max-age=86400"})(
            scope, receive, send)
    if path in ("spec", "model"):
        spec = device_spec(query.get("id", "")[:200])
        if spec is None:
            return await JSONResponse({"message": "this model has no version that runs in the page yet"}, 404)(
                scope, receive, send)
        if path == "spec":
            return await JSONResponse(spec, headers={"cache-control": "no-cache"})(scope, receive, send)
        from zoo import bundled
        from zoo.registry import get_spec

        index = query.get("file", "0")
        files = get_spec(spec["id"]).bundled_files()
        if index not in [str(i) for i in range(len(files))]:
            return await PlainTextResponse("Not found.", 404)(scope, receive, send)
        file, sha = bundled.locate(files[int(index)]), spec["sha256"][int(index)]
        if file is None:
            return await JSONResponse({"message": "this model's file is not on the server yet"}, 404)(scope, receive, send)
        cache = IMMUTABLE if query.get("v") == sha else "no-cache"
        return await FileResponse(file, media_type="application/octet-stream",
                                  headers={"cache-control": cache, "etag": f'"{sha}"'})(scope, receive, send)
    return await PlainTextResponse("Not found.", 404)(scope, receive, send)

