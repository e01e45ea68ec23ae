"""Streaming benchmark: the real app in Debian's Chromium with a fake webcam, 60 s per task.

For each task tab, with its two default models, it prints processed frames per second for A and B, twice:
the annotated frames that reached the page (each one a new picture set on the output), and those the page
also got to load before the next one replaced it (shown; a busy page skips some); then the p50 and p95 of
the delay from a camera frame appearing in the page's webcam preview to the annotated output of that frame
appearing, and whether that delay grows over the run. The fake camera's
frames carry their index as a bar code strip (bench/fakecam.py) that the page reads back from the
preview and from both outputs.

    .venv/bin/python -m bench.stream_bench [--seconds 60] [--tasks face,pose] [--size 640x480] [--json]
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.browser import browser_page, chromium_available, open_tab, output_src, start_stream, wait_for
from bench.fakecam import BITS, make_y4m
from tasks import TASKS

CAM_FPS, CAM_SECONDS = 25, 6

# Runs in the page: reads the bar code of the preview <video> now and then, and of each output <img>
# whenever it changes, logging (time, index).
PROBE_JS = """
([task, bits]) => {
  const log = {v: [], a: [], b: [], changes: {a: [], b: []}, arrived: {a: [], b: []}};
  window.__bench = log;
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const n = bits + 2;
  function decode(el, w, h) {
    if (!w || !h) return null;
    canvas.width = w; canvas.height = 1;
    ctx.drawImage(el, 0, h - 12, w, 1, 0, 0, w, 1);
    const d = ctx.getImageData(0, 0, w, 1).data;
    const bw = Math.floor(w / n);
    let b = [];
    for (let k = 0; k < n; k++) {
      let s = 0, c = 0;
      for (let x = k * bw + Math.floor(bw / 4); x < (k + 1) * bw - Math.floor(bw / 4); x++) {
        s += (d[4 * x] + d[4 * x + 1] + d[4 * x + 2]) / 3; c++;
      }
      b.push(s / c > 127);
    }
    if (!b[0] && b[n - 1]) b.reverse();
    if (!(b[0] && !b[n - 1])) return null;
    let v = 0;
    for (let i = 0; i < bits; i++) if (b[i + 1]) v |= (1 << i);
    return v;
  }
  let last = {v: null, a: null, b: null}, lastSrc = {a: null, b: null}, lastRead = {a: 0, b: 0};
  // The preview is sampled 5 times a second (reading video pixels is not free); frame times in between
  // are interpolated, since the fake camera plays at a steady rate.
  setInterval(() => {
    const t = performance.now();
    const video = document.querySelector('#' + task + '-cam video');
    if (video && video.readyState >= 2) {
      const i = decode(video, video.videoWidth, video.videoHeight);
      if (i !== null && i !== last.v) { log.v.push([t, i]); last.v = i; }
    }
  }, 200);
  // Outputs are checked on a timer, not requestAnimationFrame: a rAF loop makes headless Chromium
  // composite the page 60 times a second, which costs more than everything measured here.
  function tick() {
    const t = performance.now();
    for (const side of ['a', 'b']) {
      const img = document.querySelector('#' + task + '-out-' + side + ' img');
      if (img && img.complete && img.naturalWidth && img.src !== lastSrc[side]) {
        lastSrc[side] = img.src;
        log.changes[side].push(t);  // every new frame shown counts for the rate
        if (t - lastRead[side] >= 100) {  // its bar code is read at most 10 times a second
          lastRead[side] = t;
          const i = decode(img, img.naturalWidth, img.naturalHeight);
          if (i !== null) { log[side].push([t, i]); last[side] = i; }
        }
      }
    }
  }
  setInterval(tick, 10);
  // Every picture the server sent and the page set on an output, whether or not it was shown.
  for (const side of ['a', 'b']) {
    const root = document.querySelector('#' + task + '-out-' + side);
    if (!root) continue;
    new MutationObserver(records => {
      for (const r of records) {
        if ((r.type === 'attributes' && r.target.nodeName === 'IMG') ||
            [...r.addedNodes].some(n => n.nodeName === 'IMG')) log.arrived[side].push(performance.now());
      }
    }).observe(root, {attributes: true, attributeFilter: ['src'], childList: true, subtree: true});
  }
}
"""


def delays(video_log: list, out_log: list, loop: int, fps: float) -> list[tuple[float, float]]:
    """(output time, delay ms) for each output frame, from when its camera frame showed in the preview.

    The camera plays ``loop`` frames at ``fps`` and starts again; the preview samples only some of them,
    so frame times are unwrapped and interpolated from the preview's own observations.
    """
    if len(video_log) < 2:
        return []
    absolute, k, prev = [], 0, None
    for t, idx in video_log:
        if prev is not None and idx < prev - loop // 2:
            k += 1
        absolute.append((t, k * loop + idx))
        prev = idx
    ts = np.array([t for t, _ in absolute])
    ns = np.array([n for _, n in absolute], dtype=float)
    out = []
    for t, idx in out_log:
        # the newest absolute frame number with this index that the preview had reached by time t
        reached = np.interp(t, ts, ns)
        n = idx + loop * np.floor((reached - idx) / loop)
        if n < ns[0]:
            continue
        t_in = float(np.interp(n, ns, ts)) if n <= ns[-1] else ts[-1] + (n - ns[-1]) * 1000.0 / fps
        out.append((t, t - t_in))
    return out


def _rate(times_ms: list[float]) -> float:
    """Events a second over the span from the first to the last of ``times_ms`` (milliseconds)."""
    return round((len(times_ms) - 1) / max((times_ms[-1] - times_ms[0]) / 1000, 1e-6), 1) if len(times_ms) > 1 else 0.0


def summarize(log: dict, loop: int, fps: float) -> dict:
    row = {}
    for side in ("a", "b"):
        d = delays(log["v"], log[side], loop, fps)
        ms = np.array([x for _, x in d]) if d else np.array([np.nan])
        changes = log["changes"][side]
        third = len(ms) // 3 or 1
        row[side] = {
            "fps_shown": _rate(changes),
            "delay_p50_ms": round(float(np.nanmedian(ms)), 1),
            "delay_p95_ms": round(float(np.nanpercentile(ms, 95)), 1),
            "delay_first_third_p50_ms": round(float(np.nanmedian(ms[:third])), 1),
            "delay_last_third_p50_ms": round(float(np.nanmedian(ms[-third:])), 1),
            "frames": len(changes),
            "fps_arrived": _rate(log["arrived"][side]),
        }
        row[side]["delay_grows"] = bool(row[side]["delay_last_third_p50_ms"] >
                                        1.5 * row[side]["delay_first_third_p50_ms"] + 50)
    return row


def run(tasks: list[str], seconds: float, size: tuple[int, int]) -> list[dict]:
    import app
    from playground.ui import default_pair
    from bench.server import free_port

    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    rows = []
    print("fps: frames that reached the page / of those, shown (loaded before the next replaced them)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        y4m = make_y4m(Path(tmp) / "cam.y4m", size[0], size[1], fps=CAM_FPS, seconds=CAM_SECONDS)
        for task in tasks:
            a, b = default_pair(task)
            with browser_page(f"http://127.0.0.1:{port}/", y4m) as page:
                open_tab(page, task, TASKS[task].title)
                start_stream(page, task)
                if not wait_for(lambda: output_src(page, task, "a") and output_src(page, task, "b"), 90):
                    rows.append({"task": task, "a_model": a, "b_model": b, "error": "no output appeared"})
                    continue
                time.sleep(3)  # models loaded, stream settled
                page.evaluate(PROBE_JS, [task, BITS])
                time.sleep(seconds)
                log = page.evaluate("window.__bench")
            row = {"task": task, "a_model": a, "b_model": b, "size": f"{size[0]}x{size[1]}", "seconds": seconds}
            row.update(summarize(log, loop=CAM_FPS * CAM_SECONDS, fps=CAM_FPS))
            rows.append(row)
            print(format_row(row), flush=True)
    app.demo.close()
    return rows


def format_row(r: dict) -> str:
    if "error" in r:
        return f"{r['task']:<13} {r['error']}"
    a, b = r["a"], r["b"]
    return (f"{r['task']:<13} A {r['a_model']:<22} {a['fps_arrived']:5.1f} / {a['fps_shown']:4.1f} fps  "
            f"delay p50 {a['delay_p50_ms']:6.0f} ms p95 {a['delay_p95_ms']:6.0f} ms grows={a['delay_grows']} | "
            f"B {r['b_model']:<22} {b['fps_arrived']:5.1f} / {b['fps_shown']:4.1f} fps  "
            f"delay p50 {b['delay_p50_ms']:6.0f} ms p95 {b['delay_p95_ms']:6.0f} ms grows={b['delay_grows']} ")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--tasks", default=",".join(TASKS))
    p.add_argument("--size", default="640x480")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if not chromium_available():
        print("Debian's chromium is needed: bash scripts/setup --dev", file=sys.stderr)
        return 2
    w, h = (int(v) for v in args.size.split("x"))
    rows = run([t.strip() for t in args.tasks.split(",")], args.seconds, (w, h))
    if args.json:
        print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
