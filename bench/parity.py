"""The project's LiteRT ports against MediaPipe's own graphs, model by model, on the same frames.

    python -m bench.parity [--media ../shared/media] [--video-frames 30] [--json out.json]

Every bundled entry that has a reference entry (``<id>-graph``, MediaPipe's legacy graph; needs the optional
mediapipe package) runs beside it on the repository's images (the photos installed packages carry), on the
still images of ``--media`` when that folder exists, and on frames of its videos; every frame is scaled to
640 pixels wide first, so landmark distances are in pixels at 640 wide. Both run in static (image) mode.

Per model: frames where both found the same number of instances; matched boxes' IoU (mean and worst);
landmarks' mean distance in pixels (matched instances, every landmark both have); mask IoU (segmentation);
median milliseconds per frame of each, and the ratio. Stream mode is measured by ``--jitter``: the landmark
standard deviation over a still subject's frames (a looped still image), port vs graph in video mode.
"""
from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
WIDTH = 640


def frames(media: Path | None, video_frames: int) -> list[tuple[str, np.ndarray]]:
    """(name, RGB at 640 wide) for every image the comparison uses."""
    import cv2

    from zoo.images import load_image, sample_image_path

    paths = [sample_image_path()]
    if media and media.is_dir():
        paths += sorted(p for p in media.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    out = [(p.name, load_image(p)) for p in paths]
    if media and media.is_dir():
        for clip in sorted(p for p in media.iterdir() if p.suffix.lower() in (".avi", ".mp4", ".mov")):
            cap = cv2.VideoCapture(str(clip))
            n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or video_frames
            step = max(1, n // max(1, video_frames))
            i = taken = 0
            while taken < video_frames:
                ok, bgr = cap.read()
                if not ok:
                    break
                if i % step == 0:
                    out.append((f"{clip.name}#{i}", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
                    taken += 1
                i += 1
            cap.release()
    return [(name, scaled(rgb)) for name, rgb in out]


def scaled(rgb: np.ndarray) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    if w == WIDTH:
        return rgb
    size = (WIDTH, max(1, round(h * WIDTH / w)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if w > WIDTH else cv2.INTER_LINEAR)


def points_of(item: Any) -> np.ndarray:
    """An instance's landmarks as (N, 2) pixels: the mesh, the hand's or the person's keypoints."""
    if getattr(item, "landmarks", ()):
        return np.array(item.landmarks, np.float32)[:, :2]
    kps = getattr(item, "keypoints", ())
    if kps and hasattr(kps[0], "x"):
        return np.array([(k.x, k.y) for k in kps], np.float32)
    arr = np.array(kps, np.float32)
    return arr[:, :2] if arr.ndim == 2 else arr.reshape(-1, 2)


def compare(port: Any, ref: Any) -> dict[str, Any]:
    """One frame: counts, matched boxes' IoU and landmark distance, or the masks' IoU."""
    from tasks.agreement import match_boxes

    if hasattr(port, "foreground_mask"):
        a, b = port.foreground_mask(), ref.foreground_mask()
        union = np.logical_or(a, b).sum()
        return {"same_count": True, "mask_iou": float(np.logical_and(a, b).sum() / union) if union else 1.0}
    out: dict[str, Any] = {"same_count": len(port) == len(ref), "ious": [], "dists": []}
    if len(port) and len(ref):
        for i, j, iou in match_boxes(port.boxes, ref.boxes, 0.1):
            out["ious"].append(float(iou))
            pa, pb = points_of(port.items[i]), points_of(ref.items[j])
            n = min(len(pa), len(pb))
            if n:
                out["dists"].append(float(np.linalg.norm(pa[:n] - pb[:n], axis=1).mean()))
    return out


def run(media: Path | None, video_frames: int, only: str | None = None) -> list[dict[str, Any]]:
    from tasks.base import infer
    from zoo.registry import all_specs, get_spec, offline_available

    shots = frames(media, video_frames)
    rows = []
    for ref in all_specs():
        if not ref.reference_of or (only and only not in ref.reference_of):
            continue
        port = get_spec(ref.reference_of)
        if not (offline_available(ref) and offline_available(port)):
            rows.append({"model": port.id, "skipped": "not installed here"})
            continue
        infer(port, shots[0][1])  # load both before timing
        infer(ref, shots[0][1])
        t_port, t_ref, per = [], [], []
        for name, rgb in shots:
            a, ms_a = infer(port, rgb)
            b, ms_b = infer(ref, rgb)
            # as the app shows them: each at its entry's score threshold (the Score slider's default)
            a, b = a.filter(port.thresholds.score), b.filter(ref.thresholds.score)
            t_port.append(ms_a)
            t_ref.append(ms_b)
            per.append({"frame": name, "count_port": None if hasattr(a, "foreground_mask") else len(a),
                        "count_ref": None if hasattr(b, "foreground_mask") else len(b), **compare(a, b)})
        ious = [v for p in per for v in p.get("ious", [])]
        dists = [v for p in per for v in p.get("dists", [])]
        masks = [p["mask_iou"] for p in per if "mask_iou" in p]
        med_a, med_b = statistics.median(t_port), statistics.median(t_ref)
        rows.append({
            "model": port.id, "reference": ref.id, "frames": len(per),
            "same_count": sum(p["same_count"] for p in per),
            "box_iou_mean": round(statistics.fmean(ious), 3) if ious else None,
            "box_iou_min": round(min(ious), 3) if ious else None,
            "landmark_px_mean": round(statistics.fmean(dists), 2) if dists else None,
            "landmark_px_max": round(max(dists), 2) if dists else None,
            "mask_iou_mean": round(statistics.fmean(masks), 4) if masks else None,
            "mask_iou_min": round(min(masks), 4) if masks else None,
            "ms_port": round(med_a, 2), "ms_graph": round(med_b, 2), "ratio": round(med_a / med_b, 2),
            "differing": [p["frame"] for p in per if not p["same_count"]][:10],
        })
    return rows


def jitter(model_id: str, rgb: np.ndarray, seconds: float = 2.0, fps: int = 30) -> dict[str, Any]:
    """Landmark jitter of a still subject: ``seconds`` of the same photo with camera noise (sigma 3 grey
    levels) through each side's stream-mode runner (the port's, which follows and smooths; MediaPipe's
    video mode). Per model: the landmarks' standard deviation over time in pixels at 640 wide, the mean over
    the first instance's landmarks that both models see in at least 90% of the frames (a pose's keypoints
    out of sight are guesses, not jitter), and the frames where it was found."""
    from tasks.base import infer
    from zoo.cache import resolve_path
    from zoo.registry import get_spec
    from zoo.runtimes import runtime

    rng = np.random.default_rng(0)
    base = scaled(rgb).astype(np.int16)
    shots = [np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8) for _ in range(int(seconds * fps))]
    runs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for spec in (get_spec(model_id), get_spec(f"{model_id}-graph")):
        runner = runtime(spec.runtime).load_stream(spec, resolve_path(spec))
        pts, seen = [], []
        for frame in shots:
            res, _ = infer(spec, frame, runner=runner)
            if len(res):
                item = res.items[0]
                kps = getattr(item, "keypoints", ())
                pts.append(points_of(item))
                seen.append([k.score >= 0.5 for k in kps] if kps and hasattr(kps[0], "score") else [True] * len(pts[-1]))
        close = getattr(runner, "close", None)
        if close:
            close()
        if pts:
            n = min(len(p) for p in pts)
            runs[spec.id] = (np.stack([p[:n] for p in pts]), np.array([s[:n] for s in seen]))
    out: dict[str, Any] = {}
    if len(runs) == 2:
        n = min(v[0].shape[1] for v in runs.values())
        steady = np.logical_and.reduce([v[1][:, :n].mean(axis=0) >= 0.9 for v in runs.values()])
        for model_id_, (stack, _) in runs.items():
            std = stack[:, :n][:, steady].std(axis=0).mean() if steady.any() else float("nan")
            out[model_id_] = {"std_px": round(float(std), 3), "frames": f"{len(stack)}/{len(shots)}",
                              "landmarks": int(steady.sum())}
    return out


def format_rows(rows: list[dict[str, Any]]) -> str:
    head = ("| model | frames | same count | box IoU mean / min | landmarks px mean / max | mask IoU mean / min "
            "| ms port | ms graph | ratio |\n|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['model']} | skipped: {r['skipped']} |||||||||")
            continue
        lines.append(f"| {r['model']} | {r['frames']} | {r['same_count']} | {r['box_iou_mean']} / {r['box_iou_min']} "
                     f"| {r['landmark_px_mean']} / {r['landmark_px_max']} | {r['mask_iou_mean']} / {r['mask_iou_min']} "
                     f"| {r['ms_port']} | {r['ms_graph']} | {r['ratio']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--media", type=Path, default=DEFAULT_MEDIA, help="a folder of photos and videos (optional)")
    p.add_argument("--video-frames", type=int, default=30, help="frames taken from each video")
    p.add_argument("--only", default=None, help="only the models whose id contains this")
    p.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    p.add_argument("--jitter", action="store_true", help="also measure stream-mode jitter on a still subject")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    t0 = time.monotonic()
    if args.jitter:
        from zoo.images import load_image, sample_image_path

        still = load_image(sample_image_path())
        subjects = [("face/facemesh", still), ("pose/blazepose-full", still), ("pose/blazepose-lite", still)]
        hands = args.media / "COCO_val2014_000000000459.jpg" if args.media else None
        if hands is not None and hands.is_file():  # a photo with a hand in sight
            subjects.append(("hands/mediapipe-full", load_image(hands)))
        for model, rgb in subjects:
            print(model, json.dumps(jitter(model, rgb)))
    rows = run(args.media, args.video_frames, args.only)
    print(format_rows(rows))
    print(f"\n({time.monotonic() - t0:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
