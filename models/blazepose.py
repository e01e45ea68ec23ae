"""BlazePose (33 keypoints): MediaPipe's person detector finds each body through its face, the landmark model
reads a crop turned upright around the hips. The LiteRT files (lite, full, heavy; one person as MediaPipe's
pose graph, or everyone with 2x2 tiles), OpenCV Zoo's ONNX export from the Hub, and MediaPipe's own graph as a
reference."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from models import blaze
from models.mp_common import APACHE, mp_file, reference
from tasks.agreement import match_boxes
from tasks.base import Pipeline
from tasks.geometry import sigmoid
from tasks.pose import BLAZEPOSE_NAMES, EDGE_NAMES, VISIBLE, Person, PoseResult, person_from_points
from zoo.registry import register_models
from zoo.specs import HubSource, ModelSpec, Thresholds

REFERENCE = "https://arxiv.org/abs/2006.10204"
PRESENCE = 0.5  # MediaPipe's pose graphs drop a crop whose pose presence is under this


def from_mediapipe_pose(raw: Any, hw: tuple[int, int], spec: ModelSpec) -> PoseResult:
    h, w = hw
    if raw.pose_landmarks is None:
        return PoseResult.empty()
    lm = raw.pose_landmarks.landmark
    xy = np.array([(p.x * w, p.y * h) for p in lm], dtype=np.float32)
    vis = np.array([p.visibility for p in lm], dtype=np.float32)
    return PoseResult((person_from_points(BLAZEPOSE_NAMES, xy, vis, w, h),))


def blaze_pose_post(raw: tuple[Any, list], meta: blaze.CascadeMeta, spec: ModelSpec) -> PoseResult:
    """BlazePose's outputs, in graph order: 39 landmarks x (x, y, z in crop pixels, visibility logit,
    presence logit) of which the first 33 are the body's, then the pose's presence."""
    _, crops = raw
    min_presence = spec.thresholds.floor
    people, aux = [], {}
    for roi, out in crops:
        points, ones = blaze.outputs_of_size(out, 195), blaze.outputs_of_size(out, 1)
        if not points or not ones:
            raise ValueError("pose landmark outputs are not 39x5 landmarks + presence")
        presence = float(np.clip(ones[0][0], 0.0, 1.0))
        if presence < min_presence:
            continue
        lm = points[0].reshape(39, 5)
        heat = [np.asarray(v, np.float32) for v in out.values() if np.ndim(v) == 4 and np.shape(v)[-1] == 39]
        crop_xy = lm[:, :2]
        if heat:  # MediaPipe's pose graph refines the body's landmarks from the model's heatmap
            crop_xy = np.vstack([blaze.refine_from_heatmap(crop_xy[:33], heat[0][0], meta.landmark_size), crop_xy[33:]])
        xy = roi.to_frame(crop_xy, meta.landmark_size)  # 33 body points, then the region's two (hips, scale)
        person = person_from_points(BLAZEPOSE_NAMES, xy[:33], sigmoid(lm[:33, 3]), meta.width, meta.height,
                                    score=presence)
        people.append(person)
        aux[id(person)] = xy
    people = distinct_people(people, blaze.CascadeOptions.of(spec.options).max_instances)
    track = meta.track  # stream mode: follow these people in the next frame, their landmarks smoothed
    if track is not None:
        track.keep([blaze.pose_roi(aux[id(p)]) for p in people])
        now = track.tick()
        people = [smoothed(p, aux[id(p)], track, i, now) for i, p in enumerate(people)]
    return PoseResult(tuple(people))


def smoothed(person: Person, points: np.ndarray, track: blaze.Track, index: int, t: float) -> Person:
    """The person's 33 landmarks and the region's two points smoothed together (MediaPipe's pose graph
    smooths both), and the next frame's region set from the smoothed two: a steady region is what keeps a
    still subject's landmarks still."""
    xy = track.smooth(index, points[:, :2], t, blaze.object_scale(points[:33, :2]))
    track.rois[index] = blaze.pose_roi(xy)
    return replace(person, keypoints=tuple(replace(k, x=float(x), y=float(y))
                                           for k, (x, y) in zip(person.keypoints, xy[:33])))


def _same_body(a: Person, b: Person, iou: float) -> bool:
    """Two skeletons of one body: their boxes overlap by ``iou``, or their noses lie within a quarter of a
    shoulder width of each other (a second region around the same face, whose shoulders went astray)."""
    if match_boxes(np.array([a.box]), np.array([b.box]), iou):
        return True
    na, nb = a.keypoint("nose"), b.keypoint("nose")
    la, ra = a.keypoint("left_shoulder"), a.keypoint("right_shoulder")
    if None in (na, nb, la, ra) or min(na.score, nb.score) < VISIBLE:
        return False
    return float(np.hypot(na.x - nb.x, na.y - nb.y)) < 0.25 * max(float(np.hypot(la.x - ra.x, la.y - ra.y)), 1.0)


