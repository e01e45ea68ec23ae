"""One policy for every visitor (playground/guard.py), through the launched app: each route refuses a flood
from one address with a sentence while another address is served; forwarded headers are not believed;
bodies are small and shallow; connections are capped and must send their headers in time; live frames are
JPEGs within the caps and nothing else is decoded.

Other addresses are other loopback addresses (127.0.0.2, ...): the client binds its socket to one."""
from __future__ import annotations

import io
import json
import socket
import sys
import time
from urllib.parse import urlparse

import httpx
import numpy as np
import pytest
from PIL import Image

from bench.browser import wait_for
from bench.live_client import LiveClient, frame_message, http_from, jpeg, uploaded
from playground.guard import BUDGET, CONNECTIONS, json_depth_over
from playground.live import StreamSession
from playground.live_socket import TICKETS
from tests.test_safety import FACE, _answers, _error_of, gate  # noqa: F401 - the gate fixture
from zoo.images import sample_image_path

from gradio_client import Client, handle_file


def _host_port(app_url: str) -> tuple[str, int]:
    u = urlparse(app_url)
    return u.hostname, u.port


def _call(app_url: str, source: str, headers: dict | None = None) -> httpx.Response:
    """POST /gradio_api/call/face, as any HTTP client may: it joins the queue like the page does."""
    from bench.hostile import call_body

    with http_from(source) as http:
        photo = uploaded(http, app_url, "a.jpg", sample_image_path().read_bytes())
        return http.post(f"{app_url}gradio_api/call/face", json=call_body(app_url, "face", photo, *FACE),
                         headers=headers or {})


def _join(app_url: str, source: str) -> httpx.Response:
    """POST /gradio_api/queue/join for /face, as the page does (a session of its own)."""
    import secrets

    from bench.hostile import call_body

    with http_from(source) as http:
        photo = uploaded(http, app_url, "a.jpg", sample_image_path().read_bytes())
        body = call_body(app_url, "face", photo, *FACE)
        dep = next(d for d in http.get(f"{app_url}config").json()["dependencies"] if d.get("api_name") == "face")
        return http.post(f"{app_url}gradio_api/queue/join",
                         json={**body, "fn_index": dep["id"], "session_hash": secrets.token_hex(6)})


# --- requests ------------------------------------------------------------------------------------------

def test_json_nesting_is_measured_without_parsing():
    assert json_depth_over(b"[" * 33 + b"]" * 33) and not json_depth_over(b"[" * 32 + b"]" * 32)
    assert not json_depth_over(json.dumps({"a": "[[[[" * 100}).encode())  # brackets inside a string
    assert not json_depth_over(json.dumps({"data": [{"path": "x", "meta": {"_type": "f"}}, "a", "b"]}).encode())


def test_a_large_or_deeply_nested_json_body_is_refused_with_a_sentence(app_url):
    with http_from("127.0.0.1") as http:
        big = http.post(f"{app_url}gradio_api/call/face", content=b'{"data": ["' + b"x" * (2 << 20) + b'"]}',
                        headers={"content-type": "application/json"})
        deep = http.post(f"{app_url}gradio_api/call/face", content=b"[" * 100_000 + b"]" * 100_000,
                         headers={"content-type": "application/json"})
        join = http.post(f"{app_url}gradio_api/queue/join", content=b"{" * 50 + b"}" * 50,
                         headers={"content-type": "application/json"})
    assert big.status_code == 413 and "larger than 1024 kB" in big.json()["detail"]
    assert deep.status_code == 400 and "nested more than 32 levels" in deep.json()["detail"]
    assert join.status_code == 400
    # a declared 400 MB is refused from its header, before a byte of it is read
    host, port = _host_port(app_url)
    with socket.create_connection((host, port), timeout=30) as s:
        s.sendall(b"POST /gradio_api/call/face HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 400000000\r\n\r\n{")
        head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 413")
    _answers(Client(app_url, verbose=False))


