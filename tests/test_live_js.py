"""The live view's pure parts (playground/static/live_readouts.js, live_draw.js), run by Node with no
browser: the agreement line is steady on a still subject, says "nothing to compare" rather than 100%, and
shows the newest frame's own value on hover; a side's settings apply to answers made in the page as the
server applies them."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import REPO

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def run_js(body: str):
    """``body`` run after the view's scripts are loaded into a bare ``window``; prints one JSON value."""
    scripts = [REPO / "playground" / "static" / n for n in ("live_readouts.js", "live_draw.js")]
    code = "const window = {};\n" + "\n".join(p.read_text() for p in scripts) + \
        "\nconst PL = window.PlaygroundLive;\n" + body
    out = subprocess.run([NODE, "-e", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_agreement_line_is_steady_and_shows_each_frame_on_hover():
    got = run_js("""
const s = new PL.SteadyAgreement(4);
const lines = [];
for (const score of [0.9, 0.5, 0.9, 0.5]) { s.add({score, summary: "1 of 1 people matched"}); lines.push(s.text()); }
const title = s.title();
s.add({score: null, summary: "nothing to compare: neither A nor B found any people"});
lines.push(s.text());
console.log(JSON.stringify({lines, title}));
""")
    lines, title = got["lines"], got["title"]
    assert lines[0].startswith("Agreement of A and B: 90%")
    assert lines[3].startswith("Agreement of A and B: 70% (over the last 4 frames)")  # not jumping 90/50/90/50
    assert title.startswith("This frame alone: 50%")
    assert lines[4] == "Agreement of A and B: — nothing to compare: neither A nor B found any people"


def test_same_frame_agreement_in_the_page_matches_boxes_and_never_says_100_for_nothing():
    got = run_js("""
const f = new PL.SameFrame();
const a = [{box: [0, 0, 10, 10]}, {box: [20, 20, 30, 30]}];
const none = f.note("a", 7, []);
const wait = f.note("a", 8, a);
const both = f.note("b", 8, [{box: [0, 0, 10, 12]}]);
const empty = PL.boxAgreement([], [], 9);
console.log(JSON.stringify({none: none === undefined, wait: wait === undefined, both, empty}));
""")
    assert got["none"] and got["wait"]  # the other side has not answered those frames yet
    assert got["both"]["frame"] == 8 and 0 < got["both"]["score"] < 0.5  # 1 of 2 matched, overlap 10/12
    assert got["empty"]["score"] is None and got["empty"]["summary"].startswith("nothing to compare")


def test_a_sides_settings_apply_to_answers_made_in_the_page_as_on_the_server():
    got = run_js("""
const items = [{score: 0.4}, {score: 0.9}, {score: 0.7}];
const gestures = [{score: 0.9, gesture: {label: "Victory", score: 0.3}}];
console.log(JSON.stringify({
  kept: PL.applyControls(items, {min_score: 0.5, max_results: 1}).map((f) => f.score),
  all: PL.applyControls(items, {}).map((f) => f.score),
  gesture: PL.applyControls(gestures, {min_score: 0.5})[0].gesture,
}));
""")
    assert got["kept"] == [0.9] and got["all"] == [0.9, 0.7, 0.4]
    assert got["gesture"]["label"] == "None"  # under the threshold a hand reads "None", as GestureResult.filter
