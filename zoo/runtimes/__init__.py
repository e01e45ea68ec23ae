"""Runtime adapters: they load a model file and run it. Nothing else.

A runtime is a function ``load(spec, path) -> Runner`` registered under a name with
:func:`register_runtime` (as timm's ``@register_model``), together with the option keys it reads; a spec
picks one by its ``runtime`` field. The zoo's own runtimes register here; a runtime that needs task code
(a trained gesture head: MediaPipe hands, then the head) is registered by its task module.
"""
from __future__ import annotations

from zoo.runtimes.base import RUNTIMES, Runner, Runtime, register_runtime, runtime, threads_per_model  # noqa: F401

# The zoo's own runtimes (each imports its heavy library only when a model loads).
from zoo.runtimes import litert_rt, mediapipe_rt, onnx_rt, opencv_rt, transformers_rt  # noqa: E402,F401
