"""The live view's own socket: camera frames in, each side's results out, on the app's own server and port.

The page's live view (``playground/static/live.js`` and its Worker) opens one WebSocket per live session at
``<app root>/live/ws?ticket=...``; the ticket comes from the tab's Start event (:func:`open_live`), which ties
the socket to that browser session's :class:`~playground.live.StreamSession`, so the pickers, sliders,
bring-your-own and trained models of the page apply to the next frame. It is served by an ASGI middleware
(:class:`LiveSocket`) in front of Gradio, so it shares Gradio's host, port and path prefix (a Space's proxy,
``--share``) and needs no second server.

Page -> server
    binary: an 8-byte header (uint32 little-endian sequence number, uint8 flags: bit 0 = the page shows the
    camera mirrored, bits 1 and 2 = only for side A / side B (neither: both), 3 bytes reserved) followed by
    one JPEG frame (nothing else is decoded: the JPEG's own header must say a size within the caps). The page sends a frame again, with the same number, for a side that frees up before the
    camera has a new one (so that side need not wait up to a camera frame's interval).
    text: ``{"type": "ping", "t": <number>, "device": [sides the page runs itself]}``, answered
    ``{"type": "pong", "t": <same>}`` (and ``models`` when the pickers' models changed).
Server -> page (text, JSON)
    ``ready`` (the limits), ``taken`` (which of the sides ``asked`` started a frame), ``result`` per side (the API's result
    JSON: model, latency_ms, result; plus seq, the overlay's drawing and, when both sides did the frame, the
    agreement; or the side's ``error`` sentence), ``status`` (a model loading), ``dropped`` (a frame refused:
    too big, too fast, unreadable), ``error`` (a malformed message; the session goes on) and ``closed``.

Latest frame wins at both ends: the page sends a frame only while a side is free, and a side still busy with
an older frame skips a new one (:meth:`StreamSession.take`); nothing queues.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import struct
import threading
import time
import weakref
from functools import lru_cache
from hashlib import sha256
from pathlib import Path
from typing import Any

import orjson

from playground import device
from playground.guard import BUDGET, LIVE_STARTS, address_of
from playground.live import max_frame_pixels, max_frame_side, StreamSession
from playground.pair import user_message
from zoo.errors import BusyError, ZooError
from zoo.images import ImageError, check_jpeg
from zoo import settings

log = logging.getLogger(__name__)

PATH = "/live/ws"
ASSETS = "/live/static/"  # the live view's own browser files (playground/static), by name, nothing else
STATIC = Path(__file__).parent / "static"
# the live view's scripts: its parts in the order the page loads them, then the socket's Worker
VIEW_SCRIPTS = ("live_panes.js", "live_draw.js", "live_readouts.js", "live.js")
SCRIPTS = (*VIEW_SCRIPTS, "live_worker.js")
HEADER = struct.Struct("<IB3x")  # seq, flags
MIRRORED, ONLY_A, ONLY_B = 1, 2, 4
STATUS_EVERY_S = 0.5  # how often a side whose model is loading says how it goes
MAX_STRIKES = 5  # frames that are not camera JPEGs (or too large) before the socket is closed


def max_live_sessions() -> int:
    """Live views whose models run on the server, at once across the server; past it a new one is told the
    playground is busy when it sends its first frame."""
    return settings.get("PLAYGROUND_MAX_LIVE")


def max_live_pages() -> int:
    """Live sockets open at once (a page whose both sides run in the visitor's browser holds one, and costs a
    ping every 2 s); past it a new one is told the playground is busy."""
    return settings.get("PLAYGROUND_MAX_LIVE_PAGES")


def max_frame_kb() -> int:
    return settings.get("PLAYGROUND_LIVE_MAX_FRAME_KB")


def max_fps() -> int:
    """Frames a second one live session may send (a 30 fps camera, each frame sent at most once per side);
    more are answered ``dropped`` without being decoded."""
    return settings.get("PLAYGROUND_LIVE_MAX_FPS")


def idle_s() -> int:
    """A live socket with no frame for this long is closed (the page reopens it on Start)."""
    return settings.get("PLAYGROUND_LIVE_IDLE_S")


def silent_s() -> int:
    """A live socket that sends nothing at all (no frame, no ping) for this long is closed: its page has gone.
    A page pings every 2 s while its view is open."""
    return settings.get("PLAYGROUND_LIVE_SILENT_S")


class Tickets:
    """Which live socket belongs to which browser session: a ticket per session, issued by the tab's Start
    event and valid while that session lives. Holds the sessions weakly: Gradio owns them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: "weakref.WeakValueDictionary[str, StreamSession]" = weakref.WeakValueDictionary()
        self.open = 0  # sockets that run a side on the server now (the server's live slots)
        self.pages = 0  # sockets open now (a page whose models all run in the browser holds no server slot)

    def issue(self, session: StreamSession) -> str:
        with self._lock:
            ticket = getattr(session, "live_ticket", None)
            if ticket is None or self._sessions.get(ticket) is not session:
                ticket = secrets.token_urlsafe(24)
                session.live_ticket = ticket
                self._sessions[ticket] = session
            return ticket

    def revoke(self, session: StreamSession) -> None:
        """The session's socket has ended: its ticket is spent (the page's next Start gets a new one)."""
        with self._lock:
            ticket = getattr(session, "live_ticket", None)
            if ticket is not None and self._sessions.get(ticket) is session:
                del self._sessions[ticket]
            session.live_ticket = None

    def session(self, ticket: str | None) -> StreamSession | None:
        with self._lock:
            session = self._sessions.get(ticket or "")
        return None if session is None or session.closed else session

    def claim(self) -> bool:
        """A server slot, for a socket that sends the server frames."""
        with self._lock:
            if self.open >= max_live_sessions():
                return False
            self.open += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.open -= 1

    def claim_page(self) -> bool:
        with self._lock:
            if self.pages >= max_live_pages():
                return False
            self.pages += 1
            return True

    def release_page(self) -> None:
        with self._lock:
            self.pages -= 1


