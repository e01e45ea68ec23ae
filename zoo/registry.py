"""The zoo: every model the playground knows, as data.

Bundled entries run offline from files inside installed packages (MediaPipe 0.10.21's legacy
solutions, OpenCV's Haar cascades). Hub entries (``zoo.hub_registry``) are fetched on first use.
"""
from __future__ import annotations

import difflib
from dataclasses import replace
from typing import Any, Iterable

from zoo.errors import ZooError, clip
from zoo.runtimes import runtime
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


# MediaPipe's own graphs (its legacy ``mp.solutions``, mediapipe 0.10.21 only) are kept as "reference" entries,
# where that package is installed: the A/B can then set the project's port beside the graph it ports.
REFERENCE_NOTE = ("MediaPipe's own graph, for comparing with the playground's port of it; needs the optional "
                  "mediapipe package (Python 3.12 and older).")
_FACE_DETECTOR = {  # BlazeFace's numbers, from MediaPipe's face_detection_*_range graphs (SsdAnchorsCalculator)
    "short": {"size": 128, "strides": (8, 16, 16, 16), "per_layer": 2, "range": (-1.0, 1.0), "keypoints": 6,
              "weighted": True},
    "full": {"size": 192, "strides": (4,), "per_layer": 1, "range": (-1.0, 1.0), "keypoints": 6, "weighted": True},
}
_FACE_MIN_SCORE = {"short": 0.5, "full": 0.6}  # the full-range graph's own; its solution does not override it
_FACE_FILES = {"short": "modules/face_detection/face_detection_short_range.tflite",
               "full": "modules/face_detection/face_detection_full_range_sparse.tflite"}


def _reference(spec: ModelSpec, solution: dict[str, Any], pipeline: str, source: str | None = None) -> ModelSpec:
    """The same model through MediaPipe's own graph."""
    return replace(spec, id=f"{spec.id}-graph", name=f"{spec.name}: MediaPipe's own graph (reference)",
                   runtime="mediapipe", pipeline=pipeline, options=solution, reference_of=spec.id,
                   source=BundledSource(MP, source) if source else spec.source,
                   note=(REFERENCE_NOTE + " " + spec.note).strip())


def _face_entry(variant: str, note: str) -> ModelSpec:
    return ModelSpec(
        id=f"face/blazeface-{variant}",
        task="face",
        name=f"MediaPipe BlazeFace {variant} range",
        runtime="litert",
        pipeline="blazeface",
        source=BundledSource(MP, _FACE_FILES[variant]),
        input_size=(_FACE_DETECTOR[variant]["size"],) * 2,
        license=APACHE,
        reference=BLAZEFACE_REF,
        options={"detector": _FACE_DETECTOR[variant]},
        note=note,
        thresholds=Thresholds(_FACE_MIN_SCORE[variant], 0.3,
                              f"MediaPipe's face_detection_{variant}_range graph: min_score_thresh "
                              f"{_FACE_MIN_SCORE[variant]}, weighted NMS IoU 0.3"),
    )


def _mesh_entry() -> ModelSpec:
    return ModelSpec(
        id="face/facemesh",
        task="face",
        name="MediaPipe Face Mesh (468 landmarks)",
        runtime="litert_cascade",
        pipeline="blaze_face_mesh",
        source=BundledSource(MP, _FACE_FILES["short"]),
        input_size=(192, 192),
        license=APACHE,
        reference=FACEMESH_REF,
        options={"landmark_model": "modules/face_landmark/face_landmark.tflite",
                 "detector": _FACE_DETECTOR["short"], "landmark": {"size": 192, "layout": "nhwc", "range": (0.0, 1.0)},
                 "roi": "face", "max_instances": 4, "detector_min_score": 0.5, "min_presence": 0.5},
        thresholds=Thresholds(0.5, 0.3, "MediaPipe's face_landmark_front graph: detection 0.5, weighted NMS 0.3, "
                                        "face presence 0.5"),
        note=("The plain 468-point mesh: MediaPipe's iris-refined model (478 points) needs an operation LiteRT "
              "lacks; its reference entry runs it through MediaPipe."),
    )