def distinct_people(people: list[Person], most: int, iou: float = 0.5) -> list[Person]:
    """One person per body: two regions that landed on the same body (the whole frame's pass and a tile's,
    say) give two skeletons; the better-seen one stays. At most ``most``, best first."""
    kept: list[Person] = []
    for person in sorted(people, key=lambda p: -p.score):
        if not any(_same_body(person, k, iou) for k in kept):
            kept.append(person)
    return kept[:most]


def pose_device(spec: ModelSpec) -> dict[str, Any] | None:
    """The page's version (one person; not the 2x2 tiles of the multi-person entries): the cascade, with the
    skeleton's lines; keypoints are drawn while in sight (visibility >= VISIBLE)."""
    edges = [[BLAZEPOSE_NAMES.index(a), BLAZEPOSE_NAMES.index(b)] for a, b in EDGE_NAMES
             if a in BLAZEPOSE_NAMES and b in BLAZEPOSE_NAMES]
    return blaze.device(spec, "pose", min_presence=spec.thresholds.floor, edges=edges, visible_from=VISIBLE,
                        noun="person", result_key="people")



PIPELINE = Pipeline(blaze.preprocess, blaze_pose_post, options=blaze.OPTIONS, device=pose_device)
GRAPH = Pipeline(postprocess=from_mediapipe_pose)

PERSON = {"size": 224, "strides": (8, 16, 32, 32, 32), "range": (-1.0, 1.0), "keypoints": 4}
COMPLEXITY = {"lite": 0, "full": 1, "heavy": 2}
NPM_NOTE = "Its file comes with MediaPipe's web package for pose; a new server fetches it once."
WEAK_SPOT = "Finds people through their faces (BlazePose's design): helmets, masks and very small people are its weak spot."


def multi_entry(variant: str, note: str = "") -> ModelSpec:
    """Every person in the frame: MediaPipe's person detector (on the frame and on 2x2 overlapping tiles of
    it), then BlazePose's landmark model on each person's region, both .tflite files run by LiteRT."""
    return ModelSpec(
        id=f"pose/blazepose-multi-{variant}",
        task="pose",
        name=f"BlazePose {variant}, every person (person detector + landmarks)",
        runtime="litert_cascade",
        pipeline=PIPELINE,
        source=mp_file("modules/pose_detection/pose_detection.tflite"),
        input_size=(224, 224),
        license=APACHE,
        reference=REFERENCE,
        options={"landmark_model": f"modules/pose_landmark/pose_landmark_{variant}.tflite",
                 "detector": {**PERSON, "layout": "nhwc", "weighted": True},
                 "landmark": {"size": 256, "layout": "nhwc", "range": (0.0, 1.0), "border": "replicate"},
                 "roi": "person", "tiles": True, "max_instances": 6, "detector_min_score": 0.5},
        thresholds=Thresholds(0.5, 0.3, "MediaPipe's pose graphs: detection min_score_thresh 0.5, weighted NMS "
                                        "IoU 0.3; pose presence 0.5", floor=PRESENCE),
        note=(WEAK_SPOT + " " + note).strip(),
    )


def entry(variant: str, note: str = "") -> ModelSpec:
    """One person, as MediaPipe's pose graph: the person detector on the frame, landmarks in its region."""
    multi = multi_entry(variant)
    return replace(multi, id=f"pose/blazepose-{variant}", name=f"MediaPipe BlazePose {variant} (33 keypoints)",
                   options={**multi.options, "tiles": False, "max_instances": 1}, note=note)


ONE = {"full": entry("full"), "lite": entry("lite", NPM_NOTE), "heavy": entry("heavy", NPM_NOTE)}
EVERYONE = {"full": multi_entry("full"), "lite": multi_entry("lite", NPM_NOTE), "heavy": multi_entry("heavy", NPM_NOTE)}
ONNX = ModelSpec(
    id="pose/mediapipe-onnx",
    task="pose",
    name="MediaPipe person detector + BlazePose (OpenCV Zoo ONNX, 2023mar)",
    runtime="onnx_cascade",
    pipeline=PIPELINE,
    source=HubSource("opencv/opencv_zoo",
                     "models/person_detection_mediapipe/person_detection_mediapipe_2023mar.onnx", "main",
                     extra_files=("models/pose_estimation_mediapipe/pose_estimation_mediapipe_2023mar.onnx",)),
    input_size=(224, 224),
    license="Apache-2.0",
    reference=REFERENCE,
    options={"detector": {**PERSON, "layout": "nchw"}, "landmark": {"size": 256, "layout": "nhwc", "range": (0.0, 1.0)},
             "roi": "person", "max_instances": 2, "detector_min_score": 0.5},
    note="Two ONNX files from one repo: the detector finds each person, BlazePose reads 33 keypoints "
         "in a crop turned upright around the hips.",
    thresholds=Thresholds(0.8, 0.3, "OpenCV Zoo's demo: person score_threshold 0.5, NMS 0.3; pose conf_threshold 0.8",
                          floor=PRESENCE),
)

register_models(*ONE.values(), *EVERYONE.values(), ONNX,
                *(reference(spec, {"solution": "pose", "model_complexity": COMPLEXITY[v]}, GRAPH,
                            f"modules/pose_landmark/pose_landmark_{v}.tflite") for v, spec in ONE.items()))
