"""What a live visitor costs the server, with the models on the visitor's device and on the server.

    python -m bench.device_load [--visitors 2] [--seconds 60] [--task face] [--where both|device|server]

Starts the app, opens ``--visitors`` pages in Chromium with a fake webcam, starts each live view with both
sides in the page (the default where the models have a device version), then again with both on the server,
and reports for each: the server process's CPU (cores used, from /proc), and per visitor the overlays/s of each
side as the page counted them.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(visitors: int, seconds: float, task: str, places: tuple[str, ...] = ("device", "server")) -> dict:
    from bench.browser import browser_pages, live_counts, open_tab, start_live, stop_live, wait_for
    from bench.fakecam import make_y4m
    from bench.server import free_port, start_app
    from tasks import TASKS

    y4m = make_y4m(Path(tempfile.mkdtemp(prefix="device-load-")) / "cam.y4m")
    port = free_port()
    # the pages share one address here: its share of live views is lifted to their number. Device only: the
    # server keeps one live slot, which a page whose models run in the browser does not take
    env = {"HF_HUB_OFFLINE": "1", "PLAYGROUND_LIVE_PER_ADDRESS": str(visitors),
           "PLAYGROUND_LIVE_STARTS_PER_MINUTE": str(max(20, 4 * visitors))}
    if places == ("device",):
        env["PLAYGROUND_MAX_LIVE"] = "1"
    proc = start_app(port, env)
    url = f"http://127.0.0.1:{port}/"
    report = {"visitors": visitors, "seconds": seconds, "task": task}
    try:
        with browser_pages(url, y4m, visitors) as pages:
            for where in places:
                for page in pages:
                    open_tab(page, task, TASKS[task].title)
                    for side in ("a", "b"):
                        page.evaluate(f"window.__playgroundLive[{json.dumps(task)}].setWhere('{side}', '{where}')")
                    start_live(page, task)
                for page in pages:
                    wait_for(lambda: (lambda c: c["a"] > 5 and c["b"] > 5)(live_counts(page, task)), 120)
                before = [live_counts(page, task) for page in pages]
                c0, t0 = cpu_seconds(proc.pid), time.monotonic()
                time.sleep(seconds)  # a benchmark's measuring window, not a test's wait
                used = (cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0)
                after = [live_counts(page, task) for page in pages]
                report[where] = {
                    "server_cores": round(used, 3),
                    "overlays_per_s": [{k: round((a[k] - b[k]) / seconds, 1) for k in ("a", "b")}
                                      for a, b in zip(after, before)],
                }
                for page in pages:
                    stop_live(page, task)
    finally:
        proc.terminate()
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--visitors", type=int, default=2)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--task", default="face")
    p.add_argument("--where", choices=("both", "device", "server"), default="both",
                   help="device: only the pages' own models, with the server keeping a single live slot")
    args = p.parse_args(argv)
    places = ("device", "server") if args.where == "both" else (args.where,)
    print(json.dumps(run(args.visitors, args.seconds, args.task, places), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
