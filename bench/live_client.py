"""A scripted live-socket client (no browser): sends real frames the way the page does, reads the answers.

It speaks the protocol of ``playground/live_socket.py``: binary frames (8-byte header + JPEG) and JSON
answers. :func:`drive` plays the page's latest-frame-wins rule (a frame is sent only while a side is free)
or, with ``flood=True``, sends regardless, to see the server skip frames instead of queueing them.
"""
from __future__ import annotations

import json
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import cv2
import numpy as np

HEADER = struct.Struct("<IB3x")


def jpeg(rgb: np.ndarray, quality: int = 80) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def frame_message(seq: int, payload: bytes, mirror: bool = True, sides: str = "") -> bytes:
    """The page's frame message; ``sides`` ("a", "b"; empty: both) limits which sides may take it."""
    flags = (1 if mirror else 0) | (2 if "a" in sides else 0) | (4 if "b" in sides else 0)
    return HEADER.pack(seq, flags) + payload


def socket_url(app_url: str, ticket: str | None) -> str:
    base = app_url.rstrip("/").replace("http://", "ws://").replace("https://", "wss://")
    return f"{base}/live/ws" + (f"?ticket={ticket}" if ticket is not None else "")


_CONFIGS: dict[str, dict] = {}


def http_from(source: str | None = None, timeout: float = 30.0):
    """An HTTP client whose connections leave from ``source`` (another loopback address plays another
    visitor; None: the system's choice)."""
    import httpx

    return httpx.Client(transport=httpx.HTTPTransport(local_address=source) if source else None, timeout=timeout)


def uploaded(http, app_url: str, name: str, data: bytes) -> dict:
    """Upload a file as the page does; the reference an API call passes for it."""
    up = http.post(f"{app_url.rstrip('/')}/gradio_api/upload", files={"files": (name, data)})
    up.raise_for_status()
    return {"path": up.json()[0], "meta": {"_type": "gradio.FileData"}}


def page_ticket(app_url: str, task: str = "face", source: str | None = None, timeout: float = 60.0) -> str:
    """A live ticket the way the page gets one: its Start button's event, joined through the queue with a
    session of its own (raw HTTP, as any client of the page can), its answer read from the event stream."""
    import secrets

    base = app_url.rstrip("/") + "/"
    with http_from(source, timeout) as http:
        if base not in _CONFIGS:  # a page reads it once
            _CONFIGS[base] = http.get(f"{base}config").json()
        config = _CONFIGS[base]
        ids = {c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == f"{task}-live-start"}
        dep = next(i for i, d in enumerate(config["dependencies"])
                   if any(t[0] in ids for t in d.get("targets", [])) and d.get("backend_fn"))
        fn_id = config["dependencies"][dep].get("id", dep)
        session = secrets.token_hex(6)
        inputs = config["dependencies"][dep].get("inputs", [])
        join = http.post(f"{base}gradio_api/queue/join", json={"fn_index": fn_id, "session_hash": session,
                                                                 "data": [None] * len(inputs), "trigger_id": None})
        join.raise_for_status()
        with http.stream("GET", f"{base}gradio_api/queue/data", params={"session_hash": session}) as events:
            for line in events.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    if not msg.get("success"):
                        raise RuntimeError(f"the Start event failed: {msg.get('output')}")
                    return msg["output"]["data"][0]
    raise RuntimeError("the Start event gave no ticket")


class LiveClient:
    """One socket; answers are collected by a reader thread into :attr:`messages` (with arrival times)."""

    def __init__(self, app_url: str, ticket: str | None, source: str | None = None):
        """``source``: the local address to connect from (another loopback address plays another visitor)."""
        from websockets.sync.client import connect

        extra = {"source_address": (source, 0)} if source else {}
        self.ws = connect(socket_url(app_url, ticket), max_size=None, open_timeout=10, **extra)
        self.messages: list[tuple[float, dict[str, Any]]] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                with self._cond:
                    self.messages.append((time.monotonic(), json.loads(raw)))
                    self._cond.notify_all()
        except Exception:  # noqa: BLE001 - closed
            pass
        with self._cond:
            self.messages.append((time.monotonic(), {"type": "_eof"}))
            self._cond.notify_all()

    def send(self, data: bytes | str) -> None:
        self.ws.send(data)

    def wait_for(self, predicate, timeout: float = 30.0, start: int = 0) -> dict[str, Any] | None:
        """The first message (from index ``start``) that satisfies ``predicate``."""
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                for _, m in self.messages[start:]:
                    if predicate(m):
                        return m
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        with self._cond:
            return [m for _, m in self.messages if m.get("type") == kind]

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self._reader.join(timeout=5)