def _hands_entry(task: str, variant: str, pipeline: str, name: str) -> ModelSpec:
    kind = "lite" if variant.endswith("lite") else "full"
    return ModelSpec(
        id=f"{task}/{variant}",
        task=task,
        name=name,
        runtime="litert_cascade",
        pipeline=pipeline,
        source=BundledSource(MP, f"modules/palm_detection/palm_detection_{kind}.tflite"),
        input_size=(224, 224),
        license=APACHE,
        reference=HANDS_REF,
        options={"landmark_model": f"modules/hand_landmark/hand_landmark_{kind}.tflite",
                 "detector": {"size": 192, "strides": (8, 16, 16, 16), "layout": "nhwc", "range": (0.0, 1.0),
                              "keypoints": 7, "weighted": True},
                 "landmark": {"size": 224, "layout": "nhwc", "range": (0.0, 1.0)}, "roi": "palm",
                 "max_instances": 4, "detector_min_score": 0.5, "min_presence": 0.5},
        thresholds=(Thresholds(0.5, 0.3, "MediaPipe's hand graphs: palm min_score 0.5, weighted NMS 0.3; hand "
                                         "presence 0.5") if task == "hands" else
                    Thresholds(0.5, source="the playground's rules: a gesture scored under 0.5 reads None")),
    )


def _pose_entry(variant: str, note: str = "") -> ModelSpec:
    """One person, as MediaPipe's pose graph: the person detector on the frame, landmarks in its region."""
    multi = _multi_pose_entry(variant)
    return replace(multi, id=f"pose/blazepose-{variant}", name=f"MediaPipe BlazePose {variant} (33 keypoints)",
                   options={**multi.options, "tiles": False, "max_instances": 1}, note=note)


def _multi_pose_entry(variant: str, note: str = "") -> ModelSpec:
    """Every person in the frame: MediaPipe's person detector (on the frame and on 2x2 overlapping tiles of
    it), then BlazePose's landmark model on each person's region, both .tflite files run by LiteRT."""
    return ModelSpec(
        id=f"pose/blazepose-multi-{variant}",
        task="pose",
        name=f"BlazePose {variant}, every person (person detector + landmarks)",
        runtime="litert_cascade",
        pipeline="blaze_pose",
        source=BundledSource(MP, "modules/pose_detection/pose_detection.tflite"),
        input_size=(224, 224),
        license=APACHE,
        reference=BLAZEPOSE_REF,
        options={"landmark_model": f"modules/pose_landmark/pose_landmark_{variant}.tflite",
                 "detector": {"size": 224, "strides": (8, 16, 32, 32, 32), "layout": "nhwc", "range": (-1.0, 1.0),
                              "keypoints": 4, "weighted": True},
                 "landmark": {"size": 256, "layout": "nhwc", "range": (0.0, 1.0), "border": "replicate"},
                 "roi": "person",
                 "tiles": True, "max_instances": 6, "detector_min_score": 0.5, "min_presence": 0.5},
        thresholds=Thresholds(0.5, 0.3, "MediaPipe's pose graphs: detection min_score_thresh 0.5, weighted NMS "
                                        "IoU 0.3; pose presence 0.5"),
        note=("Finds people through their faces (BlazePose's design): helmets, masks and very small people are "
              "its weak spot. " + note).strip(),
    )


_NPM_NOTE = "Its file comes from the npm package @mediapipe/pose (scripts/setup fetches it)."

_FACE_SHORT = _face_entry("short", "Faces within about 2 m of the camera.")
_FACE_FULL = _face_entry("full", "Faces up to about 5 m from the camera.")
_MESH = _mesh_entry()
_HANDS = {v: _hands_entry("hands", f"mediapipe-{v}", "blaze_hands", f"MediaPipe Hands {v}") for v in ("lite", "full")}
_GESTURE = {v: _hands_entry("gesture", f"rules-{v}", "blaze_hands_gesture",
                            f"Landmark rules over MediaPipe Hands {v}") for v in ("lite", "full")}
