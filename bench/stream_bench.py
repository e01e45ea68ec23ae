"""Live benchmark: the real app in Debian's Chromium with a fake webcam, 60 s per task tab.

For each tab (its two default models, or those given with ``--models``) it starts the live view and reads
the page's own measurements (``playground/static/live.js``): camera frames shown per second (new frames of
the preview <video>), overlay updates drawn per second for A and B, capture-to-overlay delay p50/p95 for A
and B (from the frame's grab in the page to its overlay being drawn, matched by sequence number), and
whether that delay grows over the run (last third's p50 > 1.5 x the first third's + 50 ms). The page's main
thread load is Chromium's own count (DevTools ``Performance.getMetrics`` TaskDuration over wall time).
``--server-only`` runs the scripted socket client instead (bench/live_client.py, no browser): how many
frames a second each side answers when fed as fast as it takes them. Each row also says where each side's
delay went (``stages_p50_ms``: wait for a free side, encode, round trip, draw, and the gap between an answer
and the next frame sent). ``--backend ray`` runs the models on Ray Serve (see playground/backends.py).

    .venv/bin/python -m bench.stream_bench [--seconds 60] [--tasks face,pose] [--size 640x480]
        [--models pose=pose/blazepose-lite,pose/blazepose-full] [--server-only] [--backend local|ray]
        [--where device|server] [--json PATH]

``--where``: both live sides in the visitor's page, or both on the server; each row then says ``where`` and
``server_cpu_cores`` (the app process's cores during the run).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.browser import (browser_page, chromium_available, live_counts, live_stats, open_tab, select_model,
                           start_live, wait_for)
from bench.fakecam import make_frames, make_y4m
from tasks import TASKS

CAM_FPS, CAM_SECONDS = 25, 6


def _rate(times_ms: list[float]) -> float:
    """Events a second over the span from the first to the last of ``times_ms`` (milliseconds)."""
    return round((len(times_ms) - 1) / max((times_ms[-1] - times_ms[0]) / 1000, 1e-6), 1) if len(times_ms) > 1 else 0.0


def summarize(stats: dict, since: dict) -> dict:
    """The figures of a run from the page's stats, counting only what came after ``since`` (the counts at
    the start of the measured window)."""
    camera = stats["camera"][since["camera"]:]
    row = {"camera_fps": _rate(camera)}
    for side in ("a", "b"):
        draws = stats[side]["draws"][since[side]:]
        ms = np.array([d for _, d, _ in draws]) if draws else np.array([np.nan])
        third = max(1, len(ms) // 3)
        first, last = float(np.nanmedian(ms[:third])), float(np.nanmedian(ms[-third:]))
        lat = stats[side]["latency"][-len(draws):] if draws else []
        row[side] = {
            "fps_shown": _rate([t for t, _, _ in draws]),
            "delay_p50_ms": round(float(np.nanmedian(ms)), 1),
            "delay_p95_ms": round(float(np.nanpercentile(ms, 95)), 1),
            "delay_first_third_p50_ms": round(first, 1),
            "delay_last_third_p50_ms": round(last, 1),
            "delay_grows": bool(last > 1.5 * first + 50),
            "model_latency_p50_ms": round(float(np.median(lat)), 1) if lat else None,
            "overlays": len(draws),
            "stages_p50_ms": stages(stats, side, draws),
        }
    return row


def stages(stats: dict, side: str, draws: list) -> dict:
    """Where a side's capture-to-overlay delay goes (p50 of each, ms): ``wait`` from the camera frame to the
    page grabbing it (or, for a frame sent again for this side, to that resend), ``encode`` grab to JPEG sent,
    ``round_trip`` sent to the answer in the page (socket, decode, model, drawing commands, JSON), ``draw``
    answer to the overlay painted; and ``free`` from an answer to the next frame sent to this side."""
    frames = {s: (cap, grab) for s, cap, grab in stats.get("frames", [])}
    bit = {"a": 2, "b": 4}[side]
    sends: dict[int, list] = {}  # seq -> [(time, resend)] of the sends that went to this side
    for t, _, resend, s, bits in stats.get("sent", []):
        if bits & bit:
            sends.setdefault(s, []).append((t, resend))
    answers = {s: t for t, s in stats[side].get("answers", [])}
    out: dict[str, list[float]] = {"wait": [], "encode": [], "round_trip": [], "draw": [], "free": []}
    prev_answer = None
    for t_draw, _, s in draws:
        if s not in frames or s not in answers or s not in sends:
            continue
        cap, grab = frames[s]
        t_ans = answers[s]
        t_sent, resend = sends[s][0]
        out["wait"].append((t_sent - cap) if resend else (grab - cap))
        out["encode"].append(0.0 if resend else t_sent - grab)
        out["round_trip"].append(t_ans - t_sent)
        out["draw"].append(t_draw - t_ans)
        if prev_answer is not None:  # a resend the Worker made on the answer itself counts as 0
            out["free"].append(max(0.0, t_sent - prev_answer))
        prev_answer = t_ans
    return {k: round(float(np.median(v)), 1) for k, v in out.items() if v}


def _pairs(models: list[str]) -> dict[str, tuple[str, str]]:
    out = {}
    for item in models:
        task, _, ids = item.partition("=")
        a, _, b = ids.partition(",")
        out[task.strip()] = (a.strip(), b.strip())
    return out


def _cpu() -> float:
    """This process's CPU seconds (all its threads): the app runs here."""
    t = os.times()
    return t.user + t.system


