"""A sixth task, added by this one module: its result type, pipeline, drawing, agreement, runtime and model
registered here reach the engine, the A/B pair, the CLI and a tab of the app without touching other code."""
from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from dataclasses import dataclass

import pytest

from tasks.base import Pipeline, TaskDef, check_spec, register_task, unregister_task
from zoo.registry import register_models, unregister_models
from zoo.runtimes.base import RUNTIMES, register_runtime
from zoo.specs import BundledSource, ModelSpec


@dataclass(frozen=True)
class Brightness:
    """The toy task's result: how bright the picture is, 0..1."""

    value: float

    def to_json(self):
        return {"brightness": round(self.value, 4)}


def _runner(spec, path):
    return lambda gray: float(gray.mean())  # a "model" that needs no file


TOY = TaskDef(
    name="toy", title="Toy brightness", result_type=Brightness,
    draw=lambda canvas, result, **_: None, agreement=lambda a, b: {"score": 1.0 - abs(a.value - b.value),
                                                                   "summary": "brightness"},
    default_pair=("toy/plain", "toy/double"), description="How bright the frame is.")
MEAN = Pipeline(lambda rgb, spec: (rgb.mean(axis=2) / 255.0, None),
                lambda raw, meta, spec: Brightness(raw * spec.options["gain"]), options=("gain",))
SPECS = [ModelSpec(id=f"toy/{name}", task="toy", name=f"{name} brightness", runtime="toy_mean", pipeline=MEAN,
                   source=BundledSource("numpy", ""), input_size=None, license="MIT",
                   reference="https://example.org/toy", options={"gain": gain})
         for name, gain in (("plain", 1.0), ("double", 2.0))]


@pytest.fixture
def toy():
    register_runtime("toy_mean")(_runner)
    register_task(TOY)
    register_models(*SPECS)
    yield
    unregister_models(*(s.id for s in SPECS))
    unregister_task("toy")
    RUNTIMES.pop("toy_mean", None)


def test_a_toy_task_runs_everywhere_from_its_one_module(toy, grace):
    import gradio as gr

    from playground.cli import main
    from playground.engine import predict
    from playground.pair import predict_pair
    from playground.ui import build_task_tab, default_pair

    for spec in SPECS:
        check_spec(spec)
    assert predict("toy/double", grace).result.value == pytest.approx(2 * grace.mean() / 255, rel=1e-4)
    a, b, payload = predict_pair("toy", grace, *default_pair("toy"))
    assert payload["agreement"]["score"] < 1.0 and payload["b"]["result"]["brightness"] > 0
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["list", "--task", "toy", "--json"]) == 0
    assert [r["id"] for r in json.loads(out.getvalue())] == ["toy/plain", "toy/double"]
    with gr.Blocks() as demo:
        build_task_tab("toy")
    assert any(getattr(d, "api_name", None) == "toy" for d in demo.fns.values())


def test_a_bad_entry_fails_loudly(toy):
    from dataclasses import replace

    with pytest.raises(ValueError, match="option\\(s\\) gian are read by neither"):
        check_spec(replace(SPECS[0], options={"gian": 1.0}))
    with pytest.raises(ValueError, match="its pipeline is str, not a tasks.base.Pipeline"):
        check_spec(replace(SPECS[0], pipeline="median"))
    with pytest.raises(ValueError, match="unknown runtime"):
        check_spec(replace(SPECS[0], runtime="toy_median"))
