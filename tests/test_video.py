"""A video file through A and B: one side-by-side video, per-frame latency, a cap on length."""
import cv2
import numpy as np
import pytest

from bench.fakecam import make_frames
from playground.video import process_video
from zoo.errors import ZooError


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """Two seconds at 10 fps of the fake-camera scene (a real face gliding across), as an MJPG avi."""
    path = tmp_path_factory.mktemp("video") / "clip.avi"
    frames = make_frames(320, 240, fps=10, seconds=2.0)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for f in frames:
        w.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    w.release()
    return path


def test_video_gives_a_side_by_side_video_and_latency_per_frame(clip):
    seen = []
    rep = process_video("face", clip, "face/blazeface-short", "face/facemesh",
                        progress=lambda f, d: seen.append(f), max_seconds=1.5)
    assert rep.frames == 15, "capped at 1.5 s of a 10 fps clip"
    assert len(rep.latency["a"]) == len(rep.latency["b"]) == rep.frames
    assert all(np.isfinite(rep.latency["a"])) and not rep.errors
    assert seen and seen[-1] == pytest.approx(1.0)
    cap = cv2.VideoCapture(rep.path)
    ok, frame = cap.read()
    assert ok and frame.shape[1] == 2 * 320 and frame.shape[0] == 240
    n = 1
    while cap.read()[0]:
        n += 1
    assert n == rep.frames
    rows = rep.csv_rows({"a": "face/blazeface-short", "b": "face/facemesh"})  # the per-frame CSV's rows
    assert len(rows) == rep.frames and rows[3]["time_s"] == pytest.approx(0.3)
    assert rows[3]["a_latency_ms"] == round(rep.latency["a"][3], 2) and rows[3]["b_model"] == "face/facemesh"
    assert sum(r["a_found"] for r in rows) >= rep.frames // 2  # the gliding face, found in most frames


def test_a_file_that_is_not_a_video_is_refused(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(ZooError, match="could not read the video|no frames"):
        process_video("face", bad, "face/blazeface-short", "face/facemesh")


def test_a_broken_model_is_reported_and_the_other_side_still_runs(clip):
    rep = process_video("face", clip, "face/blazeface-short", "face/nope", max_seconds=0.5)
    assert rep.frames == 5 and all(np.isfinite(rep.latency["a"]))
    assert any("unknown model 'face/nope'" in e for e in rep.errors)


def test_a_clip_stored_sideways_with_a_display_rotation_is_read_upright(tmp_path, grace):
    """A phone keeps a portrait clip as landscape frames plus a display matrix that turns them; the models
    and the side-by-side video see the picture as the phone shows it."""
    import av

    from playground.video import upright

    portrait = grace[:600 - 600 % 16, :512]  # 512 wide, 592 high: the picture as it should be seen
    stored = np.ascontiguousarray(np.rot90(portrait, -1))  # turned a quarter clockwise, as the sensor has it
    path = tmp_path / "portrait.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = stored.shape[1], stored.shape[0], "yuv420p"
        stream.options = {"qscale": "2"}
        stream.set_display_rotation(90)
        for _ in range(10):
            for packet in stream.encode(av.VideoFrame.from_ndarray(stored, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with av.open(str(path)) as container:
        frame = upright(next(container.decode(video=0)))
    assert frame.shape == portrait.shape
    assert np.abs(frame.astype(int) - portrait).mean() < 8, "upright, and the same picture"
    rep = process_video("face", path, "face/blazeface-short", "face/facemesh", max_seconds=1.0)
    with av.open(rep.path) as container:
        side_by_side = next(container.decode(video=0))
    assert side_by_side.width < 2 * side_by_side.height, "two portrait panels, not two landscape ones"