def browser_run(port: int, tasks: list[str], seconds: float, size: tuple[int, int],
                pairs: dict[str, tuple[str, str]], where: str | None = None) -> list[dict]:
    from playground.ui import default_pair

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        y4m = make_y4m(Path(tmp) / "cam.y4m", size[0], size[1], fps=CAM_FPS, seconds=CAM_SECONDS)
        for task in tasks:
            a, b = pairs.get(task) or default_pair(task)
            with browser_page(f"http://127.0.0.1:{port}/", y4m) as page:
                open_tab(page, task, TASKS[task].title)
                for side, model in (("a", a), ("b", b)):
                    if model != default_pair(task)["ab".index(side)]:
                        select_model(page, f"{task}-model-{side}", model)
                        page.wait_for_timeout(500)
                start_live(page, task)
                if where:  # both sides in the page, or both on the server
                    for side in ("a", "b"):
                        page.evaluate(f"window.__playgroundLive[{json.dumps(task)}].setWhere('{side}', '{where}')")
                if not wait_for(lambda: (lambda c: c["a"] >= 3 and c["b"] >= 3)(live_counts(page, task)), 90):
                    rows.append({"task": task, "a_model": a, "b_model": b, "error": "no overlays appeared",
                                 "page": live_counts(page, task)})
                    print(format_row(rows[-1]), flush=True)
                    continue
                time.sleep(3)  # models loaded, stream settled
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")
                metric = lambda: {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}  # noqa: E731
                since, m0, t0, c0 = live_counts(page, task), metric(), time.monotonic(), _cpu()
                time.sleep(seconds)
                m1, t1, c1 = metric(), time.monotonic(), _cpu()
                stats = live_stats(page, task)
            row = {"task": task, "a_model": a, "b_model": b, "size": f"{size[0]}x{size[1]}", "seconds": seconds,
                   "backend": os.environ.get("ZOO_BACKEND", "local"), "where": where or "default",
                   # the app's process (this one: it serves the page and runs the server's sides)
                   "server_cpu_cores": round((c1 - c0) / (t1 - t0), 3)}
            row.update(summarize(stats, since))
            row["main_thread_busy_pct"] = round(100 * (m1["TaskDuration"] - m0["TaskDuration"]) / (t1 - t0), 1)
            rows.append(row)
            print(format_row(row), flush=True)
    return rows


