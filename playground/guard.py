"""One policy for every visitor, on every route: what one client address may hold at once, and what a
request may be, checked before the app does any work for it.

Three layers, outermost first:

- **Connections** (:class:`GuardedHTTP`, a subclass of uvicorn's HTTP protocol): a request's headers must
  arrive within ``PLAYGROUND_HEADER_TIMEOUT_S`` (slowloris), and one address may hold at most
  ``PLAYGROUND_CONNECTIONS_PER_ADDRESS`` connections; past that, a connection is never read: it is held
  a minute or two and closed (:class:`Connections` says why it is not closed at once). uvicorn has neither
  (its keep-alive timeout does not cover a request trickled in byte by byte).
- **The client address**: uvicorn rewrites a request's client from ``X-Forwarded-For`` only when the peer is
  one of ``PLAYGROUND_TRUSTED_PROXIES`` (none by default: a header from anyone else is ignored), so every
  layer below reads the visitor's own address from the request's client.
- **Requests** (:class:`Guard`, ASGI middleware): JSON bodies are small (``PLAYGROUND_MAX_JSON_KB``) and
  shallow; joining the queue (``/queue/join`` and ``/call/<api>``) counts against the session's and the
  address's share of queue places; an upload holds one of the address's upload places while it streams.

The shares of the server's bounded resources are :class:`Budget` kinds, claimed and released by whoever
holds the resource: live sessions (``playground.live_socket``), stream-mode runners (``playground.live``),
Hub models added ("Add a model": ``playground.offers``), uploads, and connections. Every refusal is one
sentence with the limit in it, answered without touching a model.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import random
import threading
import time
from dataclasses import dataclass
from typing import Callable

from zoo.errors import BusyError
from zoo import settings
from playground.limits import LOOP_WATCH

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Share:
    """One bounded resource's share per client address: its setting and what it counts."""

    env: str  # its setting (zoo.settings), with its default
    what: str  # plural noun: "live views"

    def limit(self) -> int:
        return max(0, settings.get(self.env))


SHARES = {
    "live": Share("PLAYGROUND_LIVE_PER_ADDRESS", "live views"),
    "stream_runners": Share("PLAYGROUND_STREAM_RUNNERS_PER_ADDRESS", "stream-mode model runners"),
    "queue": Share("PLAYGROUND_PER_ADDRESS", "requests waiting or running"),
    "adds": Share("PLAYGROUND_ADDS_PER_ADDRESS", "Hub models added"),
    "uploads": Share("PLAYGROUND_UPLOADS_PER_ADDRESS", "uploads at once"),
    "connections": Share("PLAYGROUND_CONNECTIONS_PER_ADDRESS", "open connections"),
    "sessions": Share("PLAYGROUND_SESSIONS_PER_ADDRESS", "sessions"),
}


def max_sessions() -> int:
    """Sessions whose state the server keeps (Gradio's ``state_session_capacity``; each costs ~0.7 MB, a copy
    of the page's configuration), least recently used dropped first."""
    return settings.get("PLAYGROUND_MAX_SESSIONS")


def per_session_pending() -> int:
    """Queue places one browser (or API) session may hold."""
    return settings.get("PLAYGROUND_PER_SESSION")


def header_timeout_s() -> float:
    return float(settings.get("PLAYGROUND_HEADER_TIMEOUT_S"))


def max_json_bytes() -> int:
    return settings.get("PLAYGROUND_MAX_JSON_KB") * 1024


MAX_JSON_DEPTH = 32  # Gradio's own requests nest 4 or 5 deep


def trusted_proxies() -> str:
    """Comma-separated addresses or networks whose ``X-Forwarded-For`` is believed (uvicorn's
    ``forwarded_allow_ips``); empty by default. On a Hugging Face Space: see the README."""
    return settings.get("PLAYGROUND_TRUSTED_PROXIES").strip()


def _networks(spec: str) -> list:
    nets = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if part == "*":
            return ["*"]
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            log.warning("PLAYGROUND_TRUSTED_PROXIES: %r is not an address or a network; ignored", part)
    return nets


def is_trusted_proxy(host: str | None) -> bool:
    nets = _networks(trusted_proxies())
    if not host or not nets:
        return False
    if nets == ["*"]:
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(addr in n for n in nets)


def address_of(scope) -> str:
    """The client address of an ASGI scope (after uvicorn's trusted-proxy rewrite)."""
    client = scope.get("client") or ("unknown", 0)
    return str(client[0])


