import time, sys, re
import app
from tests.conftest import free_port
from bench.browser import *
from bench.fakecam import make_y4m
y4m = "/tmp/pw/cam480.y4m"
import os
if not os.path.exists(y4m): make_y4m(y4m, seconds=6)
port = free_port()
app.demo.queue(default_concurrency_limit=4).launch(prevent_thread_lock=True, server_port=port, quiet=True)
with browser_page(f"http://127.0.0.1:{port}/", y4m) as page:
    open_tab(page, "face", "Face detection"); start_stream(page, "face")
    wait_for(lambda: output_src(page, "face", "a"), 60)
    for i in range(5):
        time.sleep(2)
        print(page.locator("#face-readout-a").inner_text(), "|", page.locator("#face-readout-b").inner_text(), "|", (output_src(page,"face","a") or "")[:40])
    t=time.time(); n=0; s=set()
    while time.time()-t<5: s.add(output_src(page,"face","a")); n+=1
    print("samples", n, "distinct", len(s))
