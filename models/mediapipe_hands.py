"""MediaPipe Hands: the palm detector, then 21 landmarks and left/right in a crop turned so the fingers point
up. The LiteRT files the mediapipe wheel carries (lite and full, ported from MediaPipe's hand graphs), the
same models as OpenCV Zoo's ONNX export from the Hub, MediaPipe's own graph as a reference, and the gesture
tab's landmark rules over each of them."""
from __future__ import annotations

from typing import Any

import numpy as np

from models import blaze
from models.mp_common import APACHE, mp_file, reference
from tasks import gesture
from tasks.base import Pipeline
from tasks.results import box_of
from tasks.gesture import GestureResult
from tasks.hands import EDGES, Hand, HandsResult
from zoo.registry import register_models
from zoo.specs import HubSource, ModelSpec, Thresholds

REFERENCE = "https://arxiv.org/abs/2006.10214"
HAND_PRESENCE = 0.5  # MediaPipe's hand graphs drop a crop whose hand presence is under this


def from_mediapipe_hands(raw: Any, hw: tuple[int, int], spec: ModelSpec) -> HandsResult:
    """MediaPipe assumes a mirrored (selfie) image; the playground feeds camera images, so the
    handedness label is swapped here, once, to name the subject's own hand."""
    h, w = hw
    hands = []
    for lm, cls in zip(raw.multi_hand_landmarks or (), raw.multi_handedness or ()):
        pts = np.array([(p.x * w, p.y * h, p.z * w) for p in lm.landmark], dtype=np.float32)
        c = cls.classification[0]
        side = {"Left": "Right", "Right": "Left"}[c.label]
        # The legacy solution exposes no hand-presence score; its handedness confidence stands in.
        hands.append(Hand(box=box_of(pts, w, h), score=min(1.0, float(c.score)), handedness=side,
                          keypoints=tuple(map(tuple, pts))))
    return HandsResult(tuple(hands))


def blaze_hands_post(raw: tuple[Any, list], meta: blaze.CascadeMeta, spec: ModelSpec,
                     min_presence: float | None = None) -> HandsResult:
    """MediaPipe's hand landmark model as ONNX, on each palm's crop. Its outputs, in graph order: 21
    landmarks (x, y, z in crop pixels), hand presence, handedness (above 0.5: MediaPipe's "Right", which
    assumes a mirrored image, so the subject's left hand), 21 world landmarks."""
    _, crops = raw
    min_presence = spec.thresholds.floor if min_presence is None else min_presence
    found = []
    for roi, out in crops:
        points, ones = blaze.outputs_of_size(out, 63), blaze.outputs_of_size(out, 1)
        if not points or len(ones) < 2:
            raise ValueError("hand landmark outputs are not 63 landmarks + presence + handedness")
        presence = float(np.clip(ones[0][0], 0.0, 1.0))
        if presence < min_presence:
            continue
        pts = roi.to_frame(points[0].reshape(21, 3), meta.landmark_size)
        found.append((pts, presence, "Left" if ones[1][0] > 0.5 else "Right"))
    track = meta.track  # stream mode: follow these hands in the next frame, their landmarks smoothed
    if track is not None:
        track.keep([blaze.hand_roi(pts) for pts, _, _ in found])
        now = track.tick()
        found = [(track.smooth(i, pts, now, blaze.object_scale(pts)), p, side) for i, (pts, p, side) in enumerate(found)]
        track.rois = [blaze.hand_roi(pts) for pts, _, _ in found]  # the next region from the steadied landmarks
    return HandsResult(tuple(Hand(box=box_of(pts, meta.width, meta.height), score=p, handedness=side,
                                  keypoints=tuple(map(tuple, pts))) for pts, p, side in found))


def hands_device(spec: ModelSpec) -> dict[str, Any] | None:
    """The page's version: the cascade, with the hand's drawn lines."""
    return blaze.device(spec, "hands", min_presence=spec.thresholds.floor, edges=[list(e) for e in EDGES],
                        noun="hand", result_key="hands")



def from_mediapipe_hands_gesture(raw: Any, hw: tuple[int, int], spec: ModelSpec) -> GestureResult:
    return gesture.recognise(from_mediapipe_hands(raw, hw, spec))


def blaze_hands_gesture_post(raw: Any, meta: Any, spec: ModelSpec) -> GestureResult:
    return gesture.recognise(blaze_hands_post(raw, meta, spec, HAND_PRESENCE))


