"""MediaPipe Face Mesh (468 landmarks, LiteRT): BlazeFace short range finds each face, the landmark model
reads its region (MediaPipe's face_landmark_front graph, ported); the graph itself as a reference."""
from __future__ import annotations

from typing import Any

import numpy as np

from models import blaze
from models.blazeface import DETECTOR, FILES, KEYPOINT_NAMES
from models.mp_common import APACHE, mp_file, reference
from tasks.base import Pipeline
from tasks.geometry import sigmoid
from tasks.results import box_of
from tasks.face import Face, FaceResult, mesh_edges
from zoo.registry import register_models
from zoo.specs import ModelSpec, Thresholds

REFERENCE = "https://arxiv.org/abs/2006.10962"
# The same six points in the 478-point refined face mesh (iris centres for the eyes; mouth = mean of two).
MESH_KEYPOINTS = ((468,), (473,), (1,), (13, 14), (234,), (454,))


# ... and in the 468-point mesh (no irises: each eye is the mean of its two corners).
MESH468_KEYPOINTS = ((33, 133), (362, 263), (1,), (13, 14), (234,), (454,))


# --- MediaPipe face mesh ------------------------------------------------------------------
def from_mediapipe_mesh(raw: Any, hw: tuple[int, int], spec: ModelSpec) -> FaceResult:
    h, w = hw
    faces = []
    for lm in raw.multi_face_landmarks or ():
        pts = np.array([(p.x * w, p.y * h, p.z * w) for p in lm.landmark], dtype=np.float32)
        kps = tuple(tuple(pts[list(idx), :2].mean(axis=0)) for idx in MESH_KEYPOINTS) if len(pts) >= 478 else ()
        # The legacy face mesh reports no per-face score: a returned mesh passed its detector's threshold.
        faces.append(Face(box=box_of(pts, w, h), score=1.0, keypoints=kps, landmarks=pts,
                          keypoint_names=KEYPOINT_NAMES if kps else ()))
    return FaceResult(tuple(faces))


def mesh_post(raw: tuple[Any, list], meta: blaze.CascadeMeta, spec: ModelSpec) -> FaceResult:
    """The face landmark model on each detected face's region (MediaPipe's face_landmark_front graph):
    468 landmarks (x, y, z in crop pixels) and a face-presence logit; presence is the face's score."""
    _, crops = raw
    found = []
    for roi, out in crops:
        points, flag = blaze.outputs_of_size(out, 1404), blaze.outputs_of_size(out, 1)
        if not points or not flag:
            raise ValueError("face landmark outputs are not 468 landmarks + a face flag")
        presence = float(sigmoid(np.clip(flag[0][0], -80, 80)))
        if presence < spec.thresholds.floor:
            continue
        found.append((roi.to_frame(points[0].reshape(468, 3), meta.landmark_size), presence))
    found = distinct_faces(found, blaze.CascadeOptions.of(spec.options).max_instances)
    track = meta.track  # stream mode: follow these faces in the next frame, their landmarks smoothed
    if track is not None:
        track.keep([blaze.face_mesh_roi(pts) for pts, _ in found])
        now = track.tick()
        found = [(track.smooth(i, pts, now, blaze.object_scale(pts)), p) for i, (pts, p) in enumerate(found)]
    faces = []
    for pts, presence in found:
        kps = tuple(tuple(pts[list(idx), :2].mean(axis=0)) for idx in MESH468_KEYPOINTS)
        faces.append(Face(box=box_of(pts, meta.width, meta.height), score=presence, keypoints=kps, landmarks=pts,
                          keypoint_names=KEYPOINT_NAMES))
    return FaceResult(tuple(faces))


def distinct_faces(found: list[tuple[np.ndarray, float]], most: int, iou: float = 0.5
                   ) -> list[tuple[np.ndarray, float]]:
    """One mesh per face (two followed regions may converge on one face), best first, at most ``most``."""
    kept: list[tuple[np.ndarray, float]] = []
    for pts, p in sorted(found, key=lambda f: -f[1]):
        box = np.concatenate([pts[:, :2].min(axis=0), pts[:, :2].max(axis=0)])
        if all(blaze.iou_one(box, np.concatenate([k[:, :2].min(axis=0), k[:, :2].max(axis=0)])[None])[0] <= iou
               for k, _ in kept):
            kept.append((pts, p))
    return kept[:most]


def mesh_device(spec: ModelSpec) -> dict[str, Any] | None:
    """The face mesh's page version: the cascade, with the mesh's keypoints and drawn lines."""
    return blaze.device(spec, "face_mesh", min_presence=spec.thresholds.floor, mesh_keypoints=[list(i) for i in MESH468_KEYPOINTS],
                        mesh_edges=mesh_edges(468).tolist(), noun="face", result_key="faces")



PIPELINE = Pipeline(blaze.preprocess, mesh_post, options=blaze.OPTIONS, device=mesh_device)
GRAPH = Pipeline(postprocess=from_mediapipe_mesh)

MESH = ModelSpec(
    id="face/facemesh",
    task="face",
    name="MediaPipe Face Mesh (468 landmarks)",
    runtime="litert_cascade",
    pipeline=PIPELINE,
    source=mp_file(FILES["short"]),
    input_size=(192, 192),
    license=APACHE,
    reference=REFERENCE,
    options={"landmark_model": "modules/face_landmark/face_landmark.tflite",
             "detector": DETECTOR["short"], "landmark": {"size": 192, "layout": "nhwc", "range": (0.0, 1.0)},
             "roi": "face", "max_instances": 4, "detector_min_score": 0.5},
    thresholds=Thresholds(0.5, 0.3, "MediaPipe's face_landmark_front graph: detection 0.5, weighted NMS 0.3, "
                                    "face presence 0.5", floor=0.5),
    # MediaPipe's iris-refined model (478 points) needs an operation LiteRT lacks
    note=("The 468-point mesh, without the irises (MediaPipe's iris-refined model runs only in its reference "
          "entry, through MediaPipe itself)."),
)
register_models(MESH, reference(MESH, {"solution": "face_mesh", "max_num_faces": 4, "refine_landmarks": False},
                                GRAPH, "modules/face_landmark/face_landmark.tflite"))
