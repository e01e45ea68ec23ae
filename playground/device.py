"""The live view's sides that run in the visitor's page: LiteRT.js and onnxruntime-web in a Worker
(``playground/device_js``).

The page runs the same file the server runs (a ``.tflite`` on LiteRT.js, an ``.onnx`` on onnxruntime-web),
fetched from here by model id (a registry model whose pipeline has a device version, never a path; a Hub
model once the server has it in its cache) and cached by the browser by its content hash, with the
constants of the zoo's own spec (:func:`device_spec`), so a side on the device and a side on the server can
be compared frame by frame. The runtime's files come from the pinned npm packages (``playground/device_js/
package.json``) that ``scripts/setup`` installs and bundles; a host that only ran ``pip install`` (a Space) gets
the same pinned files on the app's first start (:mod:`playground.device_fetch`), and until then every side runs
on the server and the page says why.

Routes, under the app's root (served by :class:`playground.live_socket.LiveSocket`):
``live/device/worker.js``, ``live/device/wasm/<file>`` (LiteRT.js's own files, by name), ``live/device/ort/<file>``
(onnxruntime-web's WebAssembly),
``live/device/spec?id=<model id>`` (JSON) and ``live/device/model?id=<model id>&file=<n>&v=<sha256>`` (its n-th
file: a cascade has two).
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from playground import device_fetch
from playground.device_fetch import ROOT, installed

WASM = ROOT / device_fetch.WASM
WORKER = ROOT / device_fetch.WORKER
ORT = ROOT / "node_modules" / "onnxruntime-web" / "dist"
ORT_FILES = ("ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.mjs")  # what its wasm build fetches, by name
PREFIX = "/live/device/"
IMMUTABLE = "public, max-age=31536000, immutable"


def why_not() -> str | None:
    """None when the page can run models here; else the sentence it shows."""
    if not installed():
        return device_fetch.why() or ("this server cannot send models to your browser (what runs them there "
                                      "is not installed)")
    return None


NO_DEVICE = "this model has no version that runs in the page yet"
NOT_HERE = "this model's file is not on the server yet: run it once on the server, then here"


def model_files(spec: Any) -> list[tuple[Path | None, str]] | None:
    """The files the page runs for ``spec``, each with its sha256: a bundled model's pinned files, or a Hub
    model's files from the server's cache (None while they are not cached: the page never downloads from
    anywhere but this server, and the server downloads only when a model first runs there)."""
    from zoo import bundled, hub
    from zoo.specs import HubSource

    if spec.bundled:
        files = spec.bundled_files()
        if not files or not all(f in bundled.FILES for f in files):
            return []
        return [(bundled.locate(f), bundled.FILES[f][0]) for f in files]
    if isinstance(spec.source, HubSource) and spec.detector is None:
        paths = hub.cached_files(spec.source)
        return None if paths is None else [(p, file_sha256(p)) for p in paths]
    return []


@lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime: float) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """A cached file's hash (read once per file version): the page caches the file by it."""
    st = Path(path).stat()
    return _sha256(str(Path(path).resolve()), st.st_size, st.st_mtime)


def device_spec(model_id: str) -> dict[str, Any] | None:
    """The page's spec for a registry model that has a device version and whose files the server has, or
    None (:func:`why_no_spec` says why)."""
    found = _spec_or_why(model_id)
    return found if isinstance(found, dict) else None


def why_no_spec(model_id: str) -> str:
    found = _spec_or_why(model_id)
    return found if isinstance(found, str) else ""


def _spec_or_why(model_id: str) -> dict[str, Any] | str:
    from zoo.errors import ZooError
    from zoo.registry import get_spec

    try:
        spec = get_spec(model_id)
    except ZooError:
        return NO_DEVICE
    pipeline = spec.pipeline
    if pipeline is None or pipeline.device is None:
        return NO_DEVICE
    files = model_files(spec)
    if files is None:
        return NOT_HERE
    numbers = pipeline.device(spec) if files else None
    if numbers is None:
        return NO_DEVICE
    shas = [sha for _, sha in files]
    runtime = "onnx" if str(files[0][0]).endswith(".onnx") else "litert"
    return {"id": spec.id, "task": spec.task, "name": spec.name, "sha256": shas, "runtime": runtime,
            "model_urls": [f"{PREFIX.lstrip('/')}model?id={spec.id}&file={i}&v={sha}" for i, sha in enumerate(shas)],
            **numbers}


def options() -> dict[str, Any]:
    """The live view's ``device`` options (URLs relative to the app's root), or why there are none."""
    why = why_not()
    if why:
        return {"deviceWhy": why}
    version = int(WORKER.stat().st_mtime)
    return {"device": {"workerUrl": f"{PREFIX.lstrip('/')}worker.js?v={version}", "wasmDir": f"{PREFIX.lstrip('/')}wasm/",
                       "ortDir": f"{PREFIX.lstrip('/')}ort/", "specUrl": f"{PREFIX.lstrip('/')}spec"}}


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
    if path.startswith("ort/"):  # onnxruntime-web's WebAssembly and its glue
        name = path[len("ort/"):]
        if name not in ORT_FILES or not (ORT / name).is_file():
            return await PlainTextResponse("Not found.", 404)(scope, receive, send)
        media = "application/wasm" if name.endswith(".wasm") else "text/javascript"
        return await FileResponse(ORT / name, media_type=media,
                                  headers={"cache-control": "public, max-age=86400"})(scope, receive, send)
    if path in ("spec", "model"):
        found = _spec_or_why(query.get("id", "")[:200])
        if isinstance(found, str):
            return await JSONResponse({"message": found}, 404)(scope, receive, send)
        spec = found
        if path == "spec":
            return await JSONResponse(spec, headers={"cache-control": "no-cache"})(scope, receive, send)
        from zoo.registry import get_spec

        index = query.get("file", "0")
        files = model_files(get_spec(spec["id"])) or []
        if index not in [str(i) for i in range(len(files))]:
            return await PlainTextResponse("Not found.", 404)(scope, receive, send)
        file, sha = files[int(index)]
        if file is None:
            return await JSONResponse({"message": "this model's file is not on the server yet"}, 404)(scope, receive, send)
        cache = IMMUTABLE if query.get("v") == sha else "no-cache"
        return await FileResponse(file, media_type="application/octet-stream",
                                  headers={"cache-control": cache, "etag": f'"{sha}"'})(scope, receive, send)
    return await PlainTextResponse("Not found.", 404)(scope, receive, send)


class CrossOriginIsolation:
    """ASGI middleware: with ``PLAYGROUND_CROSS_ORIGIN_ISOLATE=1``, every HTTP response carries
    ``Cross-Origin-Opener-Policy: same-origin`` and ``Cross-Origin-Embedder-Policy: credentialless``, so the
    page is cross-origin isolated and the page's models run on several threads. Off by default: a page
    embedded in another site's frame (a Space's page embeds the app) is isolated only if that site is too."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        from zoo import settings

        if scope["type"] != "http" or not settings.get("PLAYGROUND_CROSS_ORIGIN_ISOLATE"):
            return await self.app(scope, receive, send)

        async def send_isolated(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"cross-origin-opener-policy", b"cross-origin-embedder-policy")]
                headers += [(b"cross-origin-opener-policy", b"same-origin"),
                            (b"cross-origin-embedder-policy", b"credentialless")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_isolated)

