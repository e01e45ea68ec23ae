"""transformers on CPU: safetensors weights only, never remote code; the image processor and the model
run here, the task's post-processing turns their outputs into results."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import RefusedModelError
from zoo.runtimes.base import register_runtime, threads_per_model
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


@register_runtime("transformers", options=("head",), requires=("torch", "transformers"))
def load(spec: ModelSpec, path: Path | None) -> TransformersRunner:
    if path is None:
        raise RuntimeError(f"{spec.id}: model files not found")
    folder = path if path.is_dir() else path.parent
    return TransformersRunner(folder, spec.options.get("head", "semantic_segmentation"))


# Pose models a keypoint-detection repo may hold; loaded by class name from this list only.
POSE_CLASSES = ("VitPoseForPoseEstimation",)


class DetectThenPose:
    """Two transformers models in turn: an object detector finds people, a top-down pose model (ViTPose)
    reads each person's box. Both processors and models run here; the pose task maps the output."""

    def __init__(self, pose_folder: Path, detector_folder: Path, options: dict, min_score: float):
        import torch
        import transformers

        self.det_processor, self.detector = load_pretrained(detector_folder, "object_detection")
        cfg = check_config(pose_folder)
        arch = next((a for a in cfg.get("architectures") or () if a in POSE_CLASSES), None)
        if arch is None:
            raise RefusedModelError(f"{pose_folder.name}: not a pose model the playground knows "
                                    f"({', '.join(POSE_CLASSES)})")
        self.pose_processor = transformers.AutoImageProcessor.from_pretrained(pose_folder, use_fast=False)
        self.pose = getattr(transformers, arch).from_pretrained(pose_folder, use_safetensors=True,
                                                               trust_remote_code=False).eval()
        wanted = str(options.get("person_label", "person")).lower()
        self.person_ids = {i for i, name in self.detector.config.id2label.items() if str(name).lower() == wanted}
        if not self.person_ids:
            raise RefusedModelError(f"{detector_folder.name}: the detector has no '{wanted}' class")
        self.min_score = float(min_score)
        self.max_people = int(options.get("max_people", 5))
        self._torch = torch

    def __call__(self, rgb: np.ndarray) -> dict[str, np.ndarray]:
        h, w = rgb.shape[:2]
        with self._torch.inference_mode():
            found = self.det_processor.post_process_object_detection(
                self.detector(**self.det_processor(images=rgb, return_tensors="pt")),
                target_sizes=[(h, w)], threshold=self.min_score)[0]
            labels, scores, boxes = (found[k].float().numpy() for k in ("labels", "scores", "boxes"))
            keep = [i for i in np.argsort(-scores) if int(labels[i]) in self.person_ids][: self.max_people]
            boxes, scores = boxes[keep].reshape(-1, 4), scores[keep]
            if len(boxes) == 0:
                return {"boxes": boxes, "box_scores": scores, "keypoints": np.zeros((0, 0, 2), np.float32),
                        "scores": np.zeros((0, 0), np.float32)}
            xywh = np.hstack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]])
            out = self.pose(**self.pose_processor(rgb, boxes=[xywh], return_tensors="pt"))
            people = self.pose_processor.post_process_pose_estimation(out, boxes=[xywh])[0]
        return {"boxes": boxes, "box_scores": scores,
                "keypoints": np.stack([p["keypoints"].float().numpy() for p in people]),
                "scores": np.stack([p["scores"].float().numpy() for p in people])}


@register_runtime("transformers_pose", options=("person_label", "max_people"),
                  requires=("torch", "transformers"))
def load_detect_then_pose(spec: ModelSpec, path: Any) -> DetectThenPose:
    """``path`` is (pose model file, detector file): the spec names its detector (see zoo.cache.load)."""
    if not isinstance(path, tuple) or None in path:
        raise RuntimeError(f"{spec.id}: needs a pose model and a person detector")
    pose, det = (p if p.is_dir() else p.parent for p in path)
    return DetectThenPose(pose, det, dict(spec.options), min_score=spec.thresholds.floor)
