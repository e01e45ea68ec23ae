"""What a first-time visitor reads: each side says what it found and how long it took, the pickers put what
runs now first and say plainly what needs a download, and no internal word reaches the page."""
from __future__ import annotations

import re
from pathlib import Path

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


@pytest.mark.parametrize("task,example", [(t, e) for t in TASKS for e in TASKS[t].examples],
                         ids=lambda v: v if isinstance(v, str) else v.label)
def test_each_example_finds_what_its_caption_promises_with_the_default_pair(task, example):
    from playground.pair import predict_pair
    from playground.ui import control_default, default_pair
    from tasks.base import amount

    pair = default_pair(task)  # with the settings the page starts with
    controls = {k: {c.name: control_default(c, m) for c in TASKS[task].controls} for k, m in zip("ab", pair)}
    _, _, payload = predict_pair(task, example.make(), *pair, controls)
    for side, least in example.at_least.items():
        assert amount(payload[side]["result"]) >= least, (side, payload[side]["result"], example.caption)


def test_every_task_has_examples_or_says_why_not():
    from playground.ui import example_files

    for name, task in TASKS.items():
        assert task.examples or task.no_examples, name
        files = example_files(name)
        assert len(files) == len(task.examples) and all(Path(p).is_file() and c for p, c in files)
        assert all("shared" not in p for p, _ in files)  # made here, from installed packages


INTERNAL = ("the brief", "scripts/setup", "LiteRT", "litert", "onnxruntime", "mine:", "runtime", "pipeline",
            "Traceback", "/work/", "site-packages")


def test_no_internal_word_reaches_the_page(app_url):
    """Every text the page is built from (Gradio's configuration of the launched app: labels, notes, pickers,
    the zoo table) is free of the project's internal words and of server paths."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"{app_url}config", timeout=30) as r:
        config = json.loads(r.read())
    texts = []

    def walk(v):
        if isinstance(v, str):
            texts.append(v)
        elif isinstance(v, dict):
            for k, x in v.items():
                if k not in ("js", "js_on_load", "css", "css_template", "head", "root", "path", "url", "api_prefix",
                             "theme_hash", "stylesheets", "proxy_url", "favicon", "protocol", "component_class_id"):
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk([c.get("props", {}) for c in config["components"]])
    page = "\n".join(texts)
    found = {w: re.search(rf".{{0,60}}{re.escape(w)}.{{0,60}}", page).group(0) for w in INTERNAL if w in page}
    assert not found, found


def test_a_hub_models_picker_entry_says_its_download_size_once_the_hub_told_it(fake_hub, monkeypatch):
    """The pickers' sizes come from the Hub's own file list for the pinned revision (the real huggingface_hub
    code against the local stand-in), asked once and kept; offline, the entry says only that it needs the
    network. Nothing is downloaded by asking."""
    from tests.fakehub import FakeRepo
    from zoo import hub
    from zoo.registry import get_spec

    spec = get_spec("face/yunet")
    payload = b"\0" * 232_589
    fake_hub.add(spec.source.repo_id, FakeRepo({spec.source.filename: payload}, commit=spec.source.revision))
    label = dict((v, k) for k, v in model_choices("face"))[spec.id]
    assert "downloads first from the Hugging Face Hub (needs the network)" in label, label

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub.learn_sizes(list(spec.hub_sources())) == 0 and hub.download_size(spec.source) is None
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert hub.learn_sizes(list(spec.hub_sources())) == 1
    assert hub.download_size(spec.source) == len(payload)
    label = dict((v, k) for k, v in model_choices("face"))[spec.id]
    assert "downloads 233 kB first from the Hugging Face Hub (needs the network)" in label, label
    assert hub.learn_sizes(list(spec.hub_sources())) == 0, "asked once, then kept"
    assert fake_hub.downloads(spec.source.filename) == 0 and not offline_available(spec)