_POSE = {"full": _pose_entry("full"), "lite": _pose_entry("lite", _NPM_NOTE), "heavy": _pose_entry("heavy", _NPM_NOTE)}
_COMPLEXITY = {"lite": 0, "full": 1, "heavy": 2}


def _selfie_entry(variant: str, size: tuple[int, int], file: str) -> ModelSpec:
    return ModelSpec(
        id=f"segmentation/selfie-{variant}",
        task="segmentation",
        name=f"MediaPipe Selfie Segmentation ({variant}, {size[0]}x{size[1]})",
        runtime="litert",
        pipeline="selfie",
        source=BundledSource(MP, f"modules/selfie_segmentation/{file}"),
        input_size=size,
        labels=_PERSON_LABELS,
        license=APACHE,
        reference=SELFIE_REF,
        thresholds=Thresholds(0.1, source="MediaPipe's selfie segmentation example: segmentation_mask > 0.1"),
    )


_SELFIE = {"general": _selfie_entry("general", (256, 256), "selfie_segmentation.tflite"),
           "landscape": _selfie_entry("landscape", (256, 144), "selfie_segmentation_landscape.tflite")}

BUNDLED: tuple[ModelSpec, ...] = (
    # --- face -------------------------------------------------------------------------------
    _FACE_SHORT,
    _FACE_FULL,
    _MESH,
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
    *_HANDS.values(),
    # --- pose -------------------------------------------------------------------------------
    *_POSE.values(),
    _multi_pose_entry("full"),
    _multi_pose_entry("lite", _NPM_NOTE),
    _multi_pose_entry("heavy", _NPM_NOTE),
    # --- gesture ----------------------------------------------------------------------------
    *_GESTURE.values(),
    # --- segmentation -----------------------------------------------------------------------
    *_SELFIE.values(),
    # --- MediaPipe's own graphs, for reference --------------------------------------------------
    *(_reference(_FACE_SHORT if v == "short" else _FACE_FULL, {"solution": "face_detection", "model_selection": i,
                                                               "min_confidence": 0.5}, "mediapipe_face_detection")
      for i, v in enumerate(("short", "full"))),
    _reference(_MESH, {"solution": "face_mesh", "max_num_faces": 4, "refine_landmarks": False},
               "mediapipe_face_mesh", "modules/face_landmark/face_landmark.tflite"),
    *(_reference(spec, {"solution": "hands", "model_complexity": _COMPLEXITY[v], "max_num_hands": 4},
                 "mediapipe_hands", f"modules/hand_landmark/hand_landmark_{v}.tflite") for v, spec in _HANDS.items()),
    *(_reference(spec, {"solution": "pose", "model_complexity": _COMPLEXITY[v]}, "mediapipe_pose",
                 f"modules/pose_landmark/pose_landmark_{v}.tflite") for v, spec in _POSE.items()),
    *(_reference(spec, {"solution": "hands", "model_complexity": _COMPLEXITY[v], "max_num_hands": 4},
                 "mediapipe_hands_gesture", f"modules/hand_landmark/hand_landmark_{v}.tflite")
      for v, spec in _GESTURE.items()),
    *(_reference(spec, {"solution": "selfie_segmentation", "model_selection": i}, "mediapipe_selfie")
      for i, spec in enumerate(_SELFIE.values())),
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

    # MediaPipe's own graphs are offered only where the optional mediapipe package is installed
    bundled = tuple(s for s in BUNDLED if not s.reference_of or runtime(s.runtime).installed())
    return bundled + HUB + tuple(_EXTRA.values())


def all_specs(task: str | None = None) -> list[ModelSpec]:
    return [s for s in _all() if task is None or s.task == task]


def offline_available(spec: ModelSpec) -> bool:
    """Can this model run now without the network?"""
    if not runtime(spec.runtime).installed():
        return False
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
