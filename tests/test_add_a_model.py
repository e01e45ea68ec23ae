"""The README's "Add a model" recipe, run as written: its block becomes a module of its own, served by the
fake Hub, and the model it registers runs through the CLI and the A/B API beside a bundled model."""
from __future__ import annotations

import importlib.util
import io
import json
import re
import sys
from contextlib import redirect_stdout

import numpy as np
import pytest

from tests.conftest import REPO
from tests.fakehub import FakeRepo
from tests.tinymodels import onnx_constant_model

# two faces in input pixels (64x64), one of them twice (NMS keeps one), and one under the floor
BOXES = np.array([[[8, 8, 24, 28], [9, 8, 25, 28], [36, 30, 56, 54], [0, 0, 4, 4]]], np.float32)
SCORES = np.array([[0.9, 0.8, 0.6, 0.01]], np.float32)


def recipe() -> str:
    text = (REPO / "README.md").read_text()
    block = re.search(r"<!-- add-a-model:start -->\s*```python\n(.*?)```\s*<!-- add-a-model:end -->", text, re.S)
    assert block, "README.md has no add-a-model block"
    return block[1]


@pytest.fixture
def tiny_faces(tmp_path, fake_hub):
    from zoo.registry import get_spec, unregister_models

    code = recipe()
    path = tmp_path / "tiny_faces.py"
    path.write_text(code)
    spec = importlib.util.spec_from_file_location("tiny_faces_recipe", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)  # registers face/tiny-faces
    entry = get_spec("face/tiny-faces")
    fake_hub.add(entry.source.repo_id, FakeRepo(
        {entry.source.filename: onnx_constant_model({"image": ([1, 3, 64, 64], 1)},
                                                    {"boxes": BOXES, "scores": SCORES})},
        commit=entry.source.revision))
    yield entry, len(code.strip().splitlines())
    unregister_models("face/tiny-faces")
    sys.modules.pop(spec.name, None)


def test_the_readme_recipe_adds_a_model_that_runs_in_the_cli_and_the_ab_api(tiny_faces, grace, tmp_path):
    from models import check_registry
    from playground.cli import main
    from playground.pair import predict_pair
    from zoo.cache import MODELS

    entry, lines = tiny_faces
    check_registry()  # the new entry passes the same checks as every other
    from zoo.images import save_image

    image = tmp_path / "grace.png"
    save_image(image, grace)
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["run", "face/tiny-faces", str(image)]) == 0
    faces = json.loads(out.getvalue().splitlines()[0])["result"]["faces"]
    assert len(faces) == 2  # the duplicate suppressed (NMS 0.3), the hit under the floor never decoded
    h, w = grace.shape[:2]
    scale = max(w, h) / 64  # letterboxed into 64x64: input pixels -> frame pixels
    assert np.allclose(faces[0]["box"], np.clip(BOXES[0, 0] * scale, 0, [w, h, w, h]), atol=0.02)
    try:
        _, _, payload = predict_pair("face", grace, "face/tiny-faces", "face/blazeface-short")
    finally:
        MODELS.clear()
    assert payload["a"]["model"] == "face/tiny-faces" and len(payload["a"]["result"]["faces"]) == 2
    assert payload["b"]["result"]["faces"] and payload["agreement"]["summary"]
    assert lines < 50  # the whole model: data, thresholds, pre/post-processing
