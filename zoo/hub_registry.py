"""Hub entries: real repos, real file names, pinned revisions.

A revision is a commit hash where one was verified (``revision_is_commit=True``); otherwise the tag or
branch is recorded as such, and ``python -m zoo lock`` (run where the Hub is reachable) resolves every
entry to the commit it points at now and writes it back here.
"""
from __future__ import annotations

from zoo.specs import HubSource, ModelSpec

_HF_SEG_FILES = ("config.json", "preprocessor_config.json")

HUB: tuple[ModelSpec, ...] = (
    ModelSpec(
        id="face/yunet",
        task="face",
        name="YuNet (OpenCV Zoo, 2023mar)",
        runtime="onnxruntime",
        decoder="yunet",
        source=HubSource("opencv/face_detection_yunet", "face_detection_yunet_2023mar.onnx", "main"),
        input_size=(640, 640),
        license="MIT",
        reference="https://doi.org/10.1007/s11633-023-1423-y",
        note="Five keypoints: eyes, nose tip, mouth corners.",
    ),
    ModelSpec(
        id="pose/posenet-mobilenet",
        task="pose",
        name="PoseNet MobileNet (Qualcomm AI Hub, single pose)",
        runtime="onnxruntime",
        decoder="posenet",
        source=HubSource("qualcomm/Posenet-Mobilenet", "Posenet-Mobilenet.onnx",
                         "2fd0c588aad92dffd796c8c70b4d5ff29679fc87", revision_is_commit=True),
        input_size=(257, 513),
        license="Apache-2.0",
        reference="https://arxiv.org/abs/1803.08225",
        note="Decoded as one person: each keypoint at its heatmap's peak plus its short offset.",
    ),
    ModelSpec(
        id="pose/movenet-lightning",
        task="pose",
        name="MoveNet SinglePose Lightning (ONNX)",
        runtime="onnxruntime",
        decoder="movenet",
        source=HubSource("Xenova/movenet-singlepose-lightning", "onnx/model.onnx",
                         "1baf53634ad1a1b18749fd8ae205e6265c6077af", revision_is_commit=True),
        input_size=(192, 192),
        license="Apache-2.0",
        reference="https://www.tensorflow.org/hub/tutorials/movenet",
    ),
    ModelSpec(
        id="segmentation/pphumanseg",
        task="segmentation",
        name="PP-HumanSeg (OpenCV Zoo, 2023mar)",
        runtime="onnxruntime",
        decoder="pphumanseg",
        source=HubSource("opencv/human_segmentation_pphumanseg", "human_segmentation_pphumanseg_2023mar.onnx",
                         "main"),
        input_size=(192, 192),
        labels=("background", "person"),
        license="Apache-2.0",
        reference="https://arxiv.org/abs/2112.07146",
    ),
    ModelSpec(
        id="segmentation/deeplabv3-mobilenetv2",
        task="segmentation",
        name="DeepLabV3 MobileNetV2 (PASCAL VOC, transformers)",
        runtime="transformers",
        decoder="hf_semantic_segmentation",
        source=HubSource("Matthijs/deeplabv3_mobilenet_v2_1.0_513", "model.safetensors",
                         "bc557030fd6410788ecc7de5d5b3e607eba2d587", revision_is_commit=True,
                         extra_files=_HF_SEG_FILES),
        input_size=(513, 513),
        license="other (see the model card)",
        reference="https://arxiv.org/abs/1706.05587",
        options={"head": "semantic_segmentation"},
        note=("The checkpoint of google/deeplabv3_mobilenet_v2_1.0_513, which holds only a pickle "
              "(pytorch_model.bin); this repo has the same weights as safetensors."),
    ),
    ModelSpec(
        id="segmentation/segformer-b0-ade",
        task="segmentation",
        name="SegFormer-B0 (ADE20K, 150 classes, transformers)",
        runtime="transformers",
        decoder="hf_semantic_segmentation",
        source=HubSource("nvidia/segformer-b0-finetuned-ade-512-512", "model.safetensors", "main",
                         extra_files=_HF_SEG_FILES),
        input_size=(512, 512),
        license="other (NVIDIA Source Code License)",
        reference="https://arxiv.org/abs/2105.15203",
        options={"head": "semantic_segmentation"},
    ),
)

# Architectures the brief names for which no checkpoint the playground may load (ONNX or safetensors,
# no remote code) was found on the Hub. Shown plainly in the zoo tab.
UNAVAILABLE: tuple[tuple[str, str, str], ...] = (
    ("pose", "Stacked Hourglass (Newell et al. 2016)",
     "no ONNX or safetensors checkpoint on the Hub; the published weights are Torch7/PyTorch pickles"),
    ("pose", "Convolutional Pose Machines (Wei et al. 2016)",
     "no ONNX or safetensors checkpoint on the Hub; the published weights are Caffe/TensorFlow files"),
)
