"""The zoo: every model the playground knows, as data.

Bundled entries run offline from files inside installed packages (MediaPipe 0.10.21's legacy
solutions, OpenCV's Haar cascades). Hub entries (``zoo.hub_registry``) are fetched on first use.
"""
from __future__ import annotations

import difflib
from typing import Any, Iterable

from zoo.errors import ZooError, clip
from zoo.specs import EXTERNAL_PREFIXES, BundledSource, LocalSource, ModelSpec, Thresholds

MP = "mediapipe"
APACHE = "Apache-2.0"

BLAZEFACE_REF = "https://arxiv.org/abs/1907.05047"
FACEMESH_REF = "https://arxiv.org/abs/2006.10962"
HANDS_REF = "https://arxiv.org/abs/2006.10214"
BLAZEPOSE_REF = "https://arxiv.org/abs/2006.10204"
SELFIE_REF = "https://ai.google.dev/edge/mediapipe/solutions/vision/image_segmenter"
HAAR_REF = "https://doi.org/10.1109/CVPR.2001.990517"

_PERSON_LABELS = ("background", "person")


def _hands_entry(task: str, variant: str, complexity: int, pipeline: str, name: str) -> ModelSpec:
    return ModelSpec(
        id=f"{task}/{variant}",
        task=task,
        name=name,
        runtime="mediapipe",
        pipeline=pipeline,
        source=BundledSource(MP, f"modules/hand_landmark/hand_landmark_{'lite' if complexity == 0 else 'full'}.tflite"),
        input_size=(224, 224),
        license=APACHE,
        reference=HANDS_REF,
        options={"solution": "hands", "model_complexity": complexity, "max_num_hands": 4},
        thresholds=(Thresholds(0.5, source="MediaPipe Hands: min_detection_confidence=0.5") if task == "hands" else
                    Thresholds(0.5, source="the playground's rules: a gesture scored under 0.5 reads None")),
    )


def _pose_entry(variant: str, complexity: int, note: str = "") -> ModelSpec:
    return ModelSpec(
        id=f"pose/blazepose-{variant}",
        task="pose",
        name=f"MediaPipe BlazePose {variant} (33 keypoints)",
        runtime="mediapipe",
        pipeline="mediapipe_pose",
        source=BundledSource(MP, f"modules/pose_landmark/pose_landmark_{variant}.tflite"),
        input_size=(256, 256),
        license=APACHE,
        reference=BLAZEPOSE_REF,
        options={"solution": "pose", "model_complexity": complexity},
        thresholds=Thresholds(0.5, source="MediaPipe Pose: min_detection_confidence=0.5"),
        note=note,
    )


def _multi_pose_entry(variant: str, note: str = "") -> ModelSpec:
    """Every person in the frame: MediaPipe's person detector (on the frame and on 2x2 overlapping tiles of
    it), then BlazePose's landmark model on each person's region, both .tflite files run by LiteRT."""
    return ModelSpec(
        id=f"pose/blazepose-multi-{variant}",
        task="pose",
        name=f"BlazePose {variant}, every person (person detector + landmarks, LiteRT)",
        runtime="litert_cascade",
        pipeline="blaze_pose",
        source=BundledSource(MP, "modules/pose_detection/pose_detection.tflite"),
        input_size=(224, 224),
        license=APACHE,
        reference=BLAZEPOSE_REF,
        options={"landmark_model": f"modules/pose_landmark/pose_landmark_{variant}.tflite",
                 "detector": {"size": 224, "strides": (8, 16, 32, 32, 32), "layout": "nhwc", "range": (-1.0, 1.0),
                              "keypoints": 4},
                 "landmark": {"size": 256, "layout": "nhwc", "range": (0.0, 1.0)}, "roi": "person",
                 "tiles": True, "max_instances": 6, "detector_min_score": 0.5, "min_presence": 0.5},
        thresholds=Thresholds(0.5, 0.3, "MediaPipe's pose graphs: detection min_score_thresh 0.5, NMS IoU 0.3; "
                                        "pose presence 0.5"),
        note=("Finds people through their faces (BlazePose's design): helmets, masks and very small people are "
              "its weak spot. " + note).strip(),
    )


