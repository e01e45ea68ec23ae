"""Semantic segmentation: a class label per pixel, the label list and per-class coverage."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from tasks.base import Control, Example, Options, Pipeline, TaskDef, register_task
from tasks.draw import Canvas, palette_rgb
from zoo.byo import HubCard
from zoo.images import load_image, sample_image_path
from zoo.specs import ModelSpec

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True, eq=False)
class SegmentationResult:
    """``label_map[y, x]`` indexes ``labels``; index 0 is the background when ``foreground`` is given.

    ``foreground`` (optional, HxW float in [0, 1]) is the probability that a pixel is not background and
    ``classes`` (HxW) the most likely non-background class there; with them the mask threshold can be
    moved without running the model again.
    """

    label_map: np.ndarray
    labels: tuple[str, ...]
    foreground: np.ndarray | None = None
    classes: np.ndarray | None = None
    threshold: float = DEFAULT_THRESHOLD
    _coverage: dict = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        lm = np.asarray(self.label_map)
        if lm.ndim != 2:
            raise ValueError(f"label map must be 2-D, got shape {lm.shape}")
        if not self.labels:
            raise ValueError("segmentation needs at least one label")
        if lm.size and (lm.min() < 0 or lm.max() >= len(self.labels)):
            raise ValueError("label map has indices outside the label list")
        object.__setattr__(self, "label_map", lm.astype(np.uint8 if len(self.labels) <= 256 else np.int32, copy=False))
        object.__setattr__(self, "labels", tuple(self.labels))
        for name in ("foreground", "classes"):
            v = getattr(self, name)
            if v is not None and np.shape(v) != lm.shape:
                raise ValueError(f"{name} must have the label map's shape")

    @classmethod
    def empty(cls, height: int = 0, width: int = 0, labels: tuple[str, ...] = ("background",)) -> "SegmentationResult":
        return cls(np.zeros((height, width), dtype=np.uint8), labels)

    @classmethod
    def from_foreground(cls, prob: np.ndarray, labels: tuple[str, ...], classes: np.ndarray | None = None,
                        threshold: float = DEFAULT_THRESHOLD) -> "SegmentationResult":
        prob = np.clip(np.asarray(prob, dtype=np.float32), 0.0, 1.0)
        cls_map = np.ones(prob.shape, dtype=np.uint8) if classes is None else np.asarray(classes)
        label_map = np.where(prob >= threshold, cls_map, 0)
        return cls(label_map, labels, foreground=prob, classes=cls_map, threshold=threshold)

    @property
    def shape(self) -> tuple[int, int]:
        return self.label_map.shape

    @property
    def coverage(self) -> dict[str, float]:
        if self._coverage is None:
            counts = np.bincount(self.label_map.ravel(), minlength=len(self.labels)) if self.label_map.size else \
                np.zeros(len(self.labels))
            total = max(1, self.label_map.size)
            # every label, 0.0 included: the schema does not change with the picture
            object.__setattr__(self, "_coverage", {
                lab: round(float(c) / total, 4) for lab, c in zip(self.labels, counts)})
        return self._coverage

    def foreground_mask(self) -> np.ndarray:
        """Pixels not labelled as the background; for a label set with no background (ADE20K's 150
        classes) the people, so that a person segmenter and a scene parser can be compared."""
        if "background" in self.labels:
            return self.label_map != self.labels.index("background")
        if "person" in self.labels:
            return self.label_map == self.labels.index("person")
        return np.ones(self.label_map.shape, dtype=bool)

    def filter(self, min_score: float | None = None, max_results: int | None = None) -> "SegmentationResult":
        if min_score is None or self.foreground is None or min_score == self.threshold:
            return self
        return replace(self, label_map=np.where(self.foreground >= min_score, self.classes, 0),
                       threshold=float(min_score), _coverage=None)

    def flipped(self, width: int) -> "SegmentationResult":
        def flip(a):
            return None if a is None else cv2.flip(np.ascontiguousarray(a), 1)

        return replace(self, label_map=flip(self.label_map), foreground=flip(self.foreground),
                       classes=flip(self.classes), _coverage=None)

    def to_json(self) -> dict[str, Any]:
        return {"labels": list(self.labels), "coverage": self.coverage}


def softmax(logits: np.ndarray, axis: int = 0) -> np.ndarray:
    z = np.asarray(logits, np.float32)
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


# --- transformers semantic segmentation (SegFormer, DeepLabV3-MobileNetV2, ...) --------------------
def logits_to_result(logits: np.ndarray, labels: tuple[str, ...], hw: tuple[int, int]) -> SegmentationResult:
    """(1, C, h, w) class logits -> per-pixel labels at frame size. With a background class (index 0 named
    "background"), keep its probability so the mask threshold can move; otherwise plain argmax."""
    h, w = hw
    lg = np.asarray(logits, np.float32)[0]
    up = np.stack([cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR) for c in lg])
    labels = tuple(labels)
    if labels and labels[0].lower() in ("background", "__background__"):
        prob = softmax(up)
        classes = prob[1:].argmax(axis=0) + 1
        return SegmentationResult.from_foreground(1.0 - prob[0], ("background",) + labels[1:], classes=classes)
    return SegmentationResult(up.argmax(axis=0), labels)


def hf_segmentation_post(raw: dict, hw: tuple[int, int], spec: ModelSpec) -> SegmentationResult:
    return logits_to_result(raw["logits"], raw["labels"], hw)




# a transformers semantic segmentation model (SegFormer, DeepLabV3, a visitor's own): class logits
HF_SEGMENTATION = Pipeline(postprocess=hf_segmentation_post)


def color_of(index: int, label: str) -> tuple[int, int, int]:
    return (0, 0, 0) if label == "background" else palette_rgb(index)


def colorize(result: SegmentationResult) -> np.ndarray:
    lut = np.array([color_of(i, lab) for i, lab in enumerate(result.labels)], dtype=np.uint8)
    return lut[result.label_map]


def draw(canvas: Canvas, result: SegmentationResult, opacity: float = 0.5, **_: Any) -> None:
    canvas.mask(colorize(result), result.foreground_mask(), opacity)
    present = sorted(result.coverage.items(), key=lambda kv: -kv[1])[:8]
    canvas.legend([(f"{lab} {frac:.0%}", color_of(result.labels.index(lab), lab)) for lab, frac in present
                   if lab != "background" and frac > 0])


def agreement(a: SegmentationResult, b: SegmentationResult) -> dict[str, Any]:
    ma, mb = a.foreground_mask(), b.foreground_mask()
    if ma.shape != mb.shape:
        raise ValueError("the two masks come from different frames")
    fa, fb = int(ma.sum()), int(mb.sum())
    share_a = round(float(ma.mean()), 4) if ma.size else 0.0
    share_b = round(float(mb.mean()), 4) if mb.size else 0.0
    if not (fa and fb):
        if not (fa or fb):
            score, summary = None, "nothing to compare: neither A nor B found any foreground"
        else:
            side, other, share = ("A", "B", share_a) if fa else ("B", "A", share_b)
            score, summary = 0.0, f"{side} found foreground ({share:.0%} of the picture), {other} found none"
        return {"score": score, "foreground_iou": None, "foreground_a": share_a, "foreground_b": share_b,
                "summary": summary}
    union = int(np.logical_or(ma, mb).sum())
    iou = float(np.logical_and(ma, mb).sum() / union)
    return {
        "score": round(iou, 3),
        "foreground_iou": round(iou, 3),
        "foreground_a": share_a,
        "foreground_b": share_b,
        "summary": f"foreground masks overlap {iou:.0%} (intersection over union)",
    }


def hub_model(card: HubCard) -> ModelSpec:
    """Bring your own: a semantic segmentation model."""
    if card.pipeline_tag != "image-segmentation":
        raise card.refuse(f"is tagged '{card.pipeline_tag or 'no task'}'; this tab needs {TASK.hub_hint}")
    archs = " ".join(card.architectures)
    if archs and "ForSemanticSegmentation" not in archs:
        raise card.refuse(f"is an instance/panoptic segmentation model ({archs}); the segmentation tab takes "
                          "semantic segmentation models")
    return card.spec(task="segmentation", pipeline=HF_SEGMENTATION,
                     options={"head": "semantic_segmentation"})


@dataclass(frozen=True)
class SegmentationOptions(Options):
    """A side's settings here: the mask threshold (``min_score``) and how opaque the drawn mask is."""

    opacity: float | None = None


TASK = register_task(TaskDef(
    name="segmentation",
    title="Semantic segmentation",
    result_type=SegmentationResult,
    draw=draw,
    agreement=agreement,
    default_pair=("segmentation/selfie-general", "segmentation/selfie-landscape"),
    trackable=False,
    hub_hint="image-segmentation, semantic",
    hub_model=hub_model,
    controls=(
        Control("min_score", "Mask threshold", 0.05, 0.95, DEFAULT_THRESHOLD, 0.05),
        Control("opacity", "Mask opacity", 0.0, 1.0, 0.5, 0.05),
    ),
    options=SegmentationOptions,
    description=("Every pixel gets a class (person or background for the built-in models): the coloured "
                 "mask is what the model would cut out, and the numbers say how much of the picture each "
                 "class covers."),
    examples=(
        Example("A person to cut out", "the sample portrait: both cut out the person, more than 40% of the "
                "picture", lambda: load_image(sample_image_path()), {"a": 0.4, "b": 0.4}),
    ),
))
