"""onnxruntime: one session per model, created once; graph optimisation on, threads shared between A and B."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zoo.runtimes.base import Cascade, register_runtime, threads_per_model
from zoo.specs import ModelSpec


class OnnxRunner:
    def __init__(self, path: Path):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads_per_model()
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        self.inputs = [(i.name, i.shape, i.type) for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, feeds: Any) -> dict[str, np.ndarray]:
        if not isinstance(feeds, dict):  # one array for the one input
            feeds = {self.inputs[0][0]: feeds}
        # InferenceSession.run is thread-safe: two streams may share one session.
        return dict(zip(self.output_names, self.session.run(self.output_names, feeds)))


@register_runtime("onnxruntime")
def load(spec: ModelSpec, path: Path | None) -> OnnxRunner:
    if path is None:
        raise RuntimeError(f"{spec.id}: model file not found")
    return OnnxRunner(path)


@register_runtime("onnx_cascade")  # detector + landmark model: MediaPipe's two-stage models as OpenCV Zoo exports them
def load_cascade(spec: ModelSpec, path: Path | None) -> Cascade:
    """The main file is the detector; the landmark model is the entry's first extra file, fetched beside it
    (same repo, same revision)."""
    if path is None:
        raise RuntimeError(f"{spec.id}: model file not found")
    from zoo.hub import sibling

    extra = getattr(spec.source, "extra_files", ())
    if not extra:
        raise RuntimeError(f"{spec.id}: a cascade needs its landmark model as an extra file")
    return Cascade(OnnxRunner(path), OnnxRunner(sibling(path, spec.source.filename, extra[0])))
