"""Hub entries: real repos, real file names, pinned revisions.

A revision is a commit hash where one was verified (``revision_is_commit=True``); otherwise the tag or
branch is recorded as such, and ``python -m zoo lock`` (run where the Hub is reachable) resolves every
entry to the commit it points at now and writes it back here.
"""
from __future__ import annotations

from zoo.specs import HubSource, ModelSpec, Thresholds

_HF_FILES = ("config.json", "preprocessor_config.json")


def _blaze(*, detector: dict, landmark: dict, roi: str, detector_min_score: float, min_presence: float,
           max_instances: int = 2) -> dict:
    """A MediaPipe two-stage entry's numbers (see tasks.blaze): the thresholds are those of OpenCV Zoo's
    demos for these files."""
    return {"detector": detector, "landmark": landmark, "roi": roi, "max_instances": max_instances,
            "detector_min_score": detector_min_score, "min_presence": min_presence}

HUB: tuple[ModelSpec, ...] = (
    ModelSpec(
        id="face/yunet",
        task="face",
        name="YuNet (OpenCV Zoo, 2023mar)",
        runtime="onnxruntime",
        pipeline="yunet",
        source=HubSource("opencv/face_detection_yunet", "face_detection_yunet_2023mar.onnx", "main"),
        input_size=(640, 640),
        license="MIT",
        reference="https://doi.org/10.1007/s11633-023-1423-y",
        note="Five keypoints: eyes, nose tip, mouth corners.",
        thresholds=Thresholds(0.9, 0.3, "OpenCV Zoo's YuNet demo: --conf_threshold 0.9, --nms_threshold 0.3"),
    ),
    ModelSpec(
        id="pose/posenet-mobilenet",
        task="pose",
        name="PoseNet MobileNet (Qualcomm AI Hub)",
        runtime="onnxruntime",
        pipeline="posenet",
        source=HubSource("qualcomm/Posenet-Mobilenet", "Posenet-Mobilenet.onnx",
                         "2fd0c588aad92dffd796c8c70b4d5ff29679fc87", revision_is_commit=True),
        input_size=(257, 513),
        license="Apache-2.0",
        reference="https://arxiv.org/abs/1803.08225",
        note=("Multi-pose decoding (PoseNet's own: heatmap peaks as roots, mid-range displacements along the "
              "skeleton) when the graph carries its displacement outputs; else one person at the heatmap peaks."),
        thresholds=Thresholds(0.5, source="tfjs-models PoseNet: minPoseConfidence 0.5"),
    ),
    ModelSpec(
        id="pose/mediapipe-onnx",
        task="pose",
        name="MediaPipe person detector + BlazePose (OpenCV Zoo ONNX, 2023mar)",
        runtime="onnx_cascade",
        pipeline="blaze_pose",
        source=HubSource("opencv/opencv_zoo",
                         "models/person_detection_mediapipe/person_detection_mediapipe_2023mar.onnx", "main",
                         extra_files=("models/pose_estimation_mediapipe/pose_estimation_mediapipe_2023mar.onnx",)),
        input_size=(224, 224),
        license="Apache-2.0",
        reference="https://arxiv.org/abs/2006.10204",
        options=_blaze(detector={"size": 224, "strides": (8, 16, 32, 32, 32), "layout": "nchw",
                                 "range": (-1.0, 1.0), "keypoints": 4},
                       landmark={"size": 256, "layout": "nhwc", "range": (0.0, 1.0)}, roi="person",
                       detector_min_score=0.5, min_presence=0.8),
        note="Two ONNX files from one repo: the detector finds each person, BlazePose reads 33 keypoints "
             "in a crop turned upright around the hips.",
        thresholds=Thresholds(0.8, 0.3, "OpenCV Zoo's demo: person score_threshold 0.5, NMS 0.3; pose conf_threshold 0.8"),
    ),
    ModelSpec(
        id="pose/vitpose-base",
        task="pose",
        name="ViTPose-B simple, people found by RT-DETR R18 (transformers)",
        runtime="transformers_pose",
        pipeline="top_down",
        source=HubSource("usyd-community/vitpose-base-simple", "model.safetensors", "main",
                         extra_files=_HF_FILES),
        detector=HubSource("PekingU/rtdetr_r18vd_coco_o365", "model.safetensors",
                           "386c43855d01bcd966e548f3296fbd2cd2a2a40b", revision_is_commit=True,
                           extra_files=_HF_FILES),
        input_size=(192, 256),
        license="Apache-2.0",
        reference="https://arxiv.org/abs/2204.12484",
        options={"person_label": "person", "detector_min_score": 0.3, "max_people": 5},
        note="Top-down: RT-DETR finds each person, ViTPose reads 17 COCO keypoints in each box. "
             "About 430 MB in all; slow on a CPU, made for still images.",
        thresholds=Thresholds(0.3, source="transformers' ViTPose example: RT-DETR threshold=0.3"),
    ),
    ModelSpec(
        id="pose/movenet-lightning",
        task="pose",
        name="MoveNet SinglePose Lightning (ONNX)",
        runtime="onnxruntime",
        pipeline="movenet",
        source=HubSource("Xenova/movenet-singlepose-lightning", "onnx/model.onnx",
                         "1baf53634ad1a1b18749fd8ae205e6265c6077af", revision_is_commit=True),
        input_size=(192, 192),
        license="Apache-2.0",
        reference="https://www.tensorflow.org/hub/tutorials/movenet",
        thresholds=Thresholds(0.11, source="TF Hub's MoveNet tutorial: keypoint_threshold 0.11"),
    ),
    ModelSpec(
        id="hands/mediapipe-onnx",
        task="hands",
        name="MediaPipe palm detector + hand landmarks (OpenCV Zoo ONNX, 2023feb)",
        runtime="onnx_cascade",
        pipeline="blaze_hands",
        source=HubSource("opencv/opencv_zoo",
                         "models/palm_detection_mediapipe/palm_detection_mediapipe_2023feb.onnx", "main",
                         extra_files=("models/handpose_estimation_mediapipe/handpose_estimation_mediapipe_2023feb.onnx",)),
        input_size=(192, 192),
        license="Apache-2.0",
        reference="https://arxiv.org/abs/2006.10214",
        options=_blaze(detector={"size": 192, "strides": (8, 16, 16, 16), "layout": "nhwc",
                                 "range": (0.0, 1.0), "keypoints": 7},
                       landmark={"size": 224, "layout": "nhwc", "range": (0.0, 1.0)}, roi="palm",
                       detector_min_score=0.8, min_presence=0.9),
        note="Two ONNX files from one repo: palms first, then 21 landmarks and left/right in a crop turned "
             "so the fingers point up.",
        thresholds=Thresholds(0.9, 0.3, "OpenCV Zoo's demo: palm score_threshold 0.8, NMS 0.3; handpose conf_threshold 0.9"),
    ),
    ModelSpec(
        id="gesture/mobilenet-v2-imagenet",
        task="gesture",
        name="MobileNetV2 on each hand crop (ImageNet labels; the Teach panel's image backbone)",
        runtime="hand_crop_classifier",
        pipeline="hand_crop_classifier",
        source=HubSource("google/mobilenet_v2_1.0_224", "model.safetensors",
                         "f4a07ccfbe6c27cf60bcb36382f58a0de1cd095f", revision_is_commit=True,
                         extra_files=("config.json", "preprocessor_config.json")),
        input_size=(224, 224),
        license="other (see the model card)",
        reference="https://arxiv.org/abs/1801.04381",
        note="An ImageNet classifier, not a gesture model: its labels are objects. The Teach panel trains a "
             "gesture head on its embeddings.",
        thresholds=Thresholds(0.1, source="the playground's: an ImageNet class on a hand crop, shown from 10%"),
    ),
    ModelSpec(
        id="segmentation/pphumanseg",
        task="segmentation",
        name="PP-HumanSeg (OpenCV Zoo, 2023mar)",
        runtime="onnxruntime",
        pipeline="pphumanseg",
        source=HubSource("opencv/human_segmentation_pphumanseg", "human_segmentation_pphumanseg_2023mar.onnx",
                         "main"),
        input_size=(192, 192),
        labels=("background", "person"),
        license="Apache-2.0",
        reference="https://arxiv.org/abs/2112.07146",
        thresholds=Thresholds(0.5, source="OpenCV Zoo's demo: argmax of background and person"),
    ),
    ModelSpec(
        id="segmentation/deeplabv3-mobilenetv2",
        task="segmentation",
        name="DeepLabV3 MobileNetV2 (PASCAL VOC, transformers)",
        runtime="transformers",
        pipeline="hf_semantic_segmentation",
        source=HubSource("Matthijs/deeplabv3_mobilenet_v2_1.0_513", "model.safetensors",
                         "bc557030fd6410788ecc7de5d5b3e607eba2d587", revision_is_commit=True,
                         extra_files=_HF_FILES),
        input_size=(513, 513),
        license="other (see the model card)",
        reference="https://arxiv.org/abs/1706.05587",
        options={"head": "semantic_segmentation"},
        note=("The checkpoint of google/deeplabv3_mobilenet_v2_1.0_513, which holds only a pickle "
              "(pytorch_model.bin); this repo has the same weights as safetensors."),
        thresholds=Thresholds(0.5, source="argmax over the classes (transformers' pipeline)"),
    ),
    ModelSpec(
        id="segmentation/segformer-b0-ade",
        task="segmentation",
        name="SegFormer-B0 (ADE20K, 150 classes, transformers)",
        runtime="transformers",
        pipeline="hf_semantic_segmentation",
        source=HubSource("nvidia/segformer-b0-finetuned-ade-512-512", "model.safetensors", "main",
                         extra_files=_HF_FILES),
        input_size=(512, 512),
        license="other (NVIDIA Source Code License)",
        reference="https://arxiv.org/abs/2105.15203",
        options={"head": "semantic_segmentation"},
        thresholds=Thresholds(0.5, source="argmax over the classes (transformers' pipeline)"),
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


def pinned_revision(repo_id: str) -> str | None:
    """The revision the registry pins for a repo (the Teach panel's backbone uses it), else None."""
    return next((s.source.revision for s in HUB if s.source.repo_id == repo_id), None)
