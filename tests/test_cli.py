"""`python -m zoo` as other tools call it: a subprocess, its stdout, its exit status."""
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO
from zoo.images import sample_image_path


def zoo(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "zoo", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def test_list_json_has_every_entry_and_the_contract_keys():
    p = zoo("list", "--json")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    from zoo.registry import all_specs

    assert [r["id"] for r in rows] == [s.id for s in all_specs()]
    for r in rows:
        assert {"id", "task", "runtime", "source", "offline"} <= set(r)
        assert isinstance(r["offline"], bool)
    assert all(r["offline"] for r in rows if r["source"].startswith(("mediapipe:", "cv2:")))


def test_list_filters_by_task():
    rows = json.loads(zoo("list", "--task", "pose", "--json").stdout)
    assert rows and {r["task"] for r in rows} == {"pose"}


def test_run_prints_one_json_line_per_image_and_annotates(tmp_path):
    img = str(sample_image_path())
    p = zoo("run", "segmentation/selfie-general", img, img, "--annotate", str(tmp_path))
    assert p.returncode == 0, p.stderr
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    assert len(lines) == 2
    for line in lines:
        assert set(line) == {"model", "image", "width", "height", "latency_ms", "result"}
        assert (line["width"], line["height"]) == (512, 600)
        assert set(line["result"]) == {"labels", "coverage"}
    annotated = tmp_path / "grace_hopper.segmentation_selfie-general.png"
    mask = tmp_path / "grace_hopper.segmentation_selfie-general.mask.png"
    assert annotated.is_file() and mask.is_file()
    m = np.asarray(Image.open(mask))
    assert m.shape == (600, 512) and set(np.unique(m)) == {0, 1}


@pytest.mark.parametrize("model,key", [("face/blazeface-short", "faces"), ("hands/mediapipe-lite", "hands"),
                                       ("pose/blazepose-full", "people"), ("gesture/rules-lite", "hands")])
def test_run_result_schema(model, key):
    p = zoo("run", model, str(sample_image_path()))
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout)["result"]
    assert list(result) == [key]
    if key == "faces":
        f = result["faces"][0]
        assert set(f) >= {"box", "score", "keypoints", "track_id"} and len(f["box"]) == 4
    if key == "people":
        kp = result["people"][0]["keypoints"][0]
        assert set(kp) == {"name", "x", "y", "score"} and kp["name"] == "nose"


def test_unknown_model_exits_2_with_the_closest_ids():
    p = zoo("run", "face/blazefase", str(sample_image_path()))
    assert p.returncode == 2
    assert "unknown model 'face/blazefase'" in p.stderr and "face/blazeface-short" in p.stderr
    assert "Traceback" not in p.stderr


def test_bad_files_are_reported_and_the_rest_still_run(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not an image")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    good = str(sample_image_path())
    p = zoo("run", "face/haar-frontal", str(bad), good, str(empty), str(tmp_path / "missing.png"))
    assert p.returncode == 1
    assert len(p.stdout.splitlines()) == 1 and json.loads(p.stdout)["image"] == good
    errors = [l for l in p.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 3
    assert "Traceback" not in p.stderr


def test_bench_reports_latency_figures():
    p = zoo("bench", "face/blazeface-short", "--size", "320x240", "--runs", "5", "--json")
    assert p.returncode == 0, p.stderr
    (row,) = json.loads(p.stdout)
    assert row["model"] == "face/blazeface-short" and (row["width"], row["height"]) == (320, 240)
    assert 0 < row["p50_ms"] <= row["p95_ms"] and row["fps"] > 0 and row["load_s"] >= 0


@pytest.mark.parametrize("command", [["app.py"], ["-m", "zoo"], ["-m", "playground.serving"], ["-m", "bench.soak"],
                                     ["-m", "bench.attacks"], ["-m", "bench.outputs"], ["-m", "bench.stream_bench"],
                                     ["-m", "bench.ray_hop"], ["-m", "bench.parity"], ["-m", "bench.smoke"],
                                     ["-m", "bench.device_load"], ["-m", "bench.hostile"]])
def test_every_command_line_answers_help_and_writes_nothing(command, tmp_path):
    """Each command parses its arguments (argparse): --help prints usage and exits 0, and no file named
    after an argument appears (bench.outputs once wrote its output to a file called --help)."""
    env = {**__import__("os").environ, "PYTHONPATH": str(REPO)}
    target = [str(REPO / command[0])] if command[0].endswith(".py") else command
    p = subprocess.run([sys.executable, *target, "--help"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300, env=env)
    assert p.returncode == 0 and "usage:" in p.stdout, (p.returncode, p.stdout[-300:], p.stderr[-500:])
    assert list(tmp_path.iterdir()) == []
