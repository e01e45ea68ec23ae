"""ViTPose-B (transformers, from the Hub), top-down: RT-DETR finds each person, ViTPose reads 17 COCO keypoints
in each box. Its pipeline is the pose tab's top-down one, which also runs a visitor's own ViTPose."""
from __future__ import annotations

from tasks import pose
from zoo.registry import register_models
from zoo.specs import HubSource, ModelSpec

HF_FILES = ("config.json", "preprocessor_config.json")

register_models(ModelSpec(
    id="pose/vitpose-base",
    task="pose",
    name="ViTPose-B simple, people found by RT-DETR R18 (transformers)",
    runtime="transformers_pose",
    pipeline=pose.TOP_DOWN,
    source=HubSource("usyd-community/vitpose-base-simple", "model.safetensors", "main", extra_files=HF_FILES),
    detector=pose.PERSON_DETECTOR,
    input_size=(192, 256),
    license="Apache-2.0",
    reference="https://arxiv.org/abs/2204.12484",
    options={"person_label": "person", "max_people": 5},
    note="Top-down: RT-DETR finds each person, ViTPose reads 17 COCO keypoints in each box. "
         "About 430 MB in all; slow on a CPU, made for still images.",
    thresholds=pose.TOP_DOWN_THRESHOLDS,
))