def test_the_queue_counts_per_address_on_every_route_and_forwarded_headers_are_not_believed(
        app_url, monkeypatch, tmp_path, gate):
    from bench.hostile import high_rate_video

    monkeypatch.setenv("PLAYGROUND_PER_ADDRESS", "1")
    clip = high_rate_video(tmp_path / "clip.mp4", fps=15, seconds=2.0)
    busy = Client(app_url, verbose=False).submit(handle_file(str(clip)), *FACE, api_name="/face_video")
    try:
        assert gate.waiting.wait(120), "the video never started"
        # 127.0.0.1 holds its one place: /queue/join (the page, gradio_client) and /call (any HTTP client)
        assert "429" in _error_of(lambda: Client(app_url, verbose=False).predict(
            handle_file(str(sample_image_path())), *FACE, api_name="/face"))
        refused = _call(app_url, "127.0.0.1")
        assert refused.status_code == 429 and "at most 1" in refused.json()["detail"]
        spoofed = _call(app_url, "127.0.0.1", {"X-Forwarded-For": "203.0.113.9"})
        assert spoofed.status_code == 429, "a forwarded header from a peer nobody configured is not believed"
        other = _call(app_url, "127.0.0.2")
        assert other.status_code == 200 and "event_id" in other.json()
        assert _join(app_url, "127.0.0.2").status_code == 200, "another address joins the page's route too"
    finally:
        gate.release()
        busy.result(timeout=300)