class Budget:
    """Per-address counters of held resources, one per :data:`SHARES` kind."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def held(self, kind: str, address: str) -> int:
        with self._lock:
            return self._held.get((kind, address), 0)

    def claim(self, kind: str, address: str | None) -> None:
        """Take one place of ``kind`` for ``address``, or BusyError with the share in the sentence. No
        address (work the process does for itself or its tests, not for a visitor) counts against nothing."""
        if address is None:
            return
        share = SHARES[kind]
        key = (kind, address)
        with self._lock:
            if self._held.get(key, 0) >= share.limit():
                raise BusyError(f"your address already holds {share.limit()} {share.what}, its share of this "
                                "playground; close one or wait, so that everyone gets a turn")
            self._held[key] = self._held.get(key, 0) + 1

    def release(self, kind: str, address: str | None) -> None:
        if address is None:
            return
        key = (kind, address)
        with self._lock:
            left = self._held.get(key, 0) - 1
            if left > 0:
                self._held[key] = left
            else:
                self._held.pop(key, None)


BUDGET = Budget()


def live_starts_per_minute() -> int:
    """Live views one address may start a minute (each Start is a new ticket and socket)."""
    return settings.get("PLAYGROUND_LIVE_STARTS_PER_MINUTE")


class Rate:
    """Per-address token buckets: ``per_minute`` events a minute, in bursts of up to a third of that."""

    def __init__(self, per_minute: Callable[[], int], what: str,
                 advice: str = "wait a few seconds and press Start again") -> None:
        self.per_minute, self.what, self.advice = per_minute, what, advice
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, when)
        self._lock = threading.Lock()

    def spend(self, address: str | None) -> None:
        """One event for ``address``, or BusyError with the rate in the sentence (no address: not counted)."""
        if address is None:
            return
        rate = max(1, self.per_minute())
        burst = max(1.0, rate / 3)
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) > 10_000:  # full buckets say nothing: forget them
                self._buckets = {a: b for a, b in self._buckets.items() if b[0] + (now - b[1]) * rate / 60 < burst}
            tokens, at = self._buckets.get(address, (burst, now))
            tokens = min(burst, tokens + (now - at) * rate / 60)
            if tokens < 1.0:
                self._buckets[address] = (tokens, now)
                raise BusyError(f"your address opened {self.what} more than {rate} times a minute; {self.advice}")
            self._buckets[address] = (tokens - 1.0, now)


LIVE_STARTS = Rate(live_starts_per_minute, "the live view")


def new_sessions_per_minute() -> int:
    """Sessions one address may open a minute (a page load, a new API client, a /call without a
    session_hash of its own)."""
    return settings.get("PLAYGROUND_NEW_SESSIONS_PER_MINUTE")


NEW_SESSIONS = Rate(new_sessions_per_minute, "new sessions",
                    advice="reuse one (a /call may send a session_hash of its own)")


# --- requests ----------------------------------------------------------------------------------------

def json_depth_over(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests deeper than ``limit`` (brackets outside strings), without parsing it."""
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def _is_join(path: str) -> bool:
    return path.endswith("/queue/join") or "/call/" in path


def _is_upload(path: str) -> bool:
    return path.rstrip("/").endswith("/upload")


class Guard:
    """ASGI middleware for every HTTP request: body limits, queue shares, upload shares (see the module)."""

    def __init__(self, app, blocks=None) -> None:
        self.app, self.blocks = app, blocks
        self.sessions = Sessions(blocks)

    async def __call__(self, scope, receive, send):
        if LOOP_WATCH.attach():
            send = LOOP_WATCH.timed(scope, send)
        if scope.get("type") != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        path, address = scope.get("path", ""), address_of(scope)
        if _is_upload(path):  # uploads keep Gradio's own size cap; an address streams a few at once
            try:
                BUDGET.claim("uploads", address)
            except BusyError as exc:
                return await answer(send, 429, str(exc))
            try:
                return await self.app(scope, receive, send)
            finally:
                BUDGET.release("uploads", address)
        body, refusal = await read_small_body(scope, receive)
        if refusal:
            return await answer(send, *refusal)
        if _is_join(path):
            try:
                doc = json.loads(body or b"{}")
            except ValueError:
                doc = None  # Gradio answers malformed bodies itself
            doc = doc if isinstance(doc, dict) else None
            sentence = self._queue_refusal(doc, address, session_too=path.endswith("/queue/join"))
            if sentence:
                return await answer(send, 429, sentence)
            try:
                body = self.sessions.note(address, doc, body)
            except BusyError as exc:
                return await answer(send, 429, str(exc))
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    def _queue_refusal(self, doc: dict | None, address: str, session_too: bool) -> str | None:
        """The sentence for a join (``doc``: its JSON body, None when it is not an object) past the session's
        or the address's share of queue places; None when it may join."""
        queue = getattr(self.blocks, "_queue", None)
        if queue is None:
            return None
        if session_too:
            session = doc.get("session_hash") if doc is not None else None
            pending = queue.pending_event_ids_session.get(session) or () if isinstance(session, str) else ()
            if len(pending) >= per_session_pending():
                return (f"you already have {len(pending)} requests waiting or running, the most one visitor may "
                        "have; wait for them to finish, so that everyone gets a turn")
        share = SHARES["queue"]
        mine = sum(1 for e in list(queue.event_ids_to_events.values())
                   if getattr(getattr(getattr(e, "request", None), "client", None), "host", None) == address)
        if mine >= share.limit():
            return (f"your address already has {mine} requests waiting or running (at most {share.limit()}); "
                    "try again in a moment")
        return None


