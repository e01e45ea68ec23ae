"""The live path without a browser: per-session state, latest-frame-wins, mirroring, agreement."""
import time

import cv2
import numpy as np
import pytest

from bench.fakecam import make_frames
from playground.engine import predict
from playground.live import StreamSession
from playground.pair import predict_pair
from tasks.agreement import match_boxes
from zoo.errors import ZooError
from zoo.images import ImageError
from zoo.registry import get_spec

MODELS = {"a": "face/blazeface-short", "b": "face/facemesh"}
CONTROLS = {"a": {"min_score": 0.5, "max_results": 5}, "b": {"min_score": 0.5, "max_results": 5}}


@pytest.fixture(scope="module")
def frames():
    return make_frames(640, 480, fps=25, seconds=6)[:40]  # the face glides ~5 px a frame


def _take(session, frame, **kw):
    """One frame offered to both sides, and what each side that took it answered."""
    return {k: f.result(timeout=60) for k, f in session.take(frame, **kw).items()}


def _drain(session, frame, models=None, controls=None):
    if models:
        for k, v in models.items():
            session.set_model(k, v)
    if controls:
        session.set_controls(controls)
    outs = {"a": None, "b": None}
    for _ in range(50):
        for k, out in _take(session, frame).items():
            outs[k] = out
        if outs["a"] and outs["b"]:
            return outs
        time.sleep(0.02)
    raise AssertionError("no output")


def test_a_stream_gives_both_sides_tracked_mirrored_results_and_overlays(frames):
    session = StreamSession("face", MODELS, CONTROLS)
    ids = []
    for frame in frames[:20]:
        outs = _take(session, frame)
        if outs["a"].prediction and outs["a"].prediction.result.faces:
            ids.append(outs["a"].prediction.result.faces[0].track_id)
    assert len(ids) >= 10 and len(set(ids[1:])) == 1 and ids[-1] is not None
    a = session.sides["a"].last
    # The camera's frame is shown mirrored, like the preview: the result is where the face is in the mirrored
    # picture, and so is the overlay the page draws over that picture.
    box = a.prediction.result.faces[0].box
    x0, y0, x1, y1 = predict("face/blazeface-short", frames[19]).result.faces[0].box  # the camera's view
    assert np.allclose(box, (640 - x1, y0, 640 - x0, y1), atol=0.5)
    # and the model on the mirrored picture finds the same face there (not pixel for pixel: a 5x smaller input
    # samples a mirrored picture differently)
    flipped = predict("face/blazeface-short", cv2.flip(frames[19], 1)).result.faces[0].box
    assert match_boxes(np.array([box]), np.array([flipped]), 0.85), (box, flipped)
    boxes = next(op for op in a.overlay if op["op"] == "boxes")
    assert np.allclose(boxes["xyxy"][0], box, atol=0.1) and boxes["labels"][0].startswith(f"#{ids[-1]} ")
    msg = a.message("a")
    assert msg["seq"] == 20 and msg["image"] == {"width": 640, "height": 480} and msg["model"] == MODELS["a"]
    assert session.agreement is not None and session.agreement["matched"] == 1
    # not mirrored: the camera's own coordinates
    plain = _take(StreamSession("face", MODELS, CONTROLS), frames[19], mirror=False)["a"]
    assert np.allclose(plain.prediction.result.faces[0].box, (x0, y0, x1, y1), atol=0.5)


def test_latest_frame_wins_nothing_queues(frames):
    slow = {"a": "face/blazeface-short", "b": "face/haar-frontal"}  # Haar: ~70 ms a frame here
    session = StreamSession("face", slow, CONTROLS)
    _drain(session, frames[0])
    taken = {"a": [], "b": []}
    futures = []
    for i, frame in enumerate(frames[:15]):  # frames arrive far faster than Haar can take them
        started = session.take(frame)
        for k, f in started.items():
            taken[k].append(session.seq)
            futures.append(f)
        time.sleep(0.005)
    for f in futures:
        f.result(timeout=30)
    # B took a few of the 15 frames and skipped the rest, instead of queueing them; A took more
    assert 1 <= len(taken["b"]) <= 5, taken
    assert len(taken["a"]) > len(taken["b"]), taken
    assert not session.sides["b"].busy


def test_two_sessions_have_their_own_trackers(frames):
    """Two sessions fed the same frames give the same track ids: neither sees the other's history."""
    def ids(session):
        out = []
        for frame in frames[:8]:
            a = _take(session, frame)["a"]
            if a.prediction and a.prediction.result.faces:
                out.append(a.prediction.result.faces[0].track_id)
        return out

    s1, s2 = StreamSession("face", MODELS, CONTROLS), StreamSession("face", MODELS, CONTROLS)
    first = ids(s1)
    second = ids(s2)  # after s1's tracker has seen 8 frames
    assert first and None not in first and second[: len(first)] == first[: len(second)]
    assert s1.sides["a"].tracker is not s2.sides["a"].tracker