@dataclass
class DriveReport:
    sent: int = 0
    seconds: float = 0.0
    results: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"a": [], "b": []})
    delays_ms: dict[str, list[float]] = field(default_factory=lambda: {"a": [], "b": []})
    #: from the server saying it read the frame ("taken") to that side's answer: the wait in the server alone,
    #: without the time the frame spent in the network or in a socket buffer on the way there
    server_delays_ms: dict[str, list[float]] = field(default_factory=lambda: {"a": [], "b": []})

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sent_fps": round(self.sent / max(self.seconds, 1e-6), 1)}
        for side in ("a", "b"):
            ok = [r for r in self.results[side] if "error" not in r]
            d = np.array(self.delays_ms[side]) if self.delays_ms[side] else np.array([np.nan])
            out[side] = {"answers_per_s": round(len(ok) / max(self.seconds, 1e-6), 1),
                         "latency_p50_ms": round(float(np.median([r["latency_ms"] for r in ok])), 1) if ok else None,
                         "delay_p50_ms": round(float(np.nanmedian(d)), 1),
                         "delay_p95_ms": round(float(np.nanpercentile(d, 95)), 1),
                         "errors": len(self.results[side]) - len(ok)}
        return out


def drive(client: LiveClient, frames: Iterable[bytes], seconds: float, flood: bool = False,
          mirror: bool = True, max_fps: float = 30.0) -> DriveReport:
    """Send JPEG frames (cycled) for ``seconds``: each while a side is free (the page's rule), at most
    ``max_fps`` a second (the server's cap); or back to back with ``flood``. Delay: from sending a frame to
    that side's answer for it."""
    frames = list(frames)
    rep = DriveReport()
    sent_at: dict[int, float] = {}
    read_at: dict[int, float] = {}
    busy = {"a": None, "b": None}
    seen = len(client.messages)
    t0 = time.monotonic()
    seq = 0
    while time.monotonic() - t0 < seconds:
        with client._cond:
            new = client.messages[seen:]
            seen = len(client.messages)
        for at, m in new:
            if m.get("type") == "result":
                rep.results[m["side"]].append(m)
                if m["seq"] in sent_at:
                    rep.delays_ms[m["side"]].append((at - sent_at[m["seq"]]) * 1000)
                if m["seq"] in read_at:
                    rep.server_delays_ms[m["side"]].append((at - read_at[m["seq"]]) * 1000)
                if busy[m["side"]] is not None and busy[m["side"]] <= m["seq"]:
                    busy[m["side"]] = None
            if m.get("type") == "taken" and not m.get("picked"):
                read_at.setdefault(m["seq"], at)
            if m.get("type") == "taken" and m.get("picked"):  # a side that freed took the newest frame
                for side in m["sides"]:
                    busy[side] = max(busy[side] or 0, m["seq"])
            elif m.get("type") in ("dropped", "taken"):
                for side in ("a", "b"):
                    if busy[side] == m["seq"] and side in m.get("asked", "ab") and \
                            (m["type"] == "dropped" or side not in m.get("sides", ())):
                        busy[side] = None
        paced = time.monotonic() - (sent_at[seq] if seq else 0.0) >= 1.0 / max_fps
        if flood or (paced and any(v is None for v in busy.values())):
            seq += 1
            for side in ("a", "b"):
                if busy[side] is None:
                    busy[side] = seq
            sent_at[seq] = time.monotonic()
            client.send(frame_message(seq, frames[seq % len(frames)], mirror))
            rep.sent += 1
            if flood:
                time.sleep(0.002)
        else:
            with client._cond:
                if len(client.messages) == seen:
                    client._cond.wait(0.005 if any(v is None for v in busy.values()) else 0.05)
    rep.seconds = time.monotonic() - t0
    return rep
