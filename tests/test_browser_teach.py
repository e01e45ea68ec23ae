"""A real browser teaches the gesture tab two gestures and sees its own model's label on the stream."""
import re

import numpy as np
import pytest
from PIL import Image

from bench.browser import browser_page, chromium_available, live_counts, open_tab, start_live, wait_for
from bench.fakecam import write_y4m
from tests.conftest import ARTIFACTS, MEDIA

pytestmark = [pytest.mark.browser, pytest.mark.media]


@pytest.fixture(scope="module")
def cam_and_uploads(tmp_path_factory):
    if not chromium_available():
        pytest.skip("Debian's chromium is not installed (scripts/setup --dev installs it)")
    pytest.importorskip("playwright")
    if not MEDIA.is_dir():
        pytest.skip("../shared/media is absent")
    tmp = tmp_path_factory.mktemp("teach")
    baby = Image.open(MEDIA / "COCO_val2014_000000000428.jpg").convert("RGB")  # a raised open hand
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[60:420] = np.asarray(baby)
    y4m = write_y4m(tmp / "cam.y4m", [frame] * 10, fps=10)
    kitchen = Image.open(MEDIA / "COCO_val2014_000000000294.jpg").convert("RGB")  # hands reaching out
    uploads = []
    for i in range(5):
        path = tmp / f"reaching{i}.jpg"
        kitchen.crop((5 * i, 3 * i, kitchen.width - 25 + 5 * i, kitchen.height - 15 + 3 * i)).save(path)
        uploads.append(str(path))
    return y4m, uploads


def test_teach_two_gestures_then_see_my_label_on_the_stream(app_url, cam_and_uploads):
    y4m, uploads = cam_and_uploads
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(app_url, y4m) as page:
        open_tab(page, "gesture", "Gesture recognition")
        page.get_by_text("Teach your own gestures").first.click()
        target_value = lambda: page.locator("#teach-target input").input_value()  # noqa: E731

        def type_names(clear_first: bool = False) -> bool:
            names = page.locator("#teach-names textarea, #teach-names input").first
            if clear_first:
                names.fill("")
            names.fill("raised, reaching")
            names.press("Enter")
            # the names reach the "Add samples to" picker through the server: wait for it, not a fixed time
            return bool(wait_for(lambda: target_value() == "raised", 15))

        # In some full-suite CI runs the picker kept its old names after this first typing, never alone (the
        # typed text or its change event was lost while the just-opened accordion rendered; not pinned down).
        # Typing again is what a user would do; a change that never reaches the picker still fails here.
        assert type_names() or type_names(clear_first=True), (
            target_value(), page.locator("#teach-names textarea, #teach-names input").first.input_value(),
            page.locator(".toast-body").all_inner_texts())

        # samples of "raised": a burst from the live (fake) webcam
        start_live(page, "gesture")
        assert wait_for(lambda: live_counts(page, "gesture")["a"] > 0, 60), "the live view did not start"
        page.locator("#teach-burst").click()
        assert wait_for(lambda: re.search(r"raised\s*:\s*10", page.locator("#teach-counts").inner_text()), 60), \
            (page.locator("#teach-counts").inner_text(), page.locator(".toast-body").all_inner_texts())

        # samples of "reaching" uploaded
        target = page.locator("#teach-target input")
        target.click()
        page.get_by_role("option").filter(has_text="reaching").first.click()
        page.locator("#teach-uploads input[type=file]").set_input_files(uploads)
        page.wait_for_timeout(1500)
        page.locator("#teach-add").click()
        assert wait_for(lambda: re.search(r"reaching\s*:\s*5", page.locator("#teach-counts").inner_text()), 30), \
            page.locator("#teach-counts").inner_text()

        page.locator("#teach-train").click()
        report = wait_for(lambda: (lambda t: "held-out accuracy" in t and t)(
            page.locator("#teach-report").inner_text()), 120)
        assert report, page.locator("#teach-report").inner_text()
        picked = page.locator("#gesture-model-a input").input_value()
        assert "yours, this session only" in picked and "/" not in picked, picked  # its name, never an id or a path

        def labels_of_a():  # the live view's newest result for A names the taught gesture
            latest = page.evaluate("() => window.__playgroundLive.gesture.stats.latest.a")
            text = str(latest or "")
            return latest and latest.get("model", "").startswith("mine:") and "raised" in text and text

        seen = wait_for(labels_of_a, 60)
        page.screenshot(path=str(ARTIFACTS / "browser-gesture-teach.png"), full_page=True)
        assert seen, str(page.evaluate("() => window.__playgroundLive.gesture.stats.latest.a"))[:500]
