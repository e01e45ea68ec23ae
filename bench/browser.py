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
def browser_page(url: str, y4m: str | Path, viewport=(1400, 1800)) -> Iterator["object"]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={y4m}", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
            "--autoplay-policy=no-user-gesture-required"])
        try:
            ctx = browser.new_context(permissions=["camera"],
                                      viewport={"width": viewport[0], "height": viewport[1]})
            page = ctx.new_page()
            page.goto(url)
            yield page
        finally:
            browser.close()


def open_tab(page, task: str, title: str) -> None:
    page.get_by_role("tab", name=title).first.click()
    page.wait_for_selector(f"#{task}-cam", state="visible", timeout=30_000)


def start_stream(page, task: str) -> None:
    """Gradio 6's webcam: "Click to Access Webcam", then "Record"."""
    cam = page.locator(f"#{task}-cam")
    cam.get_by_text("Click to Access Webcam").first.click()
    cam.locator("button").filter(has_text="Record").first.click(timeout=30_000)


def output_src(page, task: str, side: str) -> str | None:
    img = page.locator(f"#{task}-out-{side} img")
    if img.count() == 0:
        return None
    return img.first.get_attribute("src")


def wait_for(predicate, timeout: float = 60.0, every: float = 0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return None
