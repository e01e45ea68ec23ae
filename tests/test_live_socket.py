"""The live socket driven by a scripted client (no browser), against the launched app: what the page's
live view relies on, and what a hostile client can and cannot do to it."""
import time

import numpy as np
import orjson
import pytest

from bench.browser import wait_for
from bench.fakecam import make_frames
from bench.live_client import HEADER, LiveClient, drive, frame_message, jpeg
from playground.live import StreamSession
from playground.pair import predict_pair
from playground.stream_runners import StreamRunners
from playground.live_socket import TICKETS
from zoo.images import load_image, sample_image_path

FACE = {"a": "face/blazeface-short", "b": "face/facemesh"}


@pytest.fixture(scope="module")
def frames():
    return [jpeg(f) for f in make_frames(640, 480, fps=25, seconds=2)[:20]]


def no_live_socket_open(timeout: float = 30.0) -> None:
    """Wait until the server has let go of every live socket (an earlier test closes its sockets at its
    teardown, and the server frees their slots as it hears them go): the slot counts then start from 0."""
    assert wait_for(lambda: (TICKETS.pages, TICKETS.open) == (0, 0), timeout, 0.05), \
        "a live socket of an earlier test is still open"


@pytest.fixture
def live(app_url):
    """Open sockets on the app for sessions made here (after every earlier one has gone); all closed
    afterwards."""
    no_live_socket_open()
    opened = []

    def open_(models=FACE, task="face"):
        session = StreamSession(task, models)
        client = LiveClient(app_url, TICKETS.issue(session))
        assert client.wait_for(lambda m: m["type"] == "ready", 10), client.messages
        opened.append((client, session))
        return client, session

    yield open_
    for client, session in opened:
        client.close()
        session.close()


def _result(client, seq, side, start=0, timeout=30):
    return client.wait_for(lambda m: m["type"] == "result" and m["seq"] == seq and m["side"] == side, timeout, start)


