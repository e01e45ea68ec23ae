"""The README's pictures, taken in a real browser by the same steps the browser tests take: the live A/B of the
face tab (a fake webcam) and a still A/B on the face tab's example of several faces.

    .venv/bin/python -m bench.screenshots docs/      # the app is started on a free port and stopped after

``tests/test_browser.py`` calls :func:`live_ab` and :func:`still_ab` on every run (into ``artifacts/``), so the
pictures are made by code that is tested.
"""
from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from bench.browser import browser_page, live_counts, open_tab, start_live, stop_live, wait_for
from bench.fakecam import make_y4m
from tasks import TASKS

VIEWPORT = (1400, 1000)


def live_ab(page, path: Path, task: str = "face") -> str:
    """The live view with both sides drawn and the agreement line filled; returns that line."""
    open_tab(page, task, TASKS[task].title)
    start_live(page, task)
    assert wait_for(lambda: (lambda c: c["a"] >= 10 and c["b"] >= 10)(live_counts(page, task)), 90), \
        live_counts(page, task)
    line = page.locator(f"#{task}-live .live-agreement")
    assert wait_for(lambda: re.search(r"Agreement of A and B: \d+%", line.inner_text()), 30), line.inner_text()
    page.locator(f"#{task}-live").scroll_into_view_if_needed()
    page.screenshot(path=str(path))
    text = line.inner_text()
    stop_live(page, task)
    return text


def still_ab(page, path: Path, task: str = "face", example: int = 1) -> tuple[str, str]:
    """A still image (the tab's example number ``example``) run on A and B; returns the two readouts."""
    open_tab(page, task, TASKS[task].title)
    page.get_by_role("tab", name="Image").first.click()  # the shown tab's own (the others' are hidden)
    page.wait_for_selector(f"#{task}-out-a", state="visible", timeout=30_000)
    page.get_by_text(TASKS[task].examples[example].label, exact=True).first.click()
    page.wait_for_selector(f"#{task}-image img", state="visible", timeout=30_000)
    page.get_by_role("button", name="Run A and B").first.click()
    readouts = [page.locator(f"#{task}-readout-{k}") for k in ("a", "b")]
    assert wait_for(lambda: all(re.search(r"found|covers", r.inner_text()) for r in readouts), 90), \
        [r.inner_text() for r in readouts]
    page.locator(f"#{task}-out-a").scroll_into_view_if_needed()
    page.screenshot(path=str(path))
    return readouts[0].inner_text(), readouts[1].inner_text()


def main(argv: list[str] | None = None) -> int:
    from bench.server import free_port, start_app

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = start_app(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # the synthetic scene: the repository's pictures hold nothing of ../shared/media
            y4m = make_y4m(Path(tmp) / "cam.y4m", 640, 480, fps=25, seconds=6, shared=False)
            with browser_page(f"http://127.0.0.1:{port}/", y4m, viewport=VIEWPORT) as page:
                print(live_ab(page, args.out / "live-ab.png"))
                print(*still_ab(page, args.out / "still-ab.png"), sep="\n")
    finally:
        proc.terminate()
        proc.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
