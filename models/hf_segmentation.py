"""Semantic segmentation from transformers (from the Hub): DeepLabV3 MobileNetV2 (PASCAL VOC) and SegFormer-B0
(ADE20K). Their pipeline is the segmentation tab's transformers one, which also runs a visitor's own model."""
from __future__ import annotations

from tasks import segmentation
from zoo.registry import register_models
from zoo.specs import HubSource, ModelSpec, Thresholds

HF_FILES = ("config.json", "preprocessor_config.json")
ARGMAX = Thresholds(0.5, source="argmax over the classes (transformers' pipeline)")

register_models(
    ModelSpec(
        id="segmentation/deeplabv3-mobilenetv2",
        task="segmentation",
        name="DeepLabV3 MobileNetV2 (PASCAL VOC, transformers)",
        runtime="transformers",
        pipeline=segmentation.HF_SEGMENTATION,
        source=HubSource("Matthijs/deeplabv3_mobilenet_v2_1.0_513", "model.safetensors",
                         "bc557030fd6410788ecc7de5d5b3e607eba2d587", revision_is_commit=True, extra_files=HF_FILES),
        input_size=(513, 513),
        license="other (see the model card)",
        reference="https://arxiv.org/abs/1706.05587",
        options={"head": "semantic_segmentation"},
        note=("The checkpoint of google/deeplabv3_mobilenet_v2_1.0_513, which holds only a pickle "
              "(pytorch_model.bin); this repo has the same weights as safetensors."),
        thresholds=ARGMAX,
    ),
    ModelSpec(
        id="segmentation/segformer-b0-ade",
        task="segmentation",
        name="SegFormer-B0 (ADE20K, 150 classes, transformers)",
        runtime="transformers",
        pipeline=segmentation.HF_SEGMENTATION,
        source=HubSource("nvidia/segformer-b0-finetuned-ade-512-512", "model.safetensors", "main",
                         extra_files=HF_FILES),
        input_size=(512, 512),
        license="other (NVIDIA Source Code License)",
        reference="https://arxiv.org/abs/2105.15203",
        options={"head": "semantic_segmentation"},
        thresholds=ARGMAX,
    ),
)
