"""A real browser: Debian's Chromium with a fake webcam streams into the face tab."""
import re
import time

import pytest

from bench.browser import browser_page, chromium_available, open_tab, output_src, start_stream, wait_for
from bench.fakecam import make_y4m
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

NUMBER_MS = re.compile(r"(\d+(\.\d+)?) ms model latency")
NUMBER_FPS = re.compile(r"(\d+(\.\d+)?) fps processed")


@pytest.fixture(scope="module")
def y4m(tmp_path_factory):
    if not chromium_available():
        pytest.skip("Debian's chromium is not installed (scripts/setup --dev installs it)")
    pytest.importorskip("playwright")
    return make_y4m(tmp_path_factory.mktemp("cam") / "cam.y4m", 640, 480, fps=25, seconds=6)


def _select(page, elem_id: str, model_id: str) -> None:
    box = page.locator(f"#{elem_id} input")
    box.click()
    box.fill(model_id)
    page.get_by_role("option").filter(has_text=model_id).first.click()


def test_face_tab_streams_both_models_and_switches_b_mid_stream(app_url, y4m):
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(app_url, y4m) as page:
        open_tab(page, "face", "Face detection")
        start_stream(page, "face")
        assert wait_for(lambda: output_src(page, "face", "a") and output_src(page, "face", "b"), 60), \
            "no annotated output appeared"
        # the preview is shown like a mirror (the frames themselves travel as the camera sees them)
        transform = page.evaluate("getComputedStyle(document.querySelector('#face-cam video')).transform")
        assert transform.startswith("matrix(-1"), transform
        # Both outputs keep changing for 10 s: a new frame in every 2-second window, on each side.
        windows = []
        for _ in range(5):
            seen = {"a": set(), "b": set()}
            t0 = time.monotonic()
            while time.monotonic() - t0 < 2.0:
                for side in seen:
                    seen[side].add(output_src(page, "face", side))
                time.sleep(0.1)
            windows.append({k: len(v) for k, v in seen.items()})
        assert all(w["a"] >= 3 and w["b"] >= 3 for w in windows), windows
        ra = page.locator("#face-readout-a").inner_text()
        rb = page.locator("#face-readout-b").inner_text()
        for text in (ra, rb):
            assert NUMBER_MS.search(text) and NUMBER_FPS.search(text), text
        assert float(NUMBER_FPS.search(ra).group(1)) > 1.0

        _select(page, "face-model-b", "face/haar-frontal")
        switched = wait_for(lambda: (lambda t: "face/haar-frontal" in t and NUMBER_MS.search(t) and t)(
            page.locator("#face-readout-b").inner_text()), 30)
        assert switched, page.locator("#face-readout-b").inner_text()
        before = output_src(page, "face", "b")
        assert wait_for(lambda: output_src(page, "face", "b") != before, 10), "B stopped updating after the switch"
        agreement = page.locator("#face-agreement").inner_text()
        assert re.search(r"Agreement of A and B: \d+%", agreement), agreement
        page.screenshot(path=str(ARTIFACTS / "browser-face-tab.png"), full_page=True)