class Sessions:
    """The sessions each address has opened (``/queue/join`` and ``/call``), newest last: past its share, an
    address's oldest idle sessions are dropped from the server's session state. Every ``/call`` request
    is a new session of Gradio's, and a session holds a copy of the page's configuration (~0.7 MB): without
    this, one client calling ``/call`` without reading the answers grew the server by 0.7 MB a call."""

    def __init__(self, blocks) -> None:
        self.blocks = blocks
        self._by_address: dict[str, dict[str, None]] = {}
        self._lock = threading.Lock()

    def note(self, address: str, doc: dict | None, body: bytes) -> bytes:
        """Record the session of a join (``doc``: its JSON body, None when it is not an object, which Gradio
        answers itself); a ``/call`` without one is given one here, so that it is known. Returns the body to
        pass on. A session new to the server costs its event loop ~50-100 ms (Gradio copies the page's
        configuration for it), so an address may open at most ``PLAYGROUND_NEW_SESSIONS_PER_MINUTE``
        (BusyError past it)."""
        if doc is None:
            return body
        session = doc.get("session_hash")
        if not isinstance(session, str) or not session:
            session = doc["session_hash"] = f"api-{os.urandom(8).hex()}"
            body = json.dumps(doc).encode()
        holder = getattr(self.blocks, "state_holder", None)
        if holder is None or session not in holder:
            NEW_SESSIONS.spend(address)
        share = SHARES["sessions"].limit()
        with self._lock:
            mine = self._by_address.setdefault(address, {})
            mine.pop(session, None)
            mine[session] = None
            over = [s for s in list(mine)[:-1] if self._idle(s)][: max(0, len(mine) - share)]
            for old in over:
                del mine[old]
            if len(self._by_address) > 10_000:  # addresses that went away
                for key in [a for a, ss in self._by_address.items() if not ss]:
                    del self._by_address[key]
        for old in over:
            self._drop(old)
        return body

    def _idle(self, session: str) -> bool:
        """No event of the session waits or runs (an answer not yet read does not count)."""
        queue = getattr(self.blocks, "_queue", None)
        if queue is None:
            return True
        return not any(getattr(e, "session_hash", None) == session for e in list(queue.event_ids_to_events.values()))

    def _drop(self, session: str) -> None:
        """Forget an idle session: its state (Gradio keeps a copy of the configuration per session until it
        is evicted) and any answers it left unread."""
        queue = getattr(self.blocks, "_queue", None)
        if queue is not None:
            queue.pending_messages_per_session.pop(session, None)
            queue.pending_event_ids_session.pop(session, None)
        holder = getattr(self.blocks, "state_holder", None)
        if holder is None or session not in holder:
            return
        holder.delete_state(session)  # its State values' delete callbacks run (a live stream closes)
        with holder.lock:
            holder.session_data.pop(session, None)
            holder.time_last_used.pop(session, None)


async def read_small_body(scope, receive) -> tuple[bytes, tuple[int, str] | None]:
    """A request body of at most :func:`max_json_bytes` and :data:`MAX_JSON_DEPTH` levels, or the refusal
    (status, sentence). A declared length over the cap is refused before a byte is read."""
    cap = max_json_bytes()
    too_big = (413, f"the request body is larger than {cap // 1024} kB, the most a JSON request may be "
                    "(files go through the upload route)")
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                if int(value) > cap:
                    return b"", too_big
            except ValueError:
                return b"", (400, "the request's Content-Length is not a number")
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message.get("type") == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            return b"", too_big
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    if json_depth_over(body):
        return body, (400, f"the request's JSON is nested more than {MAX_JSON_DEPTH} levels deep")
    return body, None