def _schema(value):
    """The shape of a JSON value: its keys and the kinds of its leaves, not their values."""
    if isinstance(value, dict):
        return {k: _schema(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_schema(value[0])] if value else []
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    return "number" if isinstance(value, (int, float)) else type(value).__name__


def test_a_frames_results_are_the_apis_results_for_that_frame(live):
    """Same frame, same model: the socket's result is the API's JSON (plus seq, the frame's size and the
    overlay), with the same faces in the same places; only the stream's track ids are added."""
    client, _ = live({"a": "face/blazeface-short", "b": "face/yunet-nope"})
    photo = sample_image_path().read_bytes()  # 512x600: decoded the same way by both paths
    client.send(frame_message(1, photo, mirror=False))
    got = _result(client, 1, "a")
    assert got is not None, client.messages[-3:]
    _, _, api = predict_pair("face", load_image(sample_image_path()), "face/blazeface-short", "face/blazeface-full")
    want = api["a"]
    assert set(got) == {"type", "side", "seq", "image", "draw", *want}
    assert got["image"] == api["image"] and got["model"] == want["model"]
    for face in want["result"]["faces"]:
        face["track_id"] = 1  # a stream's faces carry their track id; a still image's carry null
    assert _schema(got["result"]) == _schema(want["result"])
    assert np.allclose(got["result"]["faces"][0]["box"], want["result"]["faces"][0]["box"], atol=0.01)
    assert got["result"]["faces"][0]["keypoints"] == want["result"]["faces"][0]["keypoints"]
    bad = _result(client, 1, "b")  # a model nobody offered: that side's sentence, the other side ran
    assert "unknown model" in bad["error"] and "draw" not in bad


def test_latest_frame_wins_a_slow_side_skips_frames_and_the_delay_does_not_grow(live, frames):
    client, _ = live({"a": "face/blazeface-short", "b": "face/haar-frontal"})  # Haar: ~70 ms a frame
    rep = drive(client, frames, 4.0, flood=True)  # 4 s of frames sent back to back, never waiting
    b = [m["seq"] for m in rep.results["b"]]
    a = [m["seq"] for m in rep.results["a"]]
    assert rep.sent >= 60 and len(b) >= 5, (rep.sent, len(b))
    assert len(b) < rep.sent / 2 and len(a) > len(b)  # B skipped frames instead of queueing them
    assert all(y > x for x, y in zip(b, b[1:]))  # always a newer frame, never an old one from a queue
    # the wait in the server (from its reading the frame to B's answer) stays about one of B's frames: it
    # does not grow as a queue's would. Not measured from the send: a flood also fills the socket's buffers on
    # the way in, which a busy machine's network stack drains at its own pace (the page never floods)
    delays = rep.server_delays_ms["b"]
    third = len(delays) // 3
    assert third >= 2 and np.median(delays[-third:]) < 2 * np.median(delays[:third]) + 100, delays


def test_malformed_messages_get_a_sentence_and_the_session_goes_on(live, frames):
    client, _ = live()
    client.send("hello")  # text that is not JSON
    client.send('{"type": "explode"}')
    client.send(b"\x01\x02")  # binary too short for a header
    client.send(frame_message(7, b"\xff\xd8\xff not really a jpeg"))
    client.send('{"type": "ping", "t": 12.5}')
    assert client.wait_for(lambda m: m["type"] == "pong" and m["t"] == 12.5, 10)
    errors = client.of_type("error")
    assert len(errors) == 3 and all("live socket takes frames" in e["message"] or "8-byte header" in e["message"]
                                    for e in errors), errors
    dropped = client.wait_for(lambda m: m["type"] == "dropped" and m["seq"] == 7, 10)
    assert dropped and "not a" in dropped["message"] and "/" not in dropped["message"], dropped
    client.send(frame_message(8, frames[0]))
    assert _result(client, 8, "a") and _result(client, 8, "b")  # still served


def test_oversized_and_too_fast_frames_are_dropped_with_a_sentence(live, frames, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_LIVE_MAX_FRAME_KB", "16")
    monkeypatch.setenv("PLAYGROUND_LIVE_MAX_FPS", "5")
    client, _ = live()  # the limits are read when the socket opens
    big = frame_message(1, frames[0] + b"\0" * 20_000)
    client.send(big)
    too_big = client.wait_for(lambda m: m["type"] == "dropped" and m["seq"] == 1, 10)
    assert "larger than 16 kB" in too_big["message"]
    small = jpeg(load_image(sample_image_path(), max_side=160), quality=60)
    t0 = time.monotonic()
    for seq in range(2, 32):  # 30 frames at once, at most 5 a second allowed
        client.send(frame_message(seq, small))
    assert client.wait_for(lambda m: m["type"] == "dropped" and "more than 5 frames a second" in m["message"], 10)

    def answered():  # each of the 30 frames is answered once: dropped as too fast, or taken
        fast = [m for m in client.of_type("dropped") if "frames a second" in m["message"]]
        taken = [m for m in client.of_type("taken") if 2 <= m["seq"] < 32 and not m.get("picked")]
        return fast, taken

    assert client.wait_for(lambda _: sum(map(len, answered())) >= 30, 30), [len(x) for x in answered()]
    elapsed = time.monotonic() - t0
    fast, taken = answered()
    # the bucket's 5, plus 5 a second for as long as the server took to read them (a slower machine reads
    # the 30 frames over more time, and so may take a few more; never all of them)
    assert len(taken) <= 6 + 5 * elapsed and len(fast) + len(taken) == 30, (len(fast), len(taken), elapsed)


def test_a_socket_needs_a_live_sessions_ticket_and_their_number_is_capped(app_url, live, monkeypatch):
    stranger = LiveClient(app_url, "not-a-ticket")
    closed = stranger.wait_for(lambda m: m["type"] == "closed", 10)
    stranger.close()
    assert closed and "expired" in closed["message"]
    monkeypatch.setenv("PLAYGROUND_MAX_LIVE_PAGES", str(TICKETS.pages + 1))
    live()
    session = StreamSession("face", FACE)
    late = LiveClient(app_url, TICKETS.issue(session))
    busy = late.wait_for(lambda m: m["type"] == "closed", 10)
    late.close()
    session.close()
    assert busy and "the playground is busy" in busy["message"]


def test_a_page_that_runs_both_sides_itself_holds_no_server_slot(app_url, live, frames, monkeypatch):
    """Every server slot taken: a page whose both sides run in the browser still opens its socket and is
    answered (pings, the pickers' models), and only a frame for the server is told the server is busy; a page
    that had a slot gives it back when it moves both sides into the browser."""
    client, _ = live()
    client.send(frame_message(1, frames[0]))
    assert _result(client, 1, "a")
    held = TICKETS.open
    client.send(orjson.dumps({"type": "ping", "t": 1, "device": ["a", "b"]}).decode())
    assert client.wait_for(lambda m: m["type"] == "pong", 10)
    deadline = time.monotonic() + 10
    while TICKETS.open != held - 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert TICKETS.open == held - 1, "both sides in the page: the server slot is given back"
    other, _ = live()  # a page with its sides on the server takes a slot with its first frame
    other.send(frame_message(1, frames[0]))
    assert _result(other, 1, "a") and TICKETS.open == held
    monkeypatch.setenv("PLAYGROUND_MAX_LIVE", str(TICKETS.open))  # no server slot left
    pages = TICKETS.pages
    session = StreamSession("face", FACE)  # another visitor (an address's share is two live views)
    device_only = LiveClient(app_url, TICKETS.issue(session), source="127.0.0.71")
    try:
        device_only.send(orjson.dumps({"type": "ping", "t": 2, "device": ["a", "b"]}).decode())
        assert device_only.wait_for(lambda m: m["type"] == "pong", 10) and TICKETS.pages == pages + 1
        assert device_only.wait_for(lambda m: m["type"] == "models", 10), "the pickers' models reach the page"
        device_only.send(frame_message(1, frames[0]))
        busy = device_only.wait_for(lambda m: m["type"] == "closed", 10)
        assert busy and "every live slot on its server is taken" in busy["message"], device_only.messages
    finally:
        device_only.close()
        session.close()


def test_closing_the_socket_or_the_session_frees_everything(app_url, frames):
    no_live_socket_open()
    base_runners, base_open = StreamRunners.open_count(), TICKETS.open
    session = StreamSession("face", FACE)  # face mesh runs in video mode: a runner of the stream's own
    client = LiveClient(app_url, TICKETS.issue(session))
    client.send(frame_message(1, frames[0]))
    assert _result(client, 1, "b")["model"] == "face/facemesh"
    assert StreamRunners.open_count() == base_runners + 1 and TICKETS.open == base_open + 1
    client.close()
    deadline = time.monotonic() + 10
    while (StreamRunners.open_count(), TICKETS.open) != (base_runners, base_open) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (StreamRunners.open_count(), TICKETS.open) == (base_runners, base_open)
    # the browser session ends (Gradio drops its state): its socket is told and closed
    client = LiveClient(app_url, TICKETS.issue(session))
    client.send(frame_message(2, frames[1]))
    assert _result(client, 2, "b")
    session.close()
    closed = client.wait_for(lambda m: m["type"] == "closed", 10)
    client.close()
    assert closed and "closed" in closed["message"]
    assert StreamRunners.open_count() == base_runners


def test_the_frame_header_is_what_the_page_sends():
    """The page's Worker writes the header with a DataView (little-endian uint32, then the flags byte)."""
    data = frame_message(258, b"JPEG", mirror=True)
    assert data[:8] == bytes([2, 1, 0, 0, 1, 0, 0, 0]) and HEADER.unpack_from(data) == (258, 1)


def test_a_frame_sent_again_for_one_side_runs_on_that_side_only(live, frames):
    """The page sends the frame on screen again, same number, for a side that freed up first; the other side,
    which has done that frame, does not run it again."""
    client, session = live()
    client.send(frame_message(1, frames[0], sides="a"))
    taken = client.wait_for(lambda m: m["type"] == "taken" and m["seq"] == 1, 10)
    # asked for A only, but B was free and had never had a frame that new: it takes it too
    assert taken["asked"] == ["a"] and taken["sides"] == ["a", "b"]
    assert _result(client, 1, "a") and _result(client, 1, "b")
    client.send(frame_message(1, frames[0], sides="b"))
    again = client.wait_for(lambda m: m["type"] == "taken" and m["seq"] == 1 and m["asked"] == ["b"], 10)
    assert again["sides"] == ["b"]
    assert client.wait_for(lambda m: m["type"] == "result" and m["seq"] == 1 and m["side"] == "b"
                           and len([r for r in client.of_type("result") if r["seq"] == 1]) == 3, 30)
    assert len([m for m in client.of_type("result") if m["seq"] == 1 and m["side"] == "a"]) == 1


def test_a_side_that_frees_up_takes_the_newest_frame_without_it_being_sent_again(live, frames):
    """Latest frame wins on the server too: frame 2 is sent for A only while B (Haar, ~70 ms) is busy with
    frame 1; B answers frame 2 all the same, from the server's copy: either it was already free when frame 2
    came, or it picked frame 2 up the moment it finished frame 1 ("taken", picked, before that answer)."""
    client, _ = live({"a": "face/blazeface-short", "b": "face/haar-frontal"})
    client.send(frame_message(1, frames[0]))
    assert _result(client, 1, "a")
    client.send(frame_message(2, frames[1], sides="a"))
    b2 = _result(client, 2, "b")
    assert b2 and "error" not in b2 and b2["result"] is not None
    sent_for_b = [m for m in client.of_type("taken") if m["seq"] == 2 and "b" in m["sides"]]
    assert len(sent_for_b) == 1  # one start of frame 2 on B, with no second copy sent
    if sent_for_b[0].get("picked"):
        kinds = [(m.get("type"), m.get("seq"), m.get("side"), m.get("picked")) for _, m in client.messages]
        assert kinds.index(("taken", 2, None, True)) < kinds.index(("result", 1, "b", None)), kinds
    # frames then go on as usual
    client.send(frame_message(3, frames[2]))
    assert _result(client, 3, "a") and _result(client, 3, "b")