_NPM_NOTE = (
    "Not in the mediapipe wheel: `scripts/setup` copies it from the npm package @mediapipe/pose; "
    "elsewhere mediapipe downloads it on first use."
)

BUNDLED: tuple[ModelSpec, ...] = (
    # --- face -------------------------------------------------------------------------------
    ModelSpec(
        id="face/blazeface-short",
        task="face",
        name="MediaPipe BlazeFace short range",
        runtime="mediapipe",
        pipeline="mediapipe_face_detection",
        source=BundledSource(MP, "modules/face_detection/face_detection_short_range.tflite"),
        input_size=(128, 128),
        license=APACHE,
        reference=BLAZEFACE_REF,
        options={"solution": "face_detection", "model_selection": 0},
        note="Faces within about 2 m of the camera.",
        thresholds=Thresholds(0.5, source="MediaPipe FaceDetection: min_detection_confidence=0.5"),
    ),
    ModelSpec(
        id="face/blazeface-full",
        task="face",
        name="MediaPipe BlazeFace full range",
        runtime="mediapipe",
        pipeline="mediapipe_face_detection",
        source=BundledSource(MP, "modules/face_detection/face_detection_full_range_sparse.tflite"),
        input_size=(192, 192),
        license=APACHE,
        reference=BLAZEFACE_REF,
        options={"solution": "face_detection", "model_selection": 1},
        note="Faces up to about 5 m from the camera.",
        thresholds=Thresholds(0.5, source="MediaPipe FaceDetection: min_detection_confidence=0.5"),
    ),
    ModelSpec(
        id="face/facemesh",
        task="face",
        name="MediaPipe Face Mesh (478 landmarks)",
        runtime="mediapipe",
        pipeline="mediapipe_face_mesh",
        source=BundledSource(MP, "modules/face_landmark/face_landmark_with_attention.tflite"),
        input_size=(192, 192),
        license=APACHE,
        reference=FACEMESH_REF,
        options={"solution": "face_mesh", "max_num_faces": 4, "refine_landmarks": True},
        thresholds=Thresholds(0.5, source="MediaPipe FaceMesh: min_detection_confidence=0.5"),
    ),
    ModelSpec(
        id="face/haar-frontal",
        task="face",
        name="OpenCV Haar cascade, frontal face (Viola-Jones)",
        runtime="opencv_cascade",
        pipeline="opencv_haar",
        source=BundledSource("cv2", "data/haarcascade_frontalface_default.xml"),
        input_size=None,
        license="BSD-3-Clause (Intel License Agreement)",
        reference=HAAR_REF,
        options={"scale_factor": 1.15, "min_neighbors": 5, "max_side": 640, "min_size_frac": 0.1},
        note="Classic 2001 baseline: no keypoints, frontal faces only.",
        thresholds=Thresholds(0.5, source="the playground's: OpenCV gives level weights, squashed by a sigmoid"),
    ),
    # --- hands ------------------------------------------------------------------------------
    _hands_entry("hands", "mediapipe-lite", 0, "mediapipe_hands", "MediaPipe Hands lite"),
    _hands_entry("hands", "mediapipe-full", 1, "mediapipe_hands", "MediaPipe Hands full"),
    # --- pose -------------------------------------------------------------------------------
    _pose_entry("full", 1),
    _pose_entry("lite", 0, _NPM_NOTE),
    _pose_entry("heavy", 2, _NPM_NOTE),
    _multi_pose_entry("full"),
    _multi_pose_entry("lite", _NPM_NOTE),
    _multi_pose_entry("heavy", _NPM_NOTE),
    # --- gesture ----------------------------------------------------------------------------
    _hands_entry("gesture", "rules-lite", 0, "mediapipe_hands_gesture",
                 "Landmark rules over MediaPipe Hands lite"),
    _hands_entry("gesture", "rules-full", 1, "mediapipe_hands_gesture",
                 "Landmark rules over MediaPipe Hands full"),
    # --- segmentation -----------------------------------------------------------------------
    ModelSpec(
        id="segmentation/selfie-general",
        task="segmentation",
        name="MediaPipe Selfie Segmentation (general, 256x256)",
        runtime="mediapipe",
        pipeline="mediapipe_selfie",
        source=BundledSource(MP, "modules/selfie_segmentation/selfie_segmentation.tflite"),
        input_size=(256, 256),
        labels=_PERSON_LABELS,
        license=APACHE,
        reference=SELFIE_REF,
        options={"solution": "selfie_segmentation", "model_selection": 0},
        thresholds=Thresholds(0.1, source="MediaPipe's selfie segmentation example: segmentation_mask > 0.1"),
    ),
    ModelSpec(
        id="segmentation/selfie-landscape",
        task="segmentation",
        name="MediaPipe Selfie Segmentation (landscape, 256x144)",
        runtime="mediapipe",
        pipeline="mediapipe_selfie",
        source=BundledSource(MP, "modules/selfie_segmentation/selfie_segmentation_landscape.tflite"),
        input_size=(256, 144),
        labels=_PERSON_LABELS,
        license=APACHE,
        reference=SELFIE_REF,
        options={"solution": "selfie_segmentation", "model_selection": 1},
        thresholds=Thresholds(0.1, source="MediaPipe's selfie segmentation example: segmentation_mask > 0.1"),
    ),
)



