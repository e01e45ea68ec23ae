import time, numpy as np
from bench.fakecam import make_frames
from tasks.live import StreamSession, run_side
from tasks import TASKS, predict
frames = make_frames(seconds=2)
task = TASKS["face"]
ctl = {"a": {"min_score": 0.5, "max_results": 5}, "b": {"min_score": 0.5, "max_results": 5}}
for m in ["face/blazeface-short", "face/facemesh"]:
    predict(m, frames[0])
    t = time.perf_counter(); 
    for f in frames[:30]: out = run_side(task, m, f, ctl["a"], None, True)
    t1 = (time.perf_counter()-t)/30*1000
    t = time.perf_counter()
    for f in frames[:30]: p = predict(m, f)
    t2 = (time.perf_counter()-t)/30*1000
    t = time.perf_counter()
    for f in frames[:30]: task.annotate(f, p.result)
    t3 = (time.perf_counter()-t)/30*1000
    t = time.perf_counter()
    for f in frames[:30]: p.to_json()
    t4 = (time.perf_counter()-t)/30*1000
    print(m, f"run_side {t1:.1f} predict {t2:.1f} annotate {t3:.1f} json {t4:.1f} ms")
s = StreamSession("face")
t = time.perf_counter()
for f in frames[:50]: s.submit(f, {"a": "face/blazeface-short", "b": "face/facemesh"}, ctl)
print("submit per frame", (time.perf_counter()-t)/50*1000)
import gradio as gr
from gradio import processing_utils
img = gr.Image(format="jpeg")
t = time.perf_counter()
for f in frames[:30]: img.postprocess(f)
print("gradio postprocess jpeg", (time.perf_counter()-t)/30*1000)