def gesture_device(spec: ModelSpec) -> dict[str, Any] | None:
    """The page's version: the hands cascade, then these rules with their numbers."""
    base = blaze.device(spec, "hands", min_presence=HAND_PRESENCE, edges=[list(e) for e in EDGES], noun="hand",
                        result_key="hands")
    return {**base, "gesture": {"rule": gesture.RULE, "min_score": gesture.MIN_SCORE,
                                "chains": {k: list(v) for k, v in gesture.CHAINS.items()}}}



PIPELINE = Pipeline(blaze.preprocess, blaze_hands_post, options=blaze.OPTIONS, device=hands_device)
GRAPH = Pipeline(postprocess=from_mediapipe_hands)
GESTURE = Pipeline(blaze.preprocess, blaze_hands_gesture_post, options=blaze.OPTIONS, device=gesture_device)
GESTURE_GRAPH = Pipeline(postprocess=from_mediapipe_hands_gesture)

PALM = {"size": 192, "strides": (8, 16, 16, 16), "layout": "nhwc", "range": (0.0, 1.0), "keypoints": 7}
LANDMARK = {"size": 224, "layout": "nhwc", "range": (0.0, 1.0)}
COMPLEXITY = {"lite": 0, "full": 1}  # MediaPipe's model_complexity for each file


def entry(task: str, variant: str, name: str) -> ModelSpec:
    """The LiteRT files, as MediaPipe's hand graphs run them; ``task`` gesture adds the rules."""
    return ModelSpec(
        id=f"{task}/{'mediapipe' if task == 'hands' else 'rules'}-{variant}",
        task=task,
        name=name,
        runtime="litert_cascade",
        pipeline=PIPELINE if task == "hands" else GESTURE,
        source=mp_file(f"modules/palm_detection/palm_detection_{variant}.tflite"),
        input_size=(224, 224),
        license=APACHE,
        reference=REFERENCE,
        options={"landmark_model": f"modules/hand_landmark/hand_landmark_{variant}.tflite",
                 "detector": {**PALM, "weighted": True}, "landmark": LANDMARK, "roi": "palm",
                 "max_instances": 4, "detector_min_score": 0.5},
        thresholds=(Thresholds(0.5, 0.3, "MediaPipe's hand graphs: palm min_score 0.5, weighted NMS 0.3; hand "
                                         "presence 0.5", floor=HAND_PRESENCE) if task == "hands" else
                    Thresholds(gesture.MIN_SCORE, 0.3, "the playground's rules: a gesture scored under "
                               f"{gesture.MIN_SCORE} reads None", floor=gesture.MIN_SCORE)),
    )


def graph(spec: ModelSpec, variant: str) -> ModelSpec:
    solution = {"solution": "hands", "model_complexity": COMPLEXITY[variant], "max_num_hands": 4}
    return reference(spec, solution, GRAPH if spec.task == "hands" else GESTURE_GRAPH,
                     f"modules/hand_landmark/hand_landmark_{variant}.tflite")


HANDS = {v: entry("hands", v, f"MediaPipe Hands {v}") for v in ("lite", "full")}
RULES = {v: entry("gesture", v, f"Landmark rules over MediaPipe Hands {v}") for v in ("lite", "full")}
ONNX = ModelSpec(
    id="hands/mediapipe-onnx",
    task="hands",
    name="MediaPipe palm detector + hand landmarks (OpenCV Zoo ONNX, 2023feb)",
    runtime="onnx_cascade",
    pipeline=PIPELINE,
    source=HubSource("opencv/opencv_zoo",
                     "models/palm_detection_mediapipe/palm_detection_mediapipe_2023feb.onnx", "main",
                     extra_files=("models/handpose_estimation_mediapipe/handpose_estimation_mediapipe_2023feb.onnx",)),
    input_size=(192, 192),
    license="Apache-2.0",
    reference=REFERENCE,
    options={"detector": PALM, "landmark": LANDMARK, "roi": "palm", "max_instances": 2, "detector_min_score": 0.8},
    note="Two ONNX files from one repo: palms first, then 21 landmarks and left/right in a crop turned "
         "so the fingers point up.",
    thresholds=Thresholds(0.9, 0.3, "OpenCV Zoo's demo: palm score_threshold 0.8, NMS 0.3; handpose conf_threshold "
                                    "0.9", floor=HAND_PRESENCE),
)

register_models(*HANDS.values(), ONNX, *RULES.values(),
                *(graph(spec, v) for v, spec in HANDS.items()), *(graph(spec, v) for v, spec in RULES.items()))