class UnknownModelError(ZooError, KeyError):
    """An id that names no model the caller may run; the message lists the closest ids."""

    def __init__(self, model_id: object, suggestions: Iterable[str] = (), hint: str = ""):
        self.model_id = model_id
        self.suggestions = list(suggestions)
        if self.suggestions:
            hint = f"closest: {', '.join(self.suggestions)}"
        super().__init__(f"unknown model '{clip(model_id)}'" + (f"; {hint}" if hint else ""))

    def __str__(self) -> str:  # KeyError quotes its message; a person should not see that
        return self.args[0]


_EXTRA: dict[str, ModelSpec] = {}  # entries registered by other modules (register_models)


def register_models(*specs: ModelSpec) -> None:
    """Add entries to the registry (a module that brings its own models, as timm's ``@register_model``)."""
    for spec in specs:
        if spec.id.startswith(EXTERNAL_PREFIXES):
            raise ValueError(f"{spec.id}: registry ids are 'task/name'")
        if any(s.id == spec.id for s in _all()) and _EXTRA.get(spec.id) is not spec:
            raise ValueError(f"{spec.id} is registered twice")
        _EXTRA[spec.id] = spec


def unregister_models(*ids: str) -> None:
    for model_id in ids:
        _EXTRA.pop(model_id, None)


def _all() -> tuple[ModelSpec, ...]:
    from zoo.hub_registry import HUB

    return BUNDLED + HUB + tuple(_EXTRA.values())


def all_specs(task: str | None = None) -> list[ModelSpec]:
    return [s for s in _all() if task is None or s.task == task]


def offline_available(spec: ModelSpec) -> bool:
    """Can this model run now without the network?"""
    if isinstance(spec.source, (BundledSource, LocalSource)):
        return spec.source.available()
    from zoo import hub

    return all(hub.is_cached(s) for s in spec.hub_sources())


def row(spec: ModelSpec) -> dict[str, Any]:
    """A spec as one row of ``python -m zoo list`` (and of the app's Zoo tab)."""
    return {
        "id": spec.id,
        "task": spec.task,
        "name": spec.name,
        "runtime": spec.runtime,
        "source": spec.source.describe() + (f" after {spec.detector.describe()}" if spec.detector else ""),
        "offline": offline_available(spec),
        "license": spec.license,
        "reference": spec.reference,
        "note": spec.note,
    }


def get_spec(model_id: str) -> ModelSpec:
    """A registry entry by id. Only the registry: bring-your-own (``hf:``) and local files (``file:``) are
    resolved by the command line (``playground.cli.resolve``), and by a session's own offer in the app."""
    if isinstance(model_id, str):
        for spec in _all():
            if spec.id == model_id:
                return spec
    raise UnknownModelError(model_id, suggest(model_id))


def suggest(model_id: object) -> list[str]:
    if not isinstance(model_id, str) or not model_id or len(model_id) > 200:
        return []
    ids = [s.id for s in _all()]
    close = difflib.get_close_matches(model_id, ids, n=3, cutoff=0.3)
    if not close:
        close = [i for i in ids if model_id.split("/")[0] in i][:3]
    return close