def test_switching_a_model_mid_stream_takes_effect_on_the_next_frame(frames):
    session = StreamSession("face", MODELS, CONTROLS)
    _drain(session, frames[0])
    session.set_model("b", "face/blazeface-full")
    assert _take(session, frames[1])["b"].prediction.model == "face/blazeface-full"


def test_each_browser_session_gets_a_fresh_copy_of_the_stream_state(frames):
    """The tab's gr.State holds a StreamSession; Gradio deep-copies it for each browser session."""
    import copy

    template = StreamSession("face", MODELS, CONTROLS)
    s1, s2 = copy.deepcopy(template), copy.deepcopy(template)
    assert s1 is not s2 and s1.models == MODELS and {k: o.to_json() for k, o in s1.controls.items()} == CONTROLS
    outs = _drain(s1, frames[0])  # frames carry no models: the session's own are used
    assert outs["a"].prediction.model == MODELS["a"] and outs["b"].prediction.model == MODELS["b"]
    s1.set_model("b", "face/blazeface-full")
    assert s2.models["b"] == MODELS["b"] and template.models["b"] == MODELS["b"]
    assert s2.sides["a"].last is None and s2.sides["a"].tracker is None
    assert s1.offer is not s2.offer


def test_pickers_and_sliders_reach_the_stream_through_the_handlers(frames):
    """The tab's handlers, called as the page's events call them, change what the next frame runs with."""
    from playground.ui import on_controls, on_pick

    session = StreamSession("face", MODELS, CONTROLS)
    _drain(session, frames[0])
    readout, reference, *updates = on_pick("face", "b", "face/blazeface-full", session)
    assert get_spec("face/blazeface-full").name in readout and "own defaults: score threshold" in reference
    on_controls("face", session, 0.99, 5, 0.5, 5)  # A's threshold, A's max, B's threshold, B's max
    outs = _take(session, frames[1])
    assert outs["b"].prediction.model == "face/blazeface-full"
    assert len(outs["a"].prediction.result.faces) == 0  # a 0.99 threshold leaves BlazeFace nothing here
    assert len(outs["b"].prediction.result.faces) == 1


def test_a_broken_model_on_one_side_does_not_stop_the_other(frames):
    session = StreamSession("face", {"a": "face/blazeface-short", "b": "face/nope"}, CONTROLS)
    outs = _drain(session, frames[0])
    assert outs["a"].prediction is not None
    assert outs["b"].error and "unknown model 'face/nope'" in outs["b"].error
    assert outs["b"].message("b")["error"] == outs["b"].error and "draw" not in outs["b"].message("b")


def test_an_unreadable_frame_is_a_sentence_and_the_stream_goes_on(frames):
    session = StreamSession("face", MODELS, CONTROLS)
    with pytest.raises(ImageError):
        session.take(b"\xff\xd8\xff garbage")
    assert _take(session, frames[0])["a"].prediction is not None


def test_predict_pair_refuses_bad_input_clearly(grace):
    with pytest.raises(ImageError):
        predict_pair("face", None, "face/blazeface-short", "face/facemesh")
    with pytest.raises(ZooError, match="not a face model"):
        predict_pair("face", grace, "face/blazeface-short", "pose/blazepose-full")
    a, b, payload = predict_pair("face", grace, "face/blazeface-short", "face/facemesh")
    assert payload["agreement"]["matched"] == 1


def test_a_stream_shows_a_hub_models_download_while_the_other_side_runs(fake_hub, frames):
    from tests.fakehub import FakeRepo
    from tests.tinymodels import padded_onnx, yunet_onnx
    from zoo.cache import MODELS
    from zoo.registry import get_spec

    spec = get_spec("face/yunet")
    fake_hub.add(spec.source.repo_id, FakeRepo({spec.source.filename: padded_onnx(yunet_onnx(spec.input_size), 24)}))
    fake_hub.file_seconds = 3.0
    session = StreamSession("face", {"a": "face/blazeface-short", "b": "face/yunet"}, CONTROLS)
    notes, a_frames = [], 0
    try:
        b_future = session.take(frames[0])["b"]
        t0 = time.monotonic()
        while not b_future.done() and time.monotonic() - t0 < 30:
            a = session.take(frames[0]).get("a")
            a_frames += a is not None and a.result(timeout=10).prediction is not None
            notes.append((session.loading["b"], session.load_note["b"]))
        out = b_future.result(timeout=30)
        assert out.prediction is not None, out.error
        assert any(loading and "downloading opencv/face_detection_yunet" in note for loading, note in notes), notes[::10]
        assert a_frames >= 5  # A kept running while B downloaded
        assert not session.loading["b"]
    finally:
        MODELS.discard("face/yunet")