async def answer(send, status: int, sentence: str) -> None:
    body = json.dumps({"detail": sentence, "error": sentence}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


# --- connections -------------------------------------------------------------------------------------

class Connections:
    """Open connections per peer address (the TCP peer: a trusted proxy's connections are not capped).

    A connection past its address's share is *held* rather than closed: accepted, never read, and closed
    after ``PLAYGROUND_HELD_FOR_S`` to twice that (spread, so that they never end together), up to
    ``PLAYGROUND_HELD_CONNECTIONS`` held in all (past that, closed at once). Closing it at once let a
    slowloris client re-open it at once: on a loaded server (two cores running models) the event loop could
    accept and close only ~165 connections a second, so a client holding 500 kept ~490 of them waiting in the
    kernel's accept queue, and every honest connection queued behind them for seconds. Held until the header
    timeout, they all ended together and came back as one burst every 10 s, with the same wait for a few
    seconds each time. Held as they are now, each costs a descriptor, and they come back a few a second."""

    def __init__(self) -> None:
        self._by_peer: dict[str, set] = {}
        self._held: set = set()
        self._lock = threading.Lock()
        self._admitted = 0

    def admit(self, peer: str | None, transport) -> str:
        """``"open"``: within its address's share; ``"hold"``: past it, to be held unread; ``"close"``: past
        it with no room to hold it."""
        if not peer or is_trusted_proxy(peer):
            return "open"
        limit = SHARES["connections"].limit()
        with self._lock:
            self._admitted += 1
            if self._admitted % 1000 == 0:  # addresses that went away leave nothing behind
                for key in [k for k, ts in self._by_peer.items() if not any(not t.is_closing() for t in ts)]:
                    del self._by_peer[key]
            open_ = {t for t in self._by_peer.get(peer, ()) if not t.is_closing()}
            self._by_peer[peer] = open_
            if len(open_) < limit:
                open_.add(transport)
                return "open"
            if len(self._held) < max_held_connections():
                self._held.add(transport)
                return "hold"
            return "close"

    def forget(self, transport) -> None:
        with self._lock:
            self._held.discard(transport)

    @property
    def held(self) -> int:
        return len(self._held)


def max_held_connections() -> int:
    return settings.get("PLAYGROUND_HELD_CONNECTIONS")


def held_for_s() -> float:
    """How long one connection past its address's share is held: between the setting and twice it."""
    return settings.get("PLAYGROUND_HELD_FOR_S") * (1.0 + random.random())


CONNECTIONS = Connections()


class _GuardedMixin:
    """Header timeout and per-address connection cap, over either of uvicorn's HTTP protocols."""

    _header_timer: asyncio.TimerHandle | None = None
    _armed_for: object = None
    _held = False  # past its address's share: held unread for PLAYGROUND_HELD_FOR_S (to twice it)

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self._made = time.monotonic()
        super().connection_made(transport)  # type: ignore[misc]
        peer = transport.get_extra_info("peername")
        verdict = CONNECTIONS.admit(peer[0] if peer else None, transport)
        if verdict == "close":
            log.debug("refused a connection from %s: over its share of connections", peer[0] if peer else "?")
            transport.close()
            return
        if verdict == "hold":  # never read, and closed after a while of its own
            self._held = True
            transport.pause_reading()
            self._header_timer = asyncio.get_running_loop().call_later(held_for_s(), self._headers_too_slow)
            return
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._armed_for = self.cycle  # type: ignore[attr-defined]
        self._header_timer = asyncio.get_running_loop().call_later(header_timeout_s(), self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        transport = getattr(self, "transport", None)
        if transport is not None and not transport.is_closing():
            transport.close()

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle  # type: ignore[attr-defined]
        if self._header_timer is None and (cycle is None or cycle.response_complete):
            self._arm()  # the first bytes of the next request on a kept-alive connection
        super().data_received(data)  # type: ignore[misc]
        cycle = self.cycle  # type: ignore[attr-defined]
        if self._header_timer is not None and cycle is not None and cycle is not self._armed_for:
            self._disarm()  # its headers are in
            if LOOP_WATCH.on:
                LOOP_WATCH.headers_in(self._made, self._armed_for is None)

    def handle_websocket_upgrade(self, *args) -> None:
        self._disarm()
        return super().handle_websocket_upgrade(*args)  # type: ignore[misc]

    def connection_lost(self, exc) -> None:
        self._disarm()
        if self._held:
            CONNECTIONS.forget(self.transport)  # type: ignore[attr-defined]
        super().connection_lost(exc)  # type: ignore[misc]


def guarded_protocol():
    """uvicorn's own HTTP protocol (httptools where installed, else h11) with the guard mixed in."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as base
    except ImportError:  # httptools is optional
        from uvicorn.protocols.http.h11_impl import H11Protocol as base
    return type("GuardedHTTP", (_GuardedMixin, base), {})


try:
    GuardedHTTP = guarded_protocol()
except ImportError:  # pragma: no cover - uvicorn is a dependency of Gradio
    GuardedHTTP = None


def install() -> None:
    """Make the guarded protocol uvicorn's default and pass the trusted proxies on, for the server that
    Gradio's launch builds next (it builds uvicorn's Config itself, with no way to pass either)."""
    from uvicorn import config

    config.HTTP_PROTOCOLS["auto"] = f"{__name__}:GuardedHTTP"
    os.environ["FORWARDED_ALLOW_IPS"] = trusted_proxies()
