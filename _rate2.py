import time, sys, re, os, threading
import app
from tests.conftest import free_port
from bench.browser import *
from bench.fakecam import make_y4m
from tasks import live
calls = []
orig = live.StreamSession.submit
def submit(self, *a, **k):
    t = time.perf_counter(); r = orig(self, *a, **k); calls.append((t, time.perf_counter() - t)); return r
live.StreamSession.submit = submit
y4m = "/tmp/pw/cam480.y4m"
port = free_port()
app.demo.queue(default_concurrency_limit=4).launch(prevent_thread_lock=True, server_port=port, quiet=True)
with browser_page(f"http://127.0.0.1:{port}/", y4m) as page:
    open_tab(page, "face", "Face detection"); start_stream(page, "face")
    wait_for(lambda: output_src(page, "face", "a"), 60)
    time.sleep(3); n0 = len(calls); t0 = time.perf_counter()
    time.sleep(10)
    sel = calls[n0:]
    print("handler calls/s", len(sel) / (time.perf_counter() - t0), "mean handler ms", 1000 * sum(c[1] for c in sel) / max(1, len(sel)))
    gaps = [b[0] - a[0] for a, b in zip(sel, sel[1:])]
    import numpy as np; print("gap p50 ms", 1000 * np.median(gaps), "p90", 1000 * np.percentile(gaps, 90))
