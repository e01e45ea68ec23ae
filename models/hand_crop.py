"""An image classifier on each hand crop (the gesture tab's "bring your own" kind, and the Teach panel's image
backbone): MobileNetV2 with its ImageNet labels, from the Hub."""
from __future__ import annotations

from tasks import gesture
from zoo.registry import register_models
from zoo.specs import HubSource, ModelSpec, Thresholds

register_models(ModelSpec(
    id="gesture/mobilenet-v2-imagenet",
    task="gesture",
    name="MobileNetV2 on each hand crop (ImageNet labels; the Teach panel's image backbone)",
    runtime="hand_crop_classifier",
    pipeline=gesture.HAND_CROP,
    source=HubSource("google/mobilenet_v2_1.0_224", "model.safetensors",
                     "f4a07ccfbe6c27cf60bcb36382f58a0de1cd095f", revision_is_commit=True,
                     extra_files=("config.json", "preprocessor_config.json")),
    input_size=(224, 224),
    license="other (see the model card)",
    reference="https://arxiv.org/abs/1801.04381",
    note="An ImageNet classifier, not a gesture model: its labels are objects. The Teach panel trains a "
         "gesture head on its embeddings.",
    thresholds=Thresholds(0.1, source="the playground's: an ImageNet class on a hand crop, shown from 10%"),
))