TICKETS = Tickets()


def open_live(session: StreamSession, address: str | None = None) -> str:
    """The Start event's handler: the ticket the page's live view opens its socket with. An address may
    start live views at most ``PLAYGROUND_LIVE_STARTS_PER_MINUTE`` times a minute (BusyError past it)."""
    LIVE_STARTS.spend(address)
    return TICKETS.issue(session)


class RateLimit:
    """A token bucket: ``rate`` frames a second, bursts of up to one second's worth."""

    def __init__(self, rate: float):
        self.rate, self.tokens, self.at = float(rate), float(rate), time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@lru_cache(maxsize=None)
def script(name: str) -> tuple[bytes, str]:
    """One of the live view's scripts and its content hash (read once per process)."""
    body = (STATIC / name).read_bytes()
    return body, sha256(body).hexdigest()[:16]


def script_url(name: str) -> str:
    """The live view's script ``name`` as a path relative to the app's root, versioned by its content (so a
    browser keeps it until it changes)."""
    return f"{ASSETS.lstrip('/')}{name}?v={script(name)[1]}"


async def serve_script(scope, send) -> None:
    """GET ``.../live/static/<name>``: one of :data:`SCRIPTS` (a fixed set of names, never a path), cached by
    the browser for a year when asked for by its current hash. The page's configuration then carries a few
    lines instead of the scripts (each new Gradio session copies that configuration)."""
    from starlette.responses import PlainTextResponse, Response

    name = scope["path"].rsplit("/", 1)[-1]
    if scope.get("method") not in ("GET", "HEAD") or name not in SCRIPTS:
        return await PlainTextResponse("Not found.", 404)(scope, None, send)
    body, digest = script(name)
    fresh = f"v={digest}" in scope.get("query_string", b"").decode("latin-1")
    cache = "public, max-age=31536000, immutable" if fresh else "no-cache"
    headers = {"cache-control": cache, "etag": f'"{digest}"', "x-content-type-options": "nosniff"}
    await Response(body, media_type="text/javascript", headers=headers)(scope, None, send)



def model_name(session: StreamSession, model_id: str | None) -> str:
    """A model's name for the live view's readouts (its id never reaches the page as a label)."""
    try:
        return session.offer.spec(model_id).name if model_id else ""
    except ZooError:
        return ""