def server_run(port: int, tasks: list[str], seconds: float, size: tuple[int, int],
               pairs: dict[str, tuple[str, str]]) -> list[dict]:
    from bench.live_client import LiveClient, drive, jpeg
    from bench.server import cpu_seconds
    from playground.live import StreamSession
    from playground.live_socket import TICKETS
    from playground.ui import default_pair

    frames = [jpeg(f) for f in make_frames(size[0], size[1], fps=CAM_FPS, seconds=4)]
    rows = []
    for task in tasks:
        a, b = pairs.get(task) or default_pair(task)
        session = StreamSession(task, {"a": a, "b": b})
        client = LiveClient(f"http://127.0.0.1:{port}/", TICKETS.issue(session))
        try:
            drive(client, frames, 5)  # models loaded, trackers warm
            cpu0, t0 = cpu_seconds(os.getpid()), time.monotonic()
            rep = drive(client, frames, seconds)
            cpu1, t1 = cpu_seconds(os.getpid()), time.monotonic()
        finally:
            client.close()
            session.close()
        row = {"task": task, "a_model": a, "b_model": b, "size": f"{size[0]}x{size[1]}", "seconds": seconds,
               "server_only": True, "backend": os.environ.get("ZOO_BACKEND", "local"), **rep.summary(),
               # cores busy during the run: this process (the app and the scripted client) and its children
               # (with --backend ray: Ray's processes and the replicas)
               "cores": {"app_process": round((cpu1[0] - cpu0[0]) / (t1 - t0), 2),
                         "child_processes": round((cpu1[1] - cpu0[1]) / (t1 - t0), 2)}}
        rows.append(row)
        print(f"{task:<13} server only: sent {row['sent_fps']:5.1f} fps, cores {row['cores']} | " + " | ".join(
            f"{k.upper()} {row[k + '_model']:<26} {row[k]['answers_per_s']:5.1f}/s latency p50 "
            f"{row[k]['latency_p50_ms']} ms, send-to-answer p50 {row[k]['delay_p50_ms']} ms" for k in ("a", "b")),
            flush=True)
    return rows


def format_row(r: dict) -> str:
    if "error" in r:
        return f"{r['task']:<13} {r['error']} {r.get('page', '')}"
    a, b = r["a"], r["b"]
    return (f"{r['task']:<13} camera {r['camera_fps']:4.1f} fps, main thread {r['main_thread_busy_pct']:4.1f}% busy | "
            f"A {r['a_model']:<26} {a['fps_shown']:4.1f} overlays/s delay p50 {a['delay_p50_ms']:5.0f} ms "
            f"p95 {a['delay_p95_ms']:5.0f} grows={a['delay_grows']} | "
            f"B {r['b_model']:<26} {b['fps_shown']:4.1f} overlays/s delay p50 {b['delay_p50_ms']:5.0f} ms "
            f"p95 {b['delay_p95_ms']:5.0f} grows={b['delay_grows']}\n"
            f"{'':<13} stages p50 ms A {a.get('stages_p50_ms')} | B {b.get('stages_p50_ms')}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--tasks", default=",".join(TASKS))
    p.add_argument("--size", default="640x480", help="the fake camera's size")
    p.add_argument("--models", action="append", default=[], metavar="TASK=A,B",
                   help="run this pair on a task's tab instead of its default pair (repeatable)")
    p.add_argument("--server-only", action="store_true", help="the scripted socket client, no browser")
    p.add_argument("--backend", choices=("local", "ray"), default=None,
                   help="where the models run (default: ZOO_BACKEND, else local); ray starts a local Ray "
                        "unless RAY_ADDRESS names a cluster")
    p.add_argument("--where", choices=("device", "server"), default=None,
                   help="run both live sides in the page or both on the server (default: as the page places them)")
    p.add_argument("--json", metavar="PATH", help="also write the rows as JSON to PATH")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if args.backend:
        os.environ["ZOO_BACKEND"] = args.backend  # read when the app launches
    if not args.server_only and not chromium_available():
        print("Debian's chromium is needed: bash scripts/setup --dev", file=sys.stderr)
        return 2
    import app
    from bench.server import free_port

    w, h = (int(v) for v in args.size.split("x"))
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        print(f"unknown task(s): {', '.join(unknown)}; the tasks are {', '.join(TASKS)}", file=sys.stderr)
        return 2
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        if args.server_only:
            rows = server_run(port, tasks, args.seconds, (w, h), _pairs(args.models))
        else:
            rows = browser_run(port, tasks, args.seconds, (w, h), _pairs(args.models), args.where)
    finally:
        app.demo.close()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