@pytest.mark.media
def test_tracking_mode_finds_what_static_mode_finds_on_video_frames():
    """Speed does not buy wrong answers: a stream's video-mode runner against the shared static one, frame
    by frame on video.avi (a person turning in the foreground)."""
    from bench.fakecam import _frames_from_video
    from playground.backends import Stream
    from playground.stream_runners import StreamRunners
    from tasks.pose import keypoint_distance
    from zoo.registry import get_spec

    frames = _frames_from_video(640, 480, 40)
    for model_id in ("pose/blazepose-full", "hands/mediapipe-full", "face/facemesh"):
        spec, pool = get_spec(model_id), StreamRunners()
        try:
            for frame in frames[::4]:
                static = predict(spec, frame).result
                tracked = predict(spec, frame, stream=Stream("test/a", lambda: pool.runner_for("a", spec))).result
                assert abs(len(static) - len(tracked)) <= 1, model_id
                if model_id.startswith("pose") and len(static) and len(tracked):
                    rel, n = keypoint_distance(static.people[0], tracked.people[0])
                    assert n == 0 or rel < 0.1, (model_id, rel)
                elif len(static) and len(tracked):  # the same hands and faces, in about the same places
                    from tasks.agreement import match_boxes

                    pairs = match_boxes(static.boxes, tracked.boxes, 0.5)
                    assert len(pairs) >= min(len(static), len(tracked)) - 1, (model_id, pairs)
        finally:
            pool.close()


def test_a_streams_tracking_runners_are_its_own_bounded_and_closed(frames, monkeypatch):
    from playground.stream_runners import StreamRunners

    base = StreamRunners.open_count()
    pair = {"a": "face/facemesh", "b": "face/blazeface-short"}
    s1 = StreamSession("face", pair, CONTROLS)
    _drain(s1, frames[0])
    assert StreamRunners.open_count() == base + 1  # face mesh has a video mode; BlazeFace uses the shared one
    monkeypatch.setenv("PLAYGROUND_MAX_TRACKERS", str(base + 1))
    s2 = StreamSession("face", pair, CONTROLS)
    outs = _drain(s2, frames[0])
    assert "the playground is busy" in outs["a"].error and outs["b"].prediction is not None
    s1.close()
    assert StreamRunners.open_count() == base
    outs = _drain(s2, frames[1])  # a slot is free again
    assert outs["a"].prediction is not None and StreamRunners.open_count() == base + 1
    s2.close()
    assert StreamRunners.open_count() == base


@pytest.mark.parametrize("task", ["face", "hands", "pose", "gesture", "segmentation"])
def test_overlays_draw_what_the_server_draws(task, grace):
    """The live overlay is the task's own drawing recorded: the same boxes, points, colours and sizes as the
    picture the server draws, inside the frame; a segmentation mask travels as a small see-through PNG."""
    import base64
    import json

    from tasks import TASKS
    from tasks.draw import PALETTE, Canvas
    from playground.ui import default_pair

    model = default_pair(task)[0]
    result = predict(model, grace).result
    ops = TASKS[task].overlay(grace.shape, result)
    json.dumps(ops)  # plain JSON
    h, w = grace.shape[:2]
    thickness = Canvas(grace).thickness
    for op in ops:
        if op["op"] == "boxes":
            assert np.allclose(op["xyxy"], result.boxes, atol=0.06) and op["thickness"] == thickness
            assert op["colors"][0] == PALETTE.by_idx(0).as_hex()
        if op["op"] == "points" and task == "pose":  # every keypoint, hidden ones (legs below the frame) marked
            person = result.people[0]
            assert np.allclose(op["xy"][0], [[k.x, k.y] for k in person.keypoints], atol=0.06)
            assert op["visible"][0] == [int(k.score >= 0.5) for k in person.keypoints]
        elif op["op"] in ("points", "mesh"):
            xy = np.array(op["xy"]).reshape(-1, 2)
            assert (xy[:, 0] <= w + 1).all() and (xy[:, 1] <= h + 1).all()
        if op["op"] == "mask":
            png = np.frombuffer(base64.b64decode(op["png"]), np.uint8)
            rgba = cv2.imdecode(png, cv2.IMREAD_UNCHANGED)
            assert rgba.shape == (op["height"], op["width"], 4) and max(rgba.shape[:2]) <= 320
            small = cv2.resize(result.foreground_mask().astype(np.uint8), (op["width"], op["height"]),
                               interpolation=cv2.INTER_NEAREST).astype(bool)
            assert ((rgba[..., 3] > 0) == small).mean() > 0.99
    expected = {"face": {"boxes", "points"}, "pose": {"boxes", "points"}, "segmentation": {"mask", "legend"},
                "hands": set(), "gesture": set()}[task]  # Grace Hopper's hands are out of the picture
    assert expected <= {op["op"] for op in ops}, [op["op"] for op in ops]