def test_uploads_hold_a_place_of_their_address_while_they_stream(app_url, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_UPLOADS_PER_ADDRESS", "1")
    host, port = _host_port(app_url)
    slow = socket.create_connection((host, port), timeout=30, source_address=("127.0.0.3", 0))
    try:  # an upload that announces 1 MB and sends a few bytes of it
        slow.sendall(b"POST /gradio_api/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
                     b"Content-Type: multipart/form-data; boundary=b\r\n\r\n--b\r\n")
        deadline = time.monotonic() + 30
        while BUDGET.held("uploads", "127.0.0.3") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # polls for the server to reach the upload, up to a bound; it decides nothing
        files = {"files": ("a.jpg", sample_image_path().read_bytes(), "image/jpeg")}
        with http_from("127.0.0.3") as http:
            second = http.post(f"{app_url}gradio_api/upload", files=files)
        with http_from("127.0.0.4") as http:
            other = http.post(f"{app_url}gradio_api/upload", files=files)
    finally:
        slow.close()
    assert second.status_code == 429 and "uploads at once" in second.json()["detail"]
    assert other.status_code == 200


# --- connections ---------------------------------------------------------------------------------------

def _closed_by_server(s: socket.socket, timeout: float) -> bool:
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def _slowloris(host: str, port: int, source: str, count: int) -> list[socket.socket]:
    held = []
    for _ in range(count):  # a request line and one header, never finished
        s = socket.create_connection((host, port), timeout=30, source_address=(source, 0))
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        held.append(s)
    return held


def test_connections_per_address_are_capped_and_headers_must_arrive_in_time(app_url, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_CONNECTIONS_PER_ADDRESS", "4")
    monkeypatch.setenv("PLAYGROUND_HEADER_TIMEOUT_S", "2")
    monkeypatch.setenv("PLAYGROUND_HELD_FOR_S", "1")
    host, port = _host_port(app_url)
    before = CONNECTIONS.held
    held = _slowloris(host, port, "127.0.0.5", 7)
    try:
        assert wait_for(lambda: CONNECTIONS.held == before + 3, 30, 0.05), "the three past the share are held, unread"
        with http_from("127.0.0.6") as http:  # another address is served meanwhile
            assert http.get(app_url).status_code == 200
        closed = [_closed_by_server(s, 30) for s in held]  # four at the header timeout, three when their hold ends
    finally:
        for s in held:
            s.close()
    assert all(closed), closed
    assert wait_for(lambda: CONNECTIONS.held == before, 30, 0.05), "a held connection that ends leaves no place taken"


def test_connections_past_the_share_are_held_not_closed_so_a_slowloris_cannot_churn(app_url, monkeypatch):
    """Closed at once, a connection past its share came straight back: a client holding 500 kept the
    server's accept queue full, and honest connections waited behind it for seconds (bench.soak)."""
    monkeypatch.setenv("PLAYGROUND_CONNECTIONS_PER_ADDRESS", "2")
    monkeypatch.setenv("PLAYGROUND_HEADER_TIMEOUT_S", "60")
    monkeypatch.setenv("PLAYGROUND_HELD_FOR_S", "60")
    host, port = _host_port(app_url)
    before = CONNECTIONS.held
    monkeypatch.setenv("PLAYGROUND_HELD_CONNECTIONS", str(before + 2))  # room to hold two more in all
    held = _slowloris(host, port, "127.0.0.12", 5)
    try:
        # two in its share, two held, and the fifth closed at once: there is no room left to hold it
        assert _closed_by_server(held[4], 20), "past the room for held connections, closed at once"
        assert CONNECTIONS.held == before + 2
        assert not any(_closed_by_server(s, 0.2) for s in held[:4]), "the held ones stay open (for 60-120 s)"
        with http_from("127.0.0.13") as http:
            assert http.get(app_url).status_code == 200
    finally:
        for s in held:
            s.close()
    assert wait_for(lambda: CONNECTIONS.held == before, 30, 0.05), "connections the client closed are no longer held"


# --- the live socket -----------------------------------------------------------------------------------

def _png16(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.zeros((height, width), np.uint16)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def sockets(app_url):
    opened = []

    def open_(source="127.0.0.1", models=None):
        session = StreamSession("face", models or {"a": "face/blazeface-short", "b": "face/blazeface-full"})
        client = LiveClient(app_url, TICKETS.issue(session), source=source)
        first = client.wait_for(lambda m: m["type"] in ("ready", "closed"), 10)
        opened.append((client, session))
        return client, session, first

    yield open_
    for client, session in opened:
        client.close()
        session.close()


def test_live_frames_are_jpegs_within_the_caps_and_nothing_else_is_decoded(sockets, grace):
    client, _, first = sockets()
    assert first["type"] == "ready"
    webp = io.BytesIO()
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(webp, "WEBP", lossless=True)
    big = jpeg(np.zeros((1440, 1920, 3), np.uint8), quality=30)
    for seq, payload in enumerate([_png16(4000, 4000), webp.getvalue(), big], start=1):
        client.send(frame_message(seq, payload))
        dropped = client.wait_for(lambda m, s=seq: m["type"] == "dropped" and m["seq"] == s, 10)
        assert dropped, seq
        assert ("not a JPEG" in dropped["message"]) if seq < 3 else ("1920x1440 is refused" in dropped["message"])
    client.send(frame_message(9, jpeg(grace)))
    assert client.wait_for(lambda m: m["type"] == "result" and m["seq"] == 9 and "result" in m, 30)


def test_one_address_holds_its_share_of_live_views_and_another_is_served(sockets, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_LIVE_PER_ADDRESS", "1")
    _, _, first = sockets("127.0.0.7")
    _, _, second = sockets("127.0.0.7")
    _, _, other = sockets("127.0.0.8")
    assert first["type"] == "ready" and other["type"] == "ready"
    assert second["type"] == "closed" and "its share" in second["message"]


def test_one_address_holds_its_share_of_stream_mode_runners(sockets, monkeypatch, grace):
    monkeypatch.setenv("PLAYGROUND_STREAM_RUNNERS_PER_ADDRESS", "1")
    client, _, first = sockets("127.0.0.9", {"a": "face/facemesh", "b": "face/facemesh"})
    assert first["type"] == "ready"
    client.send(frame_message(1, jpeg(grace)))
    a = client.wait_for(lambda m: m["type"] == "result" and m["seq"] == 1 and m["side"] == "a", 60)
    b = client.wait_for(lambda m: m["type"] == "result" and m["seq"] == 1 and m["side"] == "b", 60)
    answers = [a, b]
    assert sum("result" in m for m in answers) == 1, answers
    assert any("stream-mode model runners" in m.get("error", "") for m in answers), answers


def test_a_silent_page_is_closed_and_its_ticket_and_slot_are_freed(app_url, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_LIVE_SILENT_S", "1")
    session = StreamSession("face", {"a": "face/blazeface-short", "b": "face/blazeface-full"})
    ticket = TICKETS.issue(session)
    client = LiveClient(app_url, ticket, source="127.0.0.10")
    try:
        assert client.wait_for(lambda m: m["type"] == "ready", 10)
        assert BUDGET.held("live", "127.0.0.10") == 1
        closed = client.wait_for(lambda m: m["type"] == "closed", 30)  # it sends nothing, not even pings
        assert closed and "sent nothing" in closed["message"]
        deadline = time.monotonic() + 10
        while BUDGET.held("live", "127.0.0.10") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert BUDGET.held("live", "127.0.0.10") == 0
        assert TICKETS.session(ticket) is None, "the ticket of a closed view is spent"
        again = LiveClient(app_url, ticket, source="127.0.0.10")
        assert "expired" in again.wait_for(lambda m: m["type"] == "closed", 10)["message"]
        again.close()
    finally:
        client.close()
        session.close()


# --- adds ----------------------------------------------------------------------------------------------

def test_adds_are_capped_per_address_and_expire_when_their_session_idles(fake_hub, monkeypatch, tmp_path):
    from playground.offers import Offer
    from tests.test_safety import _seg_repo

    fake_hub.add("acme/tiny-seg", _seg_repo(tmp_path / "seg"))
    monkeypatch.setenv("PLAYGROUND_ADDS_PER_ADDRESS", "2")
    sessions = [Offer("segmentation") for _ in range(3)]
    sessions[0].add_hub("acme/tiny-seg", address="198.51.100.1")
    sessions[1].add_hub("acme/tiny-seg", address="198.51.100.1")
    with pytest.raises(Exception, match="its share of this playground"):
        sessions[2].add_hub("acme/tiny-seg", address="198.51.100.1")
    Offer("segmentation").add_hub("acme/tiny-seg", address="198.51.100.2")  # another address: served
    monkeypatch.setenv("PLAYGROUND_ADDED_IDLE_S", "0")
    sessions[0].used_at -= 1.0  # that session has been idle past the (now zero) limit
    sessions[1].used_at -= 1.0
    assert sessions[2].add_hub("acme/tiny-seg", address="198.51.100.1").id == "hf:acme/tiny-seg"
    assert not sessions[0].own(), "an idle session's added models expired"


def test_a_socket_that_keeps_sending_what_is_not_a_camera_jpeg_is_closed(sockets):
    client, _, first = sockets("127.0.0.11")
    assert first["type"] == "ready"
    for seq in range(1, 6):
        try:
            client.send(frame_message(seq, _png16(64, 64)))
        except Exception:  # noqa: BLE001 - already closed
            break
    closed = client.wait_for(lambda m: m["type"] == "closed", 10)
    assert closed and "were not camera JPEGs" in closed["message"]
    assert len(client.of_type("dropped")) == 4


def test_a_model_id_with_a_lone_surrogate_gets_its_sentence(app_url):
    """JSON may carry "\\ud800", which no UTF-8 encoder takes: through the page's route (/queue/join, answered
    on the event stream) the answer is still the unknown-model sentence, where the stream used to break."""
    import secrets

    from bench.hostile import call_body

    with http_from("127.0.0.12") as http:
        photo = uploaded(http, app_url, "a.jpg", sample_image_path().read_bytes())
        body = call_body(app_url, "face", photo,
                         "face/\ud800", FACE[1])
        dep = next(d for d in http.get(f"{app_url}config").json()["dependencies"] if d.get("api_name") == "face")
        session = secrets.token_hex(6)
        join = http.post(f"{app_url}gradio_api/queue/join", headers={"content-type": "application/json"},
                         content=json.dumps({**body, "fn_index": dep["id"], "session_hash": session}).encode())
        assert join.status_code == 200
        done = None
        with http.stream("GET", f"{app_url}gradio_api/queue/data", params={"session_hash": session}) as events:
            for line in events.iter_lines():
                if line.startswith("data:") and "process_completed" in line:
                    done = json.loads(line[5:])
                    break
    assert done and "unknown model 'face/?'" in done["output"]["error"], done


def test_the_add_route_counts_per_address(app_url, fake_hub, monkeypatch, tmp_path):
    """Through the API: an address past its share of added models gets the sentence; another is served."""
    from bench.hostile import call_body
    from tests.test_safety import _seg_repo

    fake_hub.add("acme/tiny-seg", _seg_repo(tmp_path / "seg"))
    monkeypatch.setenv("PLAYGROUND_ADDS_PER_ADDRESS", "1")

    def add(source: str) -> str:
        with http_from(source) as http:
            event = http.post(f"{app_url}gradio_api/call/segmentation_add",
                              json=call_body(app_url, "segmentation_add", "acme/tiny-seg", "")).json()["event_id"]
            return http.get(f"{app_url}gradio_api/call/segmentation_add/{event}").text

    assert "Added" in add("127.0.0.13")
    assert "its share of this playground" in add("127.0.0.13")  # a new API session, the same address
    assert "Added" in add("127.0.0.14")


def test_live_starts_are_counted_per_address_through_the_page_route(app_url, monkeypatch):
    from bench.live_client import page_ticket

    monkeypatch.setenv("PLAYGROUND_LIVE_STARTS_PER_MINUTE", "3")  # bursts of one
    assert page_ticket(app_url, source="127.0.0.15")
    with pytest.raises(RuntimeError, match="more than 3 times a minute"):
        page_ticket(app_url, source="127.0.0.15")
    assert page_ticket(app_url, source="127.0.0.16"), "another address starts its view"


def test_an_address_keeps_its_share_of_sessions_however_many_calls_it_makes(app_url, monkeypatch):
    """Every /call is a new session, and a session holds a copy of the page's configuration (~0.7 MB): an
    address's oldest idle sessions go once it is past its share, whatever it reads or leaves unread."""
    import app

    from bench.hostile import call_body

    monkeypatch.setenv("PLAYGROUND_SESSIONS_PER_ADDRESS", "3")
    holder = app.demo.state_holder
    with http_from("127.0.0.17") as http:
        photo = uploaded(http, app_url, "a.jpg", sample_image_path().read_bytes())
        body = call_body(app_url, "face", photo, *FACE)
        before = set(holder.session_data)
        for _ in range(8):
            event = http.post(f"{app_url}gradio_api/call/face", json=body).json()["event_id"]
            assert "result" in http.get(f"{app_url}gradio_api/call/face/{event}").text  # answered in full
    opened = [s for s in holder.session_data if s not in before]
    assert 1 <= len(opened) <= 3, len(opened)


def test_new_sessions_are_rate_limited_per_address_and_a_reused_one_is_not(app_url, monkeypatch):
    """A new session costs the server's event loop a copy of the page's configuration: /call without a
    session of its own is a new one each time."""
    from bench.hostile import call_body

    monkeypatch.setenv("PLAYGROUND_NEW_SESSIONS_PER_MINUTE", "3")  # bursts of one
    with http_from("127.0.0.18") as http:
        photo = uploaded(http, app_url, "a.jpg", sample_image_path().read_bytes())
        body = call_body(app_url, "face", photo, *FACE)
        first = http.post(f"{app_url}gradio_api/call/face", json={**body, "session_hash": "mine-0001"})
        assert first.status_code == 200
        http.get(f"{app_url}gradio_api/call/face/{first.json()['event_id']}")
        again = http.post(f"{app_url}gradio_api/call/face", json=body)  # a new session, too soon
        reused = http.post(f"{app_url}gradio_api/call/face", json={**body, "session_hash": "mine-0001"})
    assert again.status_code == 429 and "new sessions more than 3 times a minute" in again.json()["detail"]
    assert reused.status_code == 200
    assert _call(app_url, "127.0.0.19").status_code == 200, "another address opens its session"


# --- the live view before batch work -------------------------------------------------------------------

@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own nice value is Linux's")
def test_still_images_and_videos_run_below_the_live_view():
    """A and B of a still image or a video run on threads PLAYGROUND_BATCH_NICE below the live view's."""
    import os
    import threading

    from playground.pair import BATCH, EXECUTOR
    from zoo import settings

    def nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    base = nice()
    assert EXECUTOR.submit(nice).result() == base
    assert BATCH.submit(nice).result() == min(19, base + settings.get("PLAYGROUND_BATCH_NICE")) > base


def test_the_loop_watch_says_where_a_stalled_event_loop_was(monkeypatch):
    """PLAYGROUND_LOOP_WATCH_MS: a loop turn held past the threshold is logged with the stack that held it."""
    import asyncio

    from playground.limits import LoopWatch

    monkeypatch.setenv("PLAYGROUND_LOOP_WATCH_MS", "100")
    watch = LoopWatch()

    def a_callback_that_holds_the_loop() -> None:
        end = time.monotonic() + 0.6  # the stall under watch (it decides nothing: the watch's record does)
        while time.monotonic() < end:
            pass

    async def main() -> None:
        assert watch.attach()
        await asyncio.sleep(0.1)
        a_callback_that_holds_the_loop()
        for _ in range(200):  # the watch logs a stall once it ends; wait for that, up to a bound
            if watch.stalls:
                break
            await asyncio.sleep(0.02)

    asyncio.run(main())
    assert watch.stalls, "a 0.6 s stall past a 0.1 s threshold is recorded"
    seconds, stacks = watch.stalls[0]
    assert seconds >= 0.5, seconds
    assert "a_callback_that_holds_the_loop" in stacks[0][1]
    monkeypatch.setenv("PLAYGROUND_LOOP_WATCH_MS", "0")
    assert LoopWatch().attach() is False  # off by default: nothing started
