"""A real face moving across a canvas keeps its id; a second face gets another."""
import numpy as np

from playground.engine import predict
from tasks.tracking import StreamTracker


def _canvas(faces, positions, size=(480, 800)):
    frame = np.full((*size, 3), 200, dtype=np.uint8)
    for face, (x, y) in zip(faces, positions):
        h, w = face.shape[:2]
        frame[y:y + h, x:x + w] = face
    return frame


def test_a_moving_face_keeps_its_id_and_a_new_face_gets_another(grace):
    face = grace[90:370, 130:400]  # Grace Hopper's head, 270x280
    small = face[::2, ::2].copy()
    tracker = StreamTracker(frame_rate=25)
    first_ids, second_ids = [], []
    for t in range(24):
        positions = [(10 + 15 * t, 60)]
        faces = [small]
        if t >= 12:  # a second face enters on the right
            faces.append(small)
            positions.append((620 - 5 * (t - 12), 300))
        result = tracker.update(predict("face/blazeface-short", _canvas(faces, positions)).result)
        by_x = sorted(result.faces, key=lambda f: f.box[1])  # first face is the upper one
        assert len(by_x) == len(faces), f"frame {t}: {len(by_x)} faces"
        first_ids.append(by_x[0].track_id)
        if t >= 12:
            second_ids.append(by_x[1].track_id)
    assert None not in first_ids and len(set(first_ids)) == 1
    # ByteTrack confirms a new track on its second frame; from then on the id holds.
    assert None not in second_ids[1:] and len(set(second_ids[1:])) == 1
    assert second_ids[1] != first_ids[0]


def test_trackers_of_two_streams_do_not_share_ids(grace):
    face = grace[90:370, 130:400][::2, ::2].copy()
    a, b = StreamTracker(), StreamTracker()
    frame = _canvas([face], [(100, 100)])
    res = predict("face/blazeface-short", frame).result
    ida = [a.update(res).faces[0].track_id for _ in range(3)]
    idb = b.update(res).faces[0].track_id
    assert ida == [ida[0]] * 3
    assert idb == ida[0], "a fresh tracker numbers from the start: its ids are its own"


def test_frames_without_faces_keep_the_tracker_working(grace):
    face = grace[90:370, 130:400][::2, ::2].copy()
    tracker = StreamTracker()
    empty = np.full((480, 800, 3), 200, np.uint8)
    ids = []
    for t in range(6):
        frame = empty if t in (0, 3) else _canvas([face], [(100 + 5 * t, 100)])
        res = tracker.update(predict("face/blazeface-short", frame).result)
        ids.append([f.track_id for f in res.faces])
    assert ids[0] == [] and ids[3] == []
    assert ids[2] == ids[4] == ids[5] and ids[2][0] is not None
