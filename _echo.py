import time, sys
import gradio as gr, numpy as np
from tests.conftest import free_port
from bench.browser import *
calls = []
N = int(sys.argv[1]); FMT = sys.argv[2]
with gr.Blocks() as demo:
    cam = gr.Image(sources=["webcam"], streaming=True, type="numpy", elem_id="face-cam")
    outs = [gr.Image(format=FMT, elem_id=f"face-out-{k}") for k in "ab"[:N]]
    def f(x):
        calls.append(time.perf_counter())
        return [x[:, ::-1]] * N if N > 1 else x[:, ::-1]
    cam.stream(f, [cam], outs, stream_every=0.05, show_progress="hidden", concurrency_limit=8)
port = free_port()
demo.launch(prevent_thread_lock=True, server_port=port, quiet=True)
with browser_page(f"http://127.0.0.1:{port}/", "/tmp/pw/cam480.y4m") as page:
    start_stream(page, "face")
    wait_for(lambda: output_src(page, "face", "a"), 60)
    time.sleep(2); n0 = len(calls); t0 = time.perf_counter(); time.sleep(8)
    print(N, FMT, "calls/s", (len(calls) - n0) / (time.perf_counter() - t0))
