import time, os, subprocess
import app
from tests.conftest import free_port
from bench.browser import *
port = free_port()
app.demo.queue(default_concurrency_limit=4).launch(prevent_thread_lock=True, server_port=port, quiet=True)
with browser_page(f"http://127.0.0.1:{port}/", "/tmp/pw/cam480.y4m") as page:
    open_tab(page, "face", "Face detection"); start_stream(page, "face")
    wait_for(lambda: output_src(page, "face", "a"), 60)
    time.sleep(3)
    print(subprocess.run("top -bn2 -d 5 | grep -A12 '^  PID' | tail -12", shell=True, capture_output=True, text=True).stdout)
