import os, sys, time, tempfile, collections
from pathlib import Path
import numpy as np
from tasks import live
rec = []
orig = live.StreamSession.submit
def submit(self, frame, *a, **k):
    up = orig(self, frame, *a, **k)
    rec.append((time.monotonic(), up.a is not None, up.b is not None))
    return up
live.StreamSession.submit = submit
import app
from bench.browser import browser_page, open_tab, start_stream, output_src, wait_for
from bench.fakecam import make_y4m, BITS
from bench.stream_bench import PROBE_JS
from tests.conftest import free_port
port = free_port()
app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
MO = """() => { window.__mo = {a: 0, b: 0, ta: []};
 for (const s of ['a','b']) { const root = document.querySelector('#face-out-' + s);
   new MutationObserver(ms => { for (const m of ms) { if (m.type === 'attributes' && m.attributeName === 'src') { window.__mo[s]++; const im = m.target; const src = im.src; im.decode().then(() => { if (im.src === src) window.__mo[s+'_dec'] = (window.__mo[s+'_dec']||0)+1; else window.__mo[s+'_stale'] = (window.__mo[s+'_stale']||0)+1; }).catch(() => { window.__mo[s+'_fail'] = (window.__mo[s+'_fail']||0)+1; }); } else if (m.type === 'childList') { for (const n of m.addedNodes) { const k = s+'+'+(n.nodeName)+'.'+(n.className||'').toString().slice(0,30); window.__mo[k]=(window.__mo[k]||0)+1; } for (const n of m.removedNodes) { const k = s+'-'+(n.nodeName)+'.'+(n.className||'').toString().slice(0,30); window.__mo[k]=(window.__mo[k]||0)+1; } } } })
     .observe(root, {attributes: true, subtree: true, childList: true, attributeFilter: ['src']}); } }"""
with tempfile.TemporaryDirectory() as tmp:
    y4m = make_y4m(Path(tmp) / "cam.y4m", 640, 480, fps=25, seconds=6)
    with browser_page(f"http://127.0.0.1:{port}/", y4m) as page:
        open_tab(page, "face", "Face detection")
        start_stream(page, "face")
        wait_for(lambda: output_src(page, "face", "a") and output_src(page, "face", "b"), 90)
        time.sleep(3)
        page.evaluate(PROBE_JS, ["face", BITS]); page.evaluate(MO)
        t0 = time.monotonic(); n0 = len(rec)
        time.sleep(20)
        t1 = time.monotonic(); r = rec[n0:]
        mo = page.evaluate("window.__mo"); probe = page.evaluate("[window.__bench.changes.a.length, window.__bench.changes.b.length]")
dt = t1 - t0
print(f"server calls/s {len(r)/dt:.1f} a fresh/s {sum(x[1] for x in r)/dt:.1f} b fresh/s {sum(x[2] for x in r)/dt:.1f}")
print({k: round(v/dt,1) for k, v in mo.items() if not isinstance(v, list)})
print(f"mutation src/s a {mo['a']/dt:.1f} b {mo['b']/dt:.1f} child {mo.get('a_child',0)/dt:.1f}; probe/s a {probe[0]/dt:.1f} b {probe[1]/dt:.1f}")
app.demo.close()
