"""The live path without a browser: per-session state, latest-frame-wins, mirroring, agreement."""
import time

import cv2
import numpy as np
import pytest

from bench.fakecam import make_frames
from playground.engine import predict
from playground.live import RateMeter, StreamSession, predict_pair
from zoo.errors import ZooError
from zoo.images import ImageError

MODELS = {"a": "face/blazeface-short", "b": "face/facemesh"}
CONTROLS = {"a": {"min_score": 0.5, "max_results": 5}, "b": {"min_score": 0.5, "max_results": 5}}


@pytest.fixture(scope="module")
def frames():
    return make_frames(640, 480, fps=25, seconds=6)[:40]  # the face glides ~5 px a frame


def _drain(session, frame, models=MODELS, controls=CONTROLS):
    outs = {"a": None, "b": None}
    for _ in range(50):
        up = session.submit(frame, models, controls, wait_s=0.5)
        outs["a"] = up.a or outs["a"]
        outs["b"] = up.b or outs["b"]
        if outs["a"] and outs["b"]:
            return outs, up
        time.sleep(0.02)
    raise AssertionError("no output")


def test_a_stream_gives_both_sides_tracked_mirrored_results(frames):
    session = StreamSession("face")
    ids = []
    for frame in frames[:20]:
        up = session.submit(frame, MODELS, CONTROLS, wait_s=1.0)
        if up.a and up.a.prediction and up.a.prediction.result.faces:
            ids.append(up.a.prediction.result.faces[0].track_id)
    assert len(ids) >= 10 and len(set(ids[1:])) == 1 and ids[-1] is not None
    a = session.sides["a"].last
    assert a.annotated.shape == (480, 640, 3)
    # The camera's frame is shown mirrored, like the preview: the picture is the flipped frame (away from
    # the drawings, its bottom-left corner is the frame's bottom-right) and the box is where the face is in it.
    shown = cv2.flip(frames[19], 1)
    assert np.abs(a.annotated[-8:, :40].astype(int) - shown[-8:, :40]).mean() < 2
    assert np.abs(a.annotated[-8:, :40].astype(int) - frames[19][-8:, :40]).mean() > 10
    box = a.prediction.result.faces[0].box
    x0, y0, x1, y1 = predict("face/blazeface-short", frames[19]).result.faces[0].box  # the camera's view
    assert np.allclose(box, (640 - x1, y0, 640 - x0, y1), atol=0.5)
    assert np.allclose(box, predict("face/blazeface-short", shown).result.faces[0].box, atol=8)
    assert session.agreement is not None and session.agreement["matched"] == 1


def test_latest_frame_wins_nothing_queues(frames):
    session = StreamSession("face")
    slow = {"a": "face/blazeface-short", "b": "face/haar-frontal"}  # Haar: ~70 ms a frame here
    _drain(session, frames[0], slow)
    futures_b = set()
    for frame in frames[:15]:  # frames arrive far faster than Haar can take them
        session.submit(frame, slow, CONTROLS, wait_s=0.0)
        if session.sides["b"].future is not None:
            futures_b.add(id(session.sides["b"].future))
    last = session.seq
    for _ in range(100):  # let B finish what it holds, then look at what it did
        if session.sides["b"].future is None or session.sides["b"].future.done():
            break
        time.sleep(0.02)
    session.submit(frames[0], slow, CONTROLS, wait_s=0.5)
    done_b = [o.seq for o in session.sides["b"].recent if o.seq > 1]
    # B took a few of the 15 frames and skipped the rest, instead of queueing them
    assert 1 <= len(futures_b) <= 4, len(futures_b)
    assert len([s for s in done_b if s <= last]) <= 4 and len(done_b) < 15


def test_two_sessions_have_their_own_trackers(frames):
    """Two sessions fed the same frames give the same track ids: neither sees the other's history."""
    def ids(session):
        out = []
        for frame in frames[:8]:
            up = session.submit(frame, MODELS, CONTROLS, wait_s=1.0)
            if up.a and up.a.prediction and up.a.prediction.result.faces:
                out.append(up.a.prediction.result.faces[0].track_id)
        return out

    s1, s2 = StreamSession("face"), StreamSession("face")
    first = ids(s1)
    second = ids(s2)  # after s1's tracker has seen 8 frames
    assert first and None not in first and second[: len(first)] == first[: len(second)]
    assert s1.sides["a"].tracker is not s2.sides["a"].tracker


