"""Every model with a page version, run in headless Chromium (LiteRT.js or onnxruntime-web in the page's
Worker) and on the server, on the same images: one row per model.

    .venv/bin/python -m bench.device_parity --images DIR [--models ID,...] --json OUT

Each image is scaled to 640 px wide first (the live view's size). Row fields: ``model``, ``images``,
``counts_equal`` (images where both found as many), ``box_iou_mean`` (matched boxes), ``landmark_px_mean``
(matched instances' keypoints in sight, in pixels), ``mask_iou_mean`` (segmentation); null where a field does
not apply; ``backend`` (what ran it in the page) and ``page_ms_median``. Without ``--images`` the sample portrait alone is used (it ships with matplotlib).
"""
from __future__ import annotations

import argparse
import base64
import json
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

WIDTH = 640

# Pictures through one model in the page, by the page's own routes (the worker the live view uses): each on
# its own, or (``stream``) as the frames of one camera stream, which the Worker follows from frame to frame and
# smooths as the server's live view does.
PAGE_RUN = """async ([pngs, opts]) => {
    const at = (u) => new URL(u, document.baseURI).href;
    let canvas = null, ctx = null;
    const frames = [];
    for (const png of pngs) {
        const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], {type: "image/png"}));
        canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        ctx = canvas.getContext("2d", {willReadFrequently: true});
        ctx.drawImage(bitmap, 0, 0);
        frames.push({rgba: ctx.getImageData(0, 0, bitmap.width, bitmap.height).data, width: bitmap.width,
                     height: bitmap.height});
    }
    const spec = await (await fetch(at("live/device/spec?id=" + opts.model))).json();
    const worker = new Worker(at(opts.worker));
    const out = [];
    let backend = "", i = 0;
    const send = () => worker.postMessage({type: "pixels", side: "a", seq: i + 1, stream: opts.stream, ...frames[i]});
    const answers = new Promise((ok, fail) => { worker.onmessage = (e) => {
        const m = e.data;
        if (m.type === "ready") {
            backend = m.backend;
            worker.postMessage({type: "load", side: "a", spec, modelUrls: spec.model_urls.map(at)});
        } else if (m.type === "loaded") {
            backend = m.backend || backend;
            send();
        } else if (m.type === "result") {
            let mask = null;
            if (m.bitmap) {  // a mask: its alpha channel, one byte a pixel
                ctx.clearRect(0, 0, canvas.width, canvas.height);
                ctx.drawImage(m.bitmap, 0, 0);
                const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
                let s = "";
                for (let j = 3; j < px.length; j += 4) s += String.fromCharCode(px[j] ? 1 : 0);
                mask = btoa(s);
            }
            out.push({items: m.items, coverage: m.coverage || null, mask, backend, latency_ms: m.latency_ms,
                      followed: Boolean(m.followed)});
            if (++i < frames.length) send(); else { worker.terminate(); ok(out); }
        } else if (m.type === "error") fail(new Error(m.message));
    }; });
    worker.postMessage({type: "init", wasmDir: at("live/device/wasm/"), ortDir: at("live/device/ort/"),
                        accelerator: opts.accelerator});
    return await answers;
}"""


def _pngs(frames: list[np.ndarray]) -> list[str]:
    return [base64.b64encode(cv2.imencode(".png", cv2.cvtColor(f, cv2.COLOR_RGB2BGR))[1].tobytes()).decode()
            for f in frames]


def run_stream_in_page(page, frames: list[np.ndarray], model_id: str, worker_url: str) -> list[dict[str, Any]]:
    """The page's answers for RGB frames sent as one stream: per frame its items, whether it followed the
    last frame's landmarks (no detector run) and its time."""
    return page.evaluate(PAGE_RUN, [_pngs(frames), {"worker": worker_url, "model": model_id, "stream": True,
                                                    "accelerator": "wasm"}])


def run_in_page(page, rgb: np.ndarray, model_id: str, worker_url: str, accelerator: str = "auto") -> dict[str, Any]:
    """The page's answer for one RGB picture: items, coverage, a mask (H, W) of booleans or None, what ran
    the model (``backend``: "WebGPU", "WebAssembly, 1 thread") and its time in the page."""
    answer, = page.evaluate(PAGE_RUN, [_pngs([rgb]), {"worker": worker_url, "model": model_id, "stream": False,
                                                      "accelerator": accelerator}])
    if answer.get("mask"):
        flat = np.frombuffer(base64.b64decode(answer["mask"]), np.uint8)
        answer["mask"] = flat.reshape(rgb.shape[:2]).astype(bool)
    return answer


