"""What a first-time visitor reads: each side says what it found and how long it took, the pickers put what
runs now first and say plainly what needs a download, and no internal word reaches the page."""
from __future__ import annotations

import re

import pytest

from playground.pair import predict_pair
from playground.ui import found_text, model_choices, readout
from tasks import TASKS
from zoo.registry import all_specs, offline_available


@pytest.mark.parametrize("task", list(TASKS))
def test_a_still_images_readout_says_what_each_side_found(task, grace):
    a, b = TASKS[task].default_pair
    _, _, payload = predict_pair(task, grace, a, b, {"a": {}, "b": {}})
    for side, model in (("a", a), ("b", b)):
        text = readout(side.upper(), model, payload[side])
        assert re.search(r"· \d+ ms$", text), text
        found = found_text(payload[side]["result"])
        assert found and found in text, text
    if task in ("face", "pose"):
        assert "found 1 " in readout("A", a, payload["a"]), "grace_hopper.jpg shows one face, one person"
    if task == "segmentation":
        assert re.search(r"person: \d+% of the picture", readout("A", a, payload["a"]))


def test_found_text_counts_in_words():
    assert found_text({"faces": [{}, {}, {}]}) == "found 3 faces"
    assert found_text({"hands": []}) == "found no hands"
    assert found_text({"people": [{}]}) == "found 1 person"
    assert found_text({"coverage": {"background": 1.0, "person": 0.0}}) == "found nothing to outline"


@pytest.mark.parametrize("task", list(TASKS))
def test_pickers_list_what_runs_now_first_in_plain_words(task):
    choices = model_choices(task)
    ids = [v for _, v in choices]
    ready = [s.id for s in all_specs(task) if offline_available(s)]
    assert ids[:len(ready)] == ready, "what runs now comes first"
    for label, value in choices:
        assert value not in label and "[" not in label, "the label is the model's name, not its id"
        if value not in ready:
            assert "·" in label and ("download" in label or "not installed" in label), label
