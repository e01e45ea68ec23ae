"""Drive the app in Debian's Chromium with a fake webcam (Playwright, no browser download)."""
from __future__ import annotations

import contextlib
import shutil
import time
from pathlib import Path
from typing import Iterator

CHROMIUM = "/usr/bin/chromium"


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() or shutil.which("chromium") is not None


@contextlib.contextmanager
def browser_pages(url: str, y4m: str | Path, count: int, viewport=(1400, 1800), init_script: str | None = None,
                  webgpu: bool = False) -> Iterator[list]:
    """``count`` pages, each in a browser context of its own (a separate visitor: own cookies, own session);
    ``init_script`` runs in each page before its own scripts (``delete window.WebAssembly``: a browser without
    WebAssembly, which Chromium's flags cannot give); ``webgpu``: WebGPU on (on a machine without a GPU, Chromium
    offers its SwiftShader adapter, a GPU in software)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={y4m}", "--enable-unsafe-webgpu" if webgpu else "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
            "--autoplay-policy=no-user-gesture-required"])
        try:
            pages = []
            for _ in range(count):
                ctx = browser.new_context(permissions=["camera"],
                                          viewport={"width": viewport[0], "height": viewport[1]})
                if init_script:
                    ctx.add_init_script(init_script)
                page = ctx.new_page()
                page.goto(url)
                pages.append(page)
            yield pages
        finally:
            browser.close()


@contextlib.contextmanager
def browser_page(url: str, y4m: str | Path, viewport=(1400, 1800), init_script: str | None = None,
                 webgpu: bool = False) -> Iterator["object"]:
    with browser_pages(url, y4m, 1, viewport, init_script, webgpu) as pages:
        yield pages[0]


def open_tab(page, task: str, title: str) -> None:
    page.get_by_role("tab", name=title).first.click()
    page.wait_for_selector(f"#{task}-live-start", state="visible", timeout=30_000)


def start_live(page, task: str) -> None:
    """The live view's Start button (its socket opens with the ticket the click brings back)."""
    page.locator(f"#{task}-live-start").click()


def stop_live(page, task: str) -> None:
    page.locator(f"#{task}-live-stop").click()


def live_counts(page, task: str) -> dict:
    """How many camera frames and overlays (per side) the page's live view has counted so far."""
    return page.evaluate("""(task) => {
      const v = window.__playgroundLive && window.__playgroundLive[task];
      if (!v) return {camera: 0, a: 0, b: 0, errors: []};
      const s = v.stats;
      return {camera: s.camera.length, a: s.a.draws.length, b: s.b.draws.length, errors: s.errors.slice(-5),
              dropped: s.dropped};
    }""", task)


def live_stats(page, task: str) -> dict:
    """The live view's own measurements (see playground/static/live.js): camera frame times, and per side
    [time, capture-to-overlay ms, seq] of each overlay drawn and the models' latencies."""
    return page.evaluate("(task) => window.__playgroundLive[task].stats", task)


def live_readout(page, task: str, key: str) -> str:
    """The live view's readout line: key "camera", "a" or "b"."""
    return page.locator(f"#{task}-live .live-readout-{key}").inner_text()


def select_model(page, elem_id: str, model_id: str) -> None:
    """Pick a model as a visitor does: type (part of) its name, click the option. The registry's ids are
    found by their name; any other id (a model the session added) is typed as it is."""
    from zoo.errors import ZooError
    from zoo.registry import get_spec

    try:
        text = get_spec(model_id).name
    except ZooError:
        text = model_id
    box = page.locator(f"#{elem_id} input")
    box.click()
    box.fill(text)
    page.get_by_role("option").filter(has_text=text).first.click()


def wait_for(predicate, timeout: float = 60.0, every: float = 0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return None