def _iou(a, b) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _points(item) -> np.ndarray:
    """An instance's keypoints in sight as (x, y) rows (the page's [x, y, (z|visibility)] lists, or the
    server's keypoint objects)."""
    if isinstance(item, dict):
        pts = np.array(item["keypoints"], np.float64).reshape(len(item["keypoints"]), -1)
        return pts[:, :2]
    kps = item.keypoints
    if kps and hasattr(kps[0], "x"):
        return np.array([(k.x, k.y) if k.score >= 0.5 else (np.nan, np.nan) for k in kps], np.float64)
    return np.array(kps, np.float64).reshape(len(kps), -1)[:, :2]


def compare(model_id: str, rgb: np.ndarray, answer: dict[str, Any]) -> dict[str, Any]:
    """One image: the page's answer against the server's for the same model."""
    from playground.engine import predict
    from zoo.registry import get_spec

    spec = get_spec(model_id)
    server = predict(model_id, rgb).result
    if answer.get("mask") is not None:
        theirs = np.asarray(server.label_map) > 0
        mine = answer["mask"]
        union = np.logical_or(mine, theirs).sum()
        return {"count_equal": True, "mask_iou": float(np.logical_and(mine, theirs).sum() / union) if union else 1.0}
    mine = sorted((f for f in answer["items"] if f["score"] >= spec.thresholds.score), key=lambda f: -f["score"])
    theirs = sorted(server.items, key=lambda f: -f.score)
    out: dict[str, Any] = {"count_equal": len(mine) == len(theirs), "ious": [], "px": []}
    for a in mine:  # each of the page's instances with the server's that overlaps it most
        if not theirs:
            break
        b = max(theirs, key=lambda t: _iou(a["box"], t.box))
        out["ious"].append(_iou(a["box"], b.box))
        pa, pb = _points(a), _points(b)
        if len(pa) == len(pb) and len(pa):
            d = np.hypot(*(pa - pb).T)
            if np.isfinite(d).any():
                out["px"].append(float(np.nanmean(d)))
    return out


def rows_for(models: list[str], images: list[tuple[str, np.ndarray]], page, worker_url: str,
             accelerator: str = "auto") -> list[dict[str, Any]]:
    rows = []
    for model_id in models:
        answers = [run_in_page(page, rgb, model_id, worker_url, accelerator) for _, rgb in images]
        per = [compare(model_id, rgb, answer) for (_, rgb), answer in zip(images, answers)]
        mean = lambda key: (round(float(np.mean(v)), 4) if (v := [x for p in per for x in p.get(key, [])]) else None)
        masks = [p["mask_iou"] for p in per if "mask_iou" in p]
        rows.append({"model": model_id, "images": len(images), "counts_equal": sum(p["count_equal"] for p in per),
                     "box_iou_mean": mean("ious"), "landmark_px_mean": mean("px"),
                     "mask_iou_mean": round(float(np.mean(masks)), 4) if masks else None,
                     "backend": answers[0]["backend"] if answers else None,
                     "page_ms_median": round(float(np.median([a["latency_ms"] for a in answers])), 1) if answers else None})
    return rows


def device_models() -> list[str]:
    from playground import device
    from zoo.registry import all_specs

    return [s.id for s in all_specs() if not s.reference_of and device.device_spec(s.id) is not None]


def load_images(folder: Path | None) -> list[tuple[str, np.ndarray]]:
    from zoo.images import load_image, sample_image_path

    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")) if folder else \
        [sample_image_path()]
    out = []
    for p in paths:
        rgb = load_image(p)
        h, w = rgb.shape[:2]
        out.append((p.name, cv2.resize(rgb, (WIDTH, round(h * WIDTH / w)), interpolation=cv2.INTER_AREA)))
    return out


def main(argv: list[str] | None = None) -> int:
    from bench.browser import browser_page
    from bench.fakecam import make_y4m
    from bench.server import free_port, start_app
    from playground import device

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=Path, default=None)
    p.add_argument("--models", default="", help="comma-separated ids (default: every model with a page version)")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--accelerator", choices=("auto", "webgpu", "wasm"), default="auto",
                   help="what runs the page's .tflite models: webgpu takes any adapter (here: Chromium's SwiftShader)")
    args = p.parse_args(argv)
    if device.why_not():
        raise SystemExit(device.why_not())
    models = [m for m in args.models.split(",") if m] or device_models()
    images = load_images(args.images)
    port = free_port()
    proc = start_app(port)
    try:
        with tempfile.TemporaryDirectory() as tmp, \
                browser_page(f"http://127.0.0.1:{port}/", make_y4m(Path(tmp) / "c.y4m", 64, 48, 5, 1),
                             webgpu=args.accelerator == "webgpu") as page:
            page.wait_for_selector("#face-live-start", state="attached", timeout=60_000)
            rows = rows_for(models, images, page, device.options()["device"]["workerUrl"], args.accelerator)
    finally:
        proc.terminate()
        proc.wait(30)
    text = json.dumps(rows, indent=1)
    if args.json:
        args.json.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
