"""transformers on CPU: safetensors weights only, never remote code; the image processor and the model
run here, the task's post-processing turns their outputs into results."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import RefusedModelError
from zoo.runtimes import threads_per_model
from zoo.specs import ModelSpec

# spec.options["head"] -> the transformers auto class that builds it
HEADS = {
    "semantic_segmentation": "AutoModelForSemanticSegmentation",
    "image_classification": "AutoModelForImageClassification",
    "object_detection": "AutoModelForObjectDetection",
    "base": "AutoModel",  # embeddings (the gesture lab's backbone)
}
_torch_lock = threading.Lock()


def check_config(folder: Path) -> dict:
    cfg_path = folder / "config.json"
    if not cfg_path.is_file():
        raise RefusedModelError(f"{folder.name}: no config.json, not a transformers model")
    cfg = json.loads(cfg_path.read_text())
    if cfg.get("auto_map"):
        raise RefusedModelError("this model needs custom code (trust_remote_code), which the playground never runs")
    if not any(folder.glob("*.safetensors")):
        raise RefusedModelError("this model has no safetensors weights (pickled weights are never loaded)")
    return cfg


def load_pretrained(folder: Path, head: str) -> tuple[Any, Any]:
    """The one way the playground loads a transformers model: config checked, safetensors only, no remote
    code, PIL image processor, torch limited to its share of the cores. Returns (processor, model)."""
    import torch
    import transformers

    with _torch_lock:
        torch.set_num_threads(threads_per_model())
    check_config(folder)
    processor = transformers.AutoImageProcessor.from_pretrained(folder, use_fast=False)
    model = getattr(transformers, HEADS[head]).from_pretrained(folder, use_safetensors=True,
                                                               trust_remote_code=False).eval()
    return processor, model


class TransformersRunner:
    def __init__(self, folder: Path, head: str):
        import torch

        self.processor, self.model = load_pretrained(folder, head)
        self.labels = tuple(self.model.config.id2label[i] for i in sorted(self.model.config.id2label))
        # DETR-style detectors score with a softmax over classes + "no object"; RT-DETR-style with sigmoids
        self.activation = "sigmoid" if getattr(self.model.config, "use_focal_loss", False) else "softmax"
        self._torch = torch

    def __call__(self, rgb: np.ndarray) -> dict[str, Any]:
        inputs = self.processor(images=rgb, return_tensors="pt")
        with self._torch.inference_mode():
            out = self.model(**inputs)
        raw = {k: v.float().numpy() for k, v in out.items() if hasattr(v, "numpy")}
        raw["labels"] = self.labels
        raw["activation"] = self.activation
        raw["input_hw"] = tuple(inputs["pixel_values"].shape[-2:])
        return raw


def load(spec: ModelSpec, path: Path | None) -> TransformersRunner:
    if path is None:
        raise RuntimeError(f"{spec.id}: model files not found")
    folder = path if path.is_dir() else path.parent
    return TransformersRunner(folder, spec.options.get("head", "semantic_segmentation"))