def test_switching_a_model_mid_stream_takes_effect(frames):
    session = StreamSession("face")
    _drain(session, frames[0])
    switched = {"a": "face/blazeface-short", "b": "face/blazeface-full"}
    seen = []
    for i in range(100):  # within a bounded number of frames, B shows the new model
        up = session.submit(frames[1 + i % 5], switched, CONTROLS, wait_s=1.0)
        if up.b and up.b.prediction:
            seen.append(up.b.prediction.model)
            if seen[-1] == "face/blazeface-full":
                break
        time.sleep(0.02)
    assert seen and seen[-1] == "face/blazeface-full", seen


def test_each_browser_session_gets_a_fresh_copy_of_the_stream_state(frames):
    """The tab's gr.State holds a StreamSession; Gradio deep-copies it for each browser session."""
    import copy

    template = StreamSession("face", MODELS, CONTROLS)
    s1, s2 = copy.deepcopy(template), copy.deepcopy(template)
    assert s1 is not s2 and s1.models == MODELS and s1.controls == CONTROLS
    outs, _ = _drain(s1, frames[0], None, None)  # frames carry no models: the session's own are used
    assert outs["a"].prediction.model == MODELS["a"] and outs["b"].prediction.model == MODELS["b"]
    s1.set_model("b", "face/blazeface-full")
    assert s2.models["b"] == MODELS["b"] and template.models["b"] == MODELS["b"]
    assert s2.sides["a"].last is None and s2.sides["a"].tracker is None


def test_pickers_and_sliders_reach_the_stream_through_the_session(frames):
    from playground.ui import live_readouts

    session = StreamSession("face", MODELS, CONTROLS)
    _drain(session, frames[0], None, None)
    ra, rb, agreement = live_readouts(session)
    assert "ms model latency" in ra and "face/blazeface-short" in ra and "face/facemesh" in rb
    assert "Agreement of A and B:" in agreement
    session.set_model("b", "face/blazeface-full")
    session.set_controls({"a": {"min_score": 0.99, "max_results": 5}, "b": CONTROLS["b"]})
    _, rb = live_readouts(session)[:2]
    assert "face/blazeface-full" in rb and "ms model latency" not in rb  # the old model's figures are gone
    seen_b, faces_a = None, None
    for i in range(60):
        up = session.submit(frames[1 + i % 5], wait_s=1.0)
        if up.b and up.b.prediction:
            seen_b = up.b.prediction.model
        if up.a and up.a.prediction and i > 2:
            faces_a = len(up.a.prediction.result.faces)
        if seen_b == "face/blazeface-full" and faces_a is not None:
            break
    assert seen_b == "face/blazeface-full"
    assert faces_a == 0  # a 0.99 threshold leaves BlazeFace nothing on this frame
    assert "face/blazeface-full" in live_readouts(session)[1]


def test_a_broken_model_on_one_side_does_not_stop_the_other(frames):
    session = StreamSession("face")
    outs, _ = _drain(session, frames[0], {"a": "face/blazeface-short", "b": "face/nope"})
    assert outs["a"].prediction is not None
    assert outs["b"].error and "unknown model 'face/nope'" in outs["b"].error


def test_predict_pair_refuses_bad_input_clearly(grace):
    with pytest.raises(ImageError):
        predict_pair("face", None, "face/blazeface-short", "face/facemesh")
    with pytest.raises(ZooError, match="not a face model"):
        predict_pair("face", grace, "face/blazeface-short", "pose/blazepose-full")
    a, b, payload = predict_pair("face", grace, "face/blazeface-short", "face/facemesh")
    assert payload["agreement"]["matched"] == 1


def test_rate_meter_counts_frames_per_second():
    m = RateMeter(window_s=3.0)
    for i in range(31):
        m.tick(100.0 + i * 0.1)
    assert m.rate(103.0) == pytest.approx(10.0, rel=0.01)
    assert m.rate(110.0) == 0.0


