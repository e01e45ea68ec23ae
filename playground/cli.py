"""`python -m zoo`: list, run and benchmark the zoo's models. A stable contract: other tools call it."""
from __future__ import annotations

import argparse
import json
import logging
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from zoo.errors import ZooError
from zoo.images import ImageError, load_image, sample_image_path, save_image
from tasks import TASKS
from tasks.base import spec_for_card
from zoo.registry import UnknownModelError, all_specs, get_spec, offline_available, row
from zoo.specs import ModelSpec


def _print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, separators=(", ", ": ")) + "\n")
    sys.stdout.flush()


def _error(msg: str) -> None:
    sys.stderr.write(f"error: {msg}\n")


def resolve(model_id: str) -> ModelSpec:
    """The command line's lookup: a registry id, ``hf:OWNER/NAME[@REV]`` (its card checked and a task's rule
    applied, then remembered so that a cached model runs offline later) or ``file:PATH`` of a head the
    gesture lab exported."""
    if isinstance(model_id, str) and model_id.startswith("hf:"):
        from zoo import byo

        card = byo.recall(model_id) or byo.read_card(model_id)
        spec = spec_for_card(card)
        byo.remember(card)
        return spec
    if isinstance(model_id, str) and model_id.startswith("file:"):
        from tasks.gesture_lab import spec_for_file

        return spec_for_file(model_id)
    return get_spec(model_id)


def cmd_list(args: argparse.Namespace) -> int:
    rows = [row(s) for s in all_specs(args.task)]
    if args.json:
        _print_json(rows)
        return 0
    w = max((len(r["id"]) for r in rows), default=2)
    rw = max((len(r["runtime"]) for r in rows), default=7)
    print(f"{'id':<{w}}  {'task':<12} {'runtime':<{rw}}  {'offline':<8} source")
    for r in rows:
        print(f"{r['id']:<{w}}  {r['task']:<12} {r['runtime']:<{rw}}  {'yes' if r['offline'] else 'no':<8} {r['source']}")
    return 0


def _safe_name(model_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)


def cmd_run(args: argparse.Namespace) -> int:
    from playground.engine import predict

    spec = resolve(args.model)
    task = TASKS[spec.task]
    out_dir = Path(args.annotate) if args.annotate else None
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    status = 0
    for image_path in args.images:
        try:
            rgb = load_image(image_path)
        except ImageError as exc:
            _error(str(exc))
            status = 1
            continue
        pred = predict(spec, rgb, min_score=args.min_score, max_results=args.max_results)
        h, w = rgb.shape[:2]
        _print_json({"model": spec.id, "image": str(image_path), "width": w, "height": h,
                     "latency_ms": round(pred.latency_ms, 2), "result": pred.result.to_json()})
        if out_dir:
            stem = f"{Path(image_path).stem}.{_safe_name(spec.id)}"
            save_image(out_dir / f"{stem}.png", task.annotate(rgb, pred.result))
            if hasattr(pred.result, "label_map"):
                from PIL import Image

                Image.fromarray(pred.result.label_map.astype(np.uint8)).save(out_dir / f"{stem}.mask.png")
    return status


def bench_model(model_id: str, rgb: np.ndarray, runs: int, warmup: int = 3) -> dict:
    """Load time (cold, in a fresh cache), then p50/p95 latency over ``runs`` calls."""
    from playground.engine import predict
    from zoo.cache import ModelCache

    cache = ModelCache(max_models=1)
    t0 = time.perf_counter()
    spec = resolve(model_id)
    loaded = cache.get(spec)
    load_s = time.perf_counter() - t0
    for _ in range(warmup):
        predict(spec, rgb, cache=cache)
    lat = []
    wall0 = time.perf_counter()
    for _ in range(runs):
        lat.append(predict(spec, rgb, cache=cache).latency_ms)
    wall = time.perf_counter() - wall0
    lat.sort()
    p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
    del loaded
    cache.clear()  # closes it
    return {"model": model_id, "width": rgb.shape[1], "height": rgb.shape[0], "runs": runs,
            "load_s": round(load_s, 3), "p50_ms": round(statistics.median(lat), 2), "p95_ms": round(p95, 2),
            "fps": round(runs / wall, 1)}


def bench_ids() -> list[str]:
    """The models ``bench`` measures by default: every bundled one that is installed."""
    return [s.id for s in all_specs() if s.bundled and offline_available(s)]


def cmd_bench(args: argparse.Namespace) -> int:
    import cv2

    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        _error(f"--size must look like 640x480, got {args.size!r}")
        return 2
    src = load_image(args.image) if args.image else load_image(sample_image_path())
    rgb = cv2.resize(src, (w, h), interpolation=cv2.INTER_AREA)
    ids = args.models or bench_ids()
    for mid in ids:
        resolve(mid)  # unknown ids fail before any work
    status = 0
    rows = []
    for mid in ids:
        try:
            row = bench_model(mid, rgb, args.runs)
        except ZooError as exc:
            _error(str(exc))
            status = 1
            continue
        rows.append(row)
        if not args.json:
            print(f"{mid:<32} load {row['load_s']:6.2f} s   p50 {row['p50_ms']:7.1f} ms   "
                  f"p95 {row['p95_ms']:7.1f} ms   {row['fps']:6.1f} fps   ({w}x{h}, {args.runs} runs)", flush=True)
    if args.json:
        _print_json(rows)
    from zoo import stats

    stats.save_bench(rows)
    return status


