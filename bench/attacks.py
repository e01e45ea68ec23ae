"""Each attack of the crowd issue against the app, one after another, with the figure that says whether it
still works: the app is launched in this process (as the tests do), attackers connect from other loopback
addresses (127.0.0.2, ...), every loop is bounded in count and time, and nothing leaves this machine.

    .venv/bin/python -m bench.attacks [--only NAME,...] [--seconds 10] [--json PATH]

Figures: honest live answers/s alone and beside the attack, the server's resident memory (this process:
the app, plus the attackers' small buffers), what one address could hold, how long a gone page kept its
slot. It only uses what the previous round had too (no import of playground.guard), so the same file,
copied beside an older checkout, gives the "before" figures.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from bench.hostile import png16
from bench.live_client import LiveClient, drive, frame_message, http_from, jpeg, uploaded
from bench.server import free_port, rss_mb

ATTACKS: dict[str, Callable[["Run"], dict]] = {}
FACE = {"a": "face/blazeface-short", "b": "face/facemesh"}


def attack(fn):
    ATTACKS[fn.__name__] = fn
    return fn


class Run:
    """The app in this process, and what every attack needs: its URL, a sampler of memory, sessions."""

    def __init__(self, seconds: float) -> None:
        import app
        from playground.live import StreamSession
        from playground.live_socket import TICKETS
        from bench.fakecam import make_frames

        self.app, self.StreamSession, self.TICKETS = app, StreamSession, TICKETS
        self.seconds = seconds
        self.port = free_port()
        app.launch(server_name="127.0.0.1", server_port=self.port, prevent_thread_lock=True, quiet=True)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.frames = [jpeg(f) for f in make_frames(640, 480, fps=25, seconds=2)[:30]]

    def ticket(self, models=None) -> tuple[object, str]:
        session = self.StreamSession("face", dict(models or FACE))
        return session, self.TICKETS.issue(session)

    def honest_live(self, seconds: float) -> dict:
        """An honest visitor on the face tab for ``seconds``: its answers/s, and the cores this process (the
        app and that visitor; not the attackers, who run in processes of their own) used meanwhile."""
        session, ticket = self.ticket()
        client = LiveClient(self.url, ticket)
        try:
            client.wait_for(lambda m: m["type"] == "ready", 10)
            cpu0, t0 = time.process_time(), time.monotonic()
            rep = drive(client, self.frames, seconds).summary()
            cores = (time.process_time() - cpu0) / (time.monotonic() - t0)
        finally:
            client.close()
            session.close()
        return {"a_per_s": rep["a"]["answers_per_s"], "b_per_s": rep["b"]["answers_per_s"],
                "app_cores": round(cores, 2)}


class Peak:
    """This process's resident memory, sampled every 20 ms while the block runs."""

    def __enter__(self):
        self.base = rss_mb(os.getpid())
        self.peak = self.base
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._sample, daemon=True)
        self._t.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(os.getpid()) or 0)
            self._stop.wait(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()

    def growth(self) -> int:
        return round(self.peak - self.base)


def _flood_frames(run: Run, kind: str, sockets: int, seconds: float) -> dict:
    """``sockets`` attackers (one address each, each a process of its own, its tickets from the page's Start
    event) send ``kind`` frames as fast as they may, beside an honest visitor; returns the honest rates, the
    attackers' tallies and the memory peak. The attackers run at the lowest CPU priority: on the 2-core
    machine their own work would otherwise take the honest visitor's CPU, which says nothing of the server."""
    import subprocess
    import sys

    with Peak() as peak:
        procs = [subprocess.Popen(["nice", "-n", "19", sys.executable, "-m", "bench.hostile", "odd_live_frames",
                                   "--url", run.url,
                                   "--source", f"127.0.0.{2 + i}", "--seconds", str(seconds + 5), "--kinds", kind],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                 for i in range(sockets)]
        time.sleep(5)  # the attackers are up and sending before the honest visitor starts
        honest = run.honest_live(seconds)
        tallies = [json.loads(p.communicate(timeout=180)[0] or "{}") for p in procs]
    total = {k: sum(t.get(k, 0) for t in tallies) for k in {k for t in tallies for k in t}}
    return {"honest": honest, "attackers": total, "rss_growth_mb": peak.growth()}


@attack
def live_odd_frames(run: Run) -> dict:
    """1. Live frames that are not camera JPEGs: a 16-bit PNG and a 2 kB lossless WebP, each 7071x7071."""
    alone = run.honest_live(run.seconds)
    png = _flood_frames(run, "png16", 6, run.seconds)
    webp = _flood_frames(run, "webp", 6, run.seconds)
    return {"honest_alone": alone, "png16_7071": png, "webp_7071": webp}


def _open_views(run: Run, source: str, count: int, models=None) -> tuple[list, int]:
    held, ready = [], 0
    for _ in range(count):
        session, ticket = run.ticket(models)
        client = LiveClient(run.url, ticket, source=source)
        first = client.wait_for(lambda m: m["type"] in ("ready", "closed"), 10)
        ready += bool(first and first["type"] == "ready")
        held.append((client, session))
    return held, ready


def _close_all(held) -> None:
    for client, session in held:
        client.close()
        session.close()


@attack
def live_slots_one_address(run: Run) -> dict:
    """2. One address asks for every live slot; then another address asks for one."""
    held, ready = _open_views(run, "127.0.0.20", 8)
    other, other_ready = _open_views(run, "127.0.0.21", 1)
    _close_all(held + other)
    return {"one_address_got": ready, "of": 8, "another_address_served": bool(other_ready)}


@attack
def stream_runners_one_address(run: Run) -> dict:
    """2b. One address runs face mesh on both sides of four views (eight stream-mode runners)."""
    from bench.fakecam import make_frames

    held, _ = _open_views(run, "127.0.0.22", 4, {"a": "face/facemesh", "b": "face/facemesh"})
    frame = jpeg(make_frames(640, 480, fps=25, seconds=1)[0])
    got = 0
    for i, (client, _) in enumerate(held):
        try:
            client.send(frame_message(1, frame))
        except Exception:  # noqa: BLE001 - that view was refused at the door
            continue
        for side in ("a", "b"):
            m = client.wait_for(lambda m, s=side: m["type"] == "result" and m["side"] == s, 60)
            got += bool(m and "result" in m)
    _close_all(held)
    return {"runners_one_address_got": got, "of": 8}


@attack
def queue_through_call(run: Run) -> dict:
    """3. 120 joins at once through /gradio_api/call (not /queue/join), half with a spoofed X-Forwarded-For."""
    from zoo.images import sample_image_path

    from bench.hostile import call_body

    with http_from("127.0.0.30") as http:  # the photo goes up once, as an upload
        photo = uploaded(http, run.url, "a.jpg", sample_image_path().read_bytes())
    body = call_body(run.url, "face", photo, *FACE.values())

    def post(i: int) -> int:
        headers = {"X-Forwarded-For": f"203.0.113.{i}"} if i % 2 else {}
        with http_from("127.0.0.30") as http:
            return http.post(f"{run.url}gradio_api/call/face", json=body, headers=headers).status_code

    with ThreadPoolExecutor(60) as pool:
        codes = list(pool.map(post, range(120)))
    return {"accepted": codes.count(200), "refused_429": codes.count(429), "of": 120}


@attack
def slowloris(run: Run) -> dict:
    """5. Half-open requests from one address: how many the server still holds after 15 s."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 3000
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, want + 1024)), hard))
    socks = []
    try:
        for _ in range(want):
            try:
                s = socket.create_connection(("127.0.0.1", run.port), timeout=5, source_address=("127.0.0.40", 0))
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                s.setblocking(False)
                socks.append(s)
            except OSError:
                break
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            time.sleep(0.5)
        still = 0
        for s in socks:
            try:
                still += s.recv(1) != b""
            except BlockingIOError:
                still += 1
            except OSError:
                pass
        with http_from("127.0.0.41") as http:
            served = http.get(run.url).status_code == 200
    finally:
        for s in socks:
            s.close()
    return {"opened": len(socks), "still_open_after_15s": still, "another_address_served": served}


@attack
def json_bodies(run: Run) -> dict:
    """7. A 100 MB JSON body streamed to /call, and a 100,000-deep one."""
    def huge():
        yield b'{"data": ["'
        for _ in range(100):
            yield b"x" * (1 << 20)
        yield b'"]}'

    with Peak() as peak, http_from("127.0.0.50") as http:
        t0 = time.monotonic()
        try:
            big = http.post(f"{run.url}gradio_api/call/face", content=huge(),
                            headers={"content-type": "application/json"}).status_code
        except Exception as exc:  # noqa: BLE001 - the server may close the connection on it
            big = exc.__class__.__name__
        big_s = round(time.monotonic() - t0, 2)
        deep = http.post(f"{run.url}gradio_api/call/face", content=b"[" * 100_000 + b"]" * 100_000,
                         headers={"content-type": "application/json"}).status_code
    return {"100MB_status": big, "100MB_seconds": big_s, "rss_growth_mb": peak.growth(), "deep_status": deep}


@attack
def large_pngs_at_once(run: Run) -> dict:
    """8. Four still images at once, each a 16-bit PNG of 7071x7071 (grey; RGBA half see-through), through
    the API."""
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"attacks-{os.getpid()}"
    folder.mkdir(exist_ok=True)
    out = {}
    for name, alpha in (("grey16", False), ("rgba16", True)):
        path = folder / f"{name}.png"
        path.write_bytes(png16(7071, 7071, alpha=alpha))
        out[name] = _four_at_once(run, path)
    return out


def _four_at_once(run: Run, path: Path) -> dict:
    from gradio_client import Client, handle_file

    clients = [Client(run.url, verbose=False) for _ in range(4)]

    def one(c):
        try:
            c.predict(handle_file(str(path)), *FACE.values(), api_name="/face")
            return "answered"
        except Exception as exc:  # noqa: BLE001
            return str(exc)[:80]

    with Peak() as peak:
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(one, clients))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        time.sleep(0.5)
    after = round((rss_mb(os.getpid()) or 0) - peak.base)
    return {"file_kb": path.stat().st_size // 1024, "answers": answers, "peak_growth_mb": peak.growth(),
            "growth_20s_after_mb": after}


@attack
def page_gone_without_stop(run: Run) -> dict:
    """9. A page that vanishes without closing its socket: seconds until its slot is free again."""
    before = run.TICKETS.open
    session, ticket = run.ticket()
    client = LiveClient(run.url, ticket, source="127.0.0.60")
    client.wait_for(lambda m: m["type"] == "ready", 10)
    client.send(frame_message(1, run.frames[0]))
    client.wait_for(lambda m: m["type"] == "result", 30)
    t0 = time.monotonic()  # from here on it says nothing, and its TCP connection stays open
    while run.TICKETS.open > before and time.monotonic() - t0 < 120:
        time.sleep(0.1)
    freed = round(time.monotonic() - t0, 1) if run.TICKETS.open <= before else None
    still_valid = run.TICKETS.session(ticket) is not None
    client.close()
    session.close()
    return {"slot_freed_after_s": freed, "ticket_still_valid_after": still_valid}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.attacks", description=__doc__.splitlines()[0])
    p.add_argument("--only", default="", help=f"comma-separated, of: {', '.join(ATTACKS)}")
    p.add_argument("--seconds", type=float, default=10.0, help="honest live driving per measurement")
    p.add_argument("--json", metavar="PATH", type=Path)
    args = p.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(ATTACKS)
    unknown = [n for n in names if n not in ATTACKS]
    if unknown:
        p.error(f"unknown attack(s): {', '.join(unknown)}")
    import logging

    logging.basicConfig(level=logging.ERROR)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    run = Run(args.seconds)
    out = {}
    for name in names:
        out[name] = ATTACKS[name](run)
        print(name, json.dumps(out[name]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    run.app.demo.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