def test_streamed_frames_travel_inline_and_still_images_as_files(grace):
    import base64

    import cv2

    from playground.components import Inline, OutputImage

    out = OutputImage(format="jpeg")
    inline = out.postprocess(Inline(grace))
    assert inline.path is None and inline.url.startswith("data:image/jpeg;base64,")
    raw = np.frombuffer(base64.b64decode(inline.url.split(",", 1)[1]), np.uint8)
    back = cv2.cvtColor(cv2.imdecode(raw, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert back.shape == grace.shape and np.abs(back.astype(int) - grace).mean() < 8
    as_file = out.postprocess(grace)
    assert as_file.path and as_file.path.endswith((".jpeg", ".jpg"))
    assert out.get_block_name() == "image"


def test_a_stream_shows_a_hub_models_download_while_the_other_side_runs(fake_hub, frames):
    from playground.ui import live_readouts
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
        t0 = time.monotonic()
        while time.monotonic() - t0 < 30:
            up = session.submit(frames[0], wait_s=0.05)
            a_frames += up.a is not None
            rb = live_readouts(session)[1]
            notes.append(rb)
            if up.b is not None:
                break
        assert up.b is not None and up.b.prediction is not None, notes[-1]
        during = [n for n in notes if "loading the model (first use)… downloading opencv/face_detection_yunet" in n]
        assert during, notes[::10]
        assert a_frames >= 5  # A kept running while B downloaded
        assert "ms model latency" in live_readouts(session)[1]
    finally:
        MODELS.discard("face/yunet")


@pytest.mark.media
def test_tracking_mode_finds_what_static_mode_finds_on_video_frames():
    """Speed does not buy wrong answers: a stream's video-mode runner against the shared static one, frame
    by frame on video.avi (a person turning in the foreground)."""
    from bench.fakecam import _frames_from_video
    from playground.live import TrackingRunners
    from tasks.pose import keypoint_distance
    from zoo.registry import get_spec

    frames = _frames_from_video(640, 480, 40)
    for model_id in ("pose/blazepose-full", "hands/mediapipe-full", "face/facemesh"):
        spec, pool = get_spec(model_id), TrackingRunners()
        try:
            for frame in frames[::4]:
                static = predict(spec, frame).result
                tracked = predict(spec, frame, runner=pool.runner_for("a", spec)).result
                assert abs(len(static) - len(tracked)) <= 1, model_id
                if model_id.startswith("pose") and len(static) and len(tracked):
                    rel, n = keypoint_distance(static.people[0], tracked.people[0])
                    assert n == 0 or rel < 0.1, (model_id, rel)
                elif len(static) and len(tracked):  # the same hands and faces, in about the same places
                    from tasks.base import match_boxes

                    pairs = match_boxes(static.boxes, tracked.boxes, 0.5)
                    assert len(pairs) >= min(len(static), len(tracked)) - 1, (model_id, pairs)
        finally:
            pool.close()


def test_a_streams_tracking_runners_are_its_own_bounded_and_closed(frames, monkeypatch):
    from playground.live import TrackingRunners

    base = TrackingRunners.open_count()
    pose = {"a": "face/facemesh", "b": "face/blazeface-short"}
    s1 = StreamSession("face", pose, CONTROLS)
    _drain(s1, frames[0], None, None)
    assert TrackingRunners.open_count() == base + 1  # face mesh has a video mode; BlazeFace uses the shared one
    monkeypatch.setenv("PLAYGROUND_MAX_TRACKERS", str(base + 1))
    s2 = StreamSession("face", pose, CONTROLS)
    outs, _ = _drain(s2, frames[0], None, None)
    assert "the playground is busy" in outs["a"].error and outs["b"].prediction is not None
    s1.close()
    assert TrackingRunners.open_count() == base
    outs, _ = _drain(s2, frames[1], None, None)  # a slot is free again
    assert outs["a"].prediction is not None and TrackingRunners.open_count() == base + 1
    s2.close()
    assert TrackingRunners.open_count() == base