def lock_registry(resolve=None, where=None) -> list[tuple[str, str, str]]:
    """Rewrite every Hub entry pinned to a branch or tag to the commit it points at now, in the module that
    registered it (``where(module) -> Path``: that module's file, unless told otherwise)."""
    import importlib

    from zoo import hub
    from zoo.hub_registry import hub_entries
    from zoo.registry import registered_in

    resolve = resolve or hub.resolve_commit
    where = where or (lambda module: Path(importlib.import_module(module).__file__))
    changed = []
    for spec, src in ((spec, src) for spec in hub_entries() for src in spec.hub_sources()):
        if src.revision_is_commit:
            continue
        path = where(registered_in(spec.id))
        commit = resolve(src.repo_id, src.revision)
        pattern = re.compile(r'(HubSource\(\s*' + re.escape(f'"{src.repo_id}",') + r'\s*' +
                             re.escape(f'"{src.filename}",') + r'\s*)"' + re.escape(src.revision) + '"')
        text, n = pattern.subn(lambda m, c=commit: f'{m.group(1)}"{c}", revision_is_commit=True', path.read_text(),
                               count=1)
        if n:
            path.write_text(text)
            changed.append((spec.id, src.revision, commit))
    return changed


def cmd_lock(args: argparse.Namespace) -> int:
    changed = lock_registry()
    for model_id, old, new in changed:
        print(f"{model_id}: {old} -> {new}")
    if not changed:
        print("every Hub entry is already pinned to a commit")
    return 0


def cmd_teach(args: argparse.Namespace) -> int:
    from tasks import gesture_lab as lab

    samples, problems = lab.load_folder(args.data)
    model = lab.train(samples, head=args.head, backbone=args.backbone, problems=problems,
                      progress=lambda f, d: sys.stderr.write(f"\r{d:<60}") if args.verbose else None)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(lab.to_onnx(model))
    for line in model.problems:
        sys.stderr.write(f"warning: {line}\n")
    acc = "n/a (too few samples to hold any out)" if model.n_test == 0 else f"{model.accuracy:.1%}"
    print(f"classes: {', '.join(model.classes)}")
    print(f"trained on {model.n_train} samples, held out {model.n_test}: held-out accuracy {acc}")
    if model.n_test:
        print("confusion (rows: true, columns: predicted):")
        for name, counts in zip(model.classes, model.confusion):
            print(f"  {name:<16} " + " ".join(f"{v:3d}" for v in counts))
    print(f"wrote {out} (run it: python -m zoo run file:{out} IMAGE)")
    return 0


def cmd_fetch_bundled(args: argparse.Namespace) -> int:
    from zoo import bundled

    need = bundled.missing()
    if not need:
        print("the bundled models' files are all here")
        return 0
    done = bundled.fetch(need, progress=lambda f, d: sys.stderr.write(f"{d}\n"))
    print(f"fetched {len(done)} file(s) into {bundled.models_dir()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m zoo", description="The vision playground's model zoo.")
    p.add_argument("-v", "--verbose", action="store_true", help="log what the zoo does (stderr)")
    sub = p.add_subparsers(dest="command", required=True)

    lp = sub.add_parser("list", help="one row per model")
    lp.add_argument("--task", choices=list(TASKS))
    lp.add_argument("--json", action="store_true", help="one JSON array")
    lp.set_defaults(func=cmd_list)

    rp = sub.add_parser("run", help="run a model on images; one JSON line per image")
    rp.add_argument("model")
    rp.add_argument("images", nargs="+")
    rp.add_argument("--annotate", metavar="DIR", help="also write annotated images (and label masks) here")
    rp.add_argument("--min-score", type=float, default=None)
    rp.add_argument("--max-results", type=int, default=None)
    rp.set_defaults(func=cmd_run)

    bp = sub.add_parser("bench", help="load time, p50/p95 latency and fps per model")
    bp.add_argument("models", nargs="*", help="model ids (default: every bundled model available offline)")
    bp.add_argument("--size", default="640x480")
    bp.add_argument("--runs", type=int, default=30)
    bp.add_argument("--image", help="image to resize and use (default: matplotlib's grace_hopper.jpg)")
    bp.add_argument("--json", action="store_true")
    bp.set_defaults(func=cmd_bench)

    tp = sub.add_parser("teach", help="train a gesture head from a folder of class subfolders of images")
    tp.add_argument("--data", required=True, help="DIR with one subfolder of images per gesture")
    tp.add_argument("--head", choices=("landmark", "image"), default="landmark")
    tp.add_argument("--backbone", default=None, help="image head: Hub backbone (default google/mobilenet_v2_1.0_224)")
    tp.add_argument("--out", required=True, help="the ONNX file to write")
    tp.set_defaults(func=cmd_teach)

    kp = sub.add_parser("lock", help="pin every Hub entry's branch/tag to its current commit (needs the Hub)")
    kp.set_defaults(func=cmd_lock)

    fp = sub.add_parser("fetch-bundled", help="fetch the bundled models' files this machine lacks (scripts/setup "
                                              "runs it; needs the package registries)")
    fp.set_defaults(func=cmd_fetch_bundled)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except UnknownModelError as exc:
        _error(str(exc))
        return 2
    except ZooError as exc:
        _error(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130
