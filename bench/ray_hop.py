"""The cost of the Ray hop per call: each model's `predict` p50 in this process (local backend) and through
the playground's Serve application on a local Ray (frames as raw arrays through the object store, and as
JPEG bytes), on Grace Hopper and on a 640x480 camera frame.

    .venv/bin/python -m bench.ray_hop [--calls 40] [--models face/blazeface-short,face/facemesh] [--json PATH]
"""
from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from pathlib import Path

from bench.fakecam import make_frames
from playground import backends, serving
from playground.engine import predict
from zoo.images import load_image, sample_image_path

MODELS = ("face/blazeface-short", "face/facemesh", "hands/mediapipe-full", "pose/blazepose-full",
          "segmentation/selfie-general")


def p50_ms(fn, calls: int) -> float:
    fn()  # loaded, warm
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=40)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    import ray

    ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env=serving.runtime_env())
    serving.deploy(serving.ServeSettings(min_replicas=1, max_replicas=1))
    ray_backend = backends.RayBackend(deploy=False)
    local = backends.LocalBackend()
    images = {"grace_hopper": load_image(sample_image_path()), "camera_640x480": make_frames(640, 480, seconds=0.2)[0]}
    bare = p50_ms(lambda: ray_backend.handle.pid.remote().result(), args.calls)
    print(f"a bare call to a replica (no model, no frame): p50 {bare} ms")
    rows = []
    for model in args.models.split(","):
        for name, rgb in images.items():
            row = {"model": model, "image": name}
            backends.use(local)
            row["local_ms"] = p50_ms(lambda: predict(model, rgb), args.calls)
            backends.use(ray_backend)
            for how in ("raw", "jpeg"):
                ray_backend.frames = how
                row[f"ray_{how}_ms"] = p50_ms(lambda: predict(model, rgb), args.calls)
                row[f"hop_{how}_ms"] = round(row[f"ray_{how}_ms"] - row["local_ms"], 1)
            rows.append(row)
            print(f"{model:<28} {name:<15} local {row['local_ms']:6.1f} ms | ray raw {row['ray_raw_ms']:6.1f} "
                  f"(hop {row['hop_raw_ms']:+5.1f}) | ray jpeg {row['ray_jpeg_ms']:6.1f} (hop {row['hop_jpeg_ms']:+5.1f})",
                  flush=True)
    backends.use(None)
    from ray import serve

    serve.shutdown()
    ray.shutdown()
    for how in ("raw", "jpeg"):
        print(f"hop p50 over all rows, {how}: {statistics.median(r[f'hop_{how}_ms'] for r in rows):.1f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps({"bare_call_ms": bare, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