class LiveSocket:
    """ASGI middleware: WebSocket connections to ``.../live/ws`` are live sessions, ``.../live/static/<name>``
    the live view's scripts; everything else goes on to Gradio."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope.get("type") == "websocket" and path.rstrip("/").endswith(PATH):
            from starlette.websockets import WebSocket

            return await Connection(WebSocket(scope, receive, send)).serve()
        if scope.get("type") == "http" and ASSETS in path:
            return await serve_script(scope, send)
        if scope.get("type") == "http" and device.PREFIX in path:
            return await device.serve(scope, receive, send)
        return await self.app(scope, receive, send)


class Connection:
    """One live socket: frames in, results out, until the page closes it, it idles, or its session ends."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.send_lock = asyncio.Lock()
        self.tasks: set[asyncio.Task] = set()
        self.open = True
        self.strikes = 0  # frames refused for what they are (not a JPEG, too large): MAX_STRIKES closes the socket
        self.session: StreamSession | None = None
        self.models_sent: tuple | None = None  # the pickers' models and sliders the page was told last
        self.server_slot = False  # holds one of the server's live slots (from its first frame for the server)

    async def send(self, message: dict[str, Any]) -> None:
        if not self.open:
            return
        data = orjson.dumps(message, option=orjson.OPT_SERIALIZE_NUMPY).decode()
        async with self.send_lock:
            try:
                await self.ws.send_text(data)
            except Exception:  # noqa: BLE001 - the page has gone; the receive loop ends the connection
                self.open = False

    async def close(self, sentence: str, code: int = 1000) -> None:
        await self.send({"type": "closed", "message": sentence})
        self.open = False
        try:
            await self.ws.close(code)
        except Exception:  # noqa: BLE001 - already closed
            pass

    async def serve(self) -> None:
        ws = self.ws
        session = TICKETS.session(ws.query_params.get("ticket"))
        await ws.accept()
        if session is None:
            return await self.close("this live view has expired: press Start again (or reload the page)", 4401)
        address = address_of(ws.scope)
        try:
            BUDGET.claim("live", address)
        except BusyError as exc:
            return await self.close(str(exc), 4429)
        if not TICKETS.claim_page():
            BUDGET.release("live", address)
            return await self.close("the playground is busy: every live slot is taken; try again in a minute", 4429)
        session.address = address  # its stream-mode runners count against the same address
        session.frame_at = heard = time.monotonic()  # the idle and silence clocks start now
        generation = getattr(session, "live_generation", 0) + 1
        session.live_generation = generation  # a newer socket for the same session replaces this one
        limit = RateLimit(max_fps())
        loop = asyncio.get_running_loop()
        session.follow(lambda key, seq, future: loop.call_soon_threadsafe(self.picked, session, key, seq, future))
        self.session = session
        await self.send({"type": "ready", "task": session.task.name, "max_fps": max_fps(),
                         "max_frame_kb": max_frame_kb(), "idle_s": idle_s()})
        await self.send_models(session)
        try:
            while self.open:
                try:
                    message = await asyncio.wait_for(ws.receive(), timeout=1.0)
                except asyncio.TimeoutError:
                    message = None
                if session.closed or session.live_generation != generation:
                    return await self.close("this live view was closed (the page was reloaded or opened again)")
                now = time.monotonic()
                if message is None:
                    if now - heard > silent_s():
                        return await self.close(f"closed: the page sent nothing for {silent_s()} s")
                    if now - session.frame_at > idle_s():
                        return await self.close(f"closed after {idle_s()} s without frames; press Start again")
                    continue
                heard = now
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("bytes") is not None:
                    await self.on_frame(session, message["bytes"], limit)
                else:
                    await self.on_text(message.get("text") or "")
        finally:
            self.open = False
            self.give_back_server_slot()
            TICKETS.release_page()
            BUDGET.release("live", address)
            for task in list(self.tasks):
                task.cancel()
            if getattr(session, "live_generation", 0) == generation:
                TICKETS.revoke(session)
                session.follow(None)
                await asyncio.to_thread(session.end_stream_runners)  # the stream has ended; its video-mode runners go

    async def on_text(self, text: str) -> None:
        try:
            message = orjson.loads(text[:4096])
            kind = message.get("type") if isinstance(message, dict) else None
        except orjson.JSONDecodeError:
            kind = None
        if kind == "ping":
            t = message.get("t")
            session = self.session
            if session is not None:
                in_page = message.get("device")  # the sides the page runs itself: the server skips them
                session.in_page = frozenset(k for k in in_page if k in ("a", "b")) \
                    if isinstance(in_page, list) and len(in_page) <= 2 else frozenset()
                if session.in_page:  # the stream is in use without frames
                    session.frame_at = time.monotonic()
                if session.in_page == {"a", "b"}:  # the page runs both sides: the server slot is free again
                    self.give_back_server_slot()
                await self.send_models(session)
            return await self.send({"type": "pong", "t": t if isinstance(t, (int, float)) else None})
        await self.send({"type": "error", "message": "unknown message: the live socket takes frames "
                                                     "(binary: an 8-byte header, then a JPEG) and pings"})

    async def send_models(self, session: StreamSession) -> None:
        """The models the pickers chose, when they change: a side the page runs itself loads the same one."""
        models = {k: session.models.get(k) for k in ("a", "b")}
        controls = {k: session.controls[k].to_json() for k in ("a", "b")}
        if (models, controls) != self.models_sent:
            self.models_sent = (models, controls)
            await self.send({"type": "models", **models, "controls": controls, "names": {
                k: model_name(session, m) for k, m in models.items()}})

    async def on_frame(self, session: StreamSession, data: bytes, limit: RateLimit) -> None:
        if len(data) < HEADER.size + 4:
            return await self.send({"type": "error", "message": "a frame is an 8-byte header followed by a JPEG"})
        seq, flags = HEADER.unpack_from(data)
        asked = [k for k, bit in (("a", ONLY_A), ("b", ONLY_B)) if flags & bit] or ["a", "b"]
        if len(data) > max_frame_kb() * 1024:
            return await self.strike(seq, asked, f"the frame is larger than {max_frame_kb()} kB; pick a smaller "
                                                 "size or quality", f"were larger than {max_frame_kb()} kB")
        try:
            check_jpeg(data[HEADER.size:], max_side=max_frame_side(), max_pixels=max_frame_pixels())
        except ImageError as exc:
            return await self.strike(seq, asked, str(exc), f"were not camera JPEGs ({exc})")
        if not self.server_slot:  # the first frame for the server: one of its live slots, while they last
            if not TICKETS.claim():
                return await self.close("the playground is busy: every live slot on its server is taken; run both "
                                        "sides on this device, or try again in a minute", 4429)
            self.server_slot = True
        if not limit.allow():
            session.frame_at = time.monotonic()
            return await self.send({"type": "dropped", "seq": seq, "asked": asked,
                                    "message": f"more than {max_fps()} frames a second; extra frames are skipped"})
        try:
            started = await asyncio.to_thread(session.take, bytes(data[HEADER.size:]), seq=seq,
                                              mirror=bool(flags & MIRRORED), sides=asked)
        except Exception as exc:  # noqa: BLE001 - an unreadable frame is that frame's sentence
            return await self.send({"type": "dropped", "seq": seq, "asked": asked, "message": user_message(exc)})
        await self.send({"type": "taken", "seq": seq, "asked": asked, "sides": sorted(started)})
        for key, future in started.items():
            task = asyncio.create_task(self.deliver(session, key, future))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    def give_back_server_slot(self) -> None:
        if self.server_slot:
            self.server_slot = False
            TICKETS.release()

    async def strike(self, seq: int, asked: list[str], sentence: str, closing: str) -> None:
        """A frame refused for what it is (not a camera JPEG, too large): "dropped" with its sentence, and at
        the :data:`MAX_STRIKES`-th such frame the socket closes (a page sends camera JPEGs only)."""
        self.strikes += 1
        if self.strikes >= MAX_STRIKES:
            return await self.close(f"closed: {MAX_STRIKES} frames {closing}", 4400)
        await self.send({"type": "dropped", "seq": seq, "asked": asked, "message": sentence})

    def picked(self, session: StreamSession, key: str, seq: int, future) -> None:
        """A side that freed up took the newest frame on the server (``StreamSession.follow``): the page
        hears "taken" for it before the side's previous answer, then this frame's answer."""
        if not self.open:
            return

        async def taken_then_deliver() -> None:
            await self.send({"type": "taken", "seq": seq, "asked": [], "sides": [key], "picked": True})
            await self.deliver(session, key, future)

        task = asyncio.create_task(taken_then_deliver())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def deliver(self, session: StreamSession, key: str, future) -> None:
        """Send one side's result when it is ready; while its model loads, say how that goes."""
        waiting = asyncio.wrap_future(future)
        while True:
            done, _ = await asyncio.wait({waiting}, timeout=STATUS_EVERY_S)
            if done:
                break
            if session.loading.get(key):
                note = session.load_note.get(key) or ""
                await self.send({"type": "status", "side": key,
                                 "message": f"loading {session.models.get(key, '')} (first use)… {note}".strip()})
        out = waiting.result()
        await self.send(out.message(key))
