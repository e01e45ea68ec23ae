"""Hostile inputs for the soak (``bench.soak``) and the safety tests: files and ids a visitor may send.

Each case says what it sends and a piece of the sentence the app must answer with; none of them may take
the server down, and none may be answered with Gradio's generic "upstream" error.
"""
from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "image": a file for the image input; "model": an id for model A; "video": a file
    value: str  # the file's path, or the id
    expect: str  # a piece of the sentence the app answers with ("" when the call should succeed)


def png_of_size(width: int, height: int) -> bytes:
    """A valid grey PNG of any size, written row by row: a 9000x9000 one is about 80 kB and never exists
    as pixels on this side."""
    raw = zlib.compressobj(9)
    row = b"\x00" + b"\x80" * width
    body = bytearray()
    for _ in range(height):
        body += raw.compress(row)
    body += raw.flush()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", bytes(body)) + chunk(b"IEND", b"")


def write_cases(folder: Path, photo: np.ndarray) -> list[Case]:
    """Write the hostile files into ``folder`` (a real ``photo`` gives the odd-format ones a face)."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = []

    def put(name: str, data: bytes, expect: str, kind: str = "image") -> None:
        path = folder / name
        path.write_bytes(data)
        cases.append(Case(name, kind, str(path), expect))

    put("long-32767x2.png", png_of_size(32767, 2), "image too large")
    put("thin-8000x4.png", png_of_size(8000, 4), "too long and thin")
    put("bomb-9000x9000.png", png_of_size(9000, 9000), "image too large")
    put("empty.png", b"", "empty")
    put("not-an-image.png", b"this is not a png" * 10, "not an image the playground reads")
    jpeg = io.BytesIO()
    Image.fromarray(photo).save(jpeg, "JPEG", quality=90)
    put("truncated.jpg", jpeg.getvalue()[: len(jpeg.getvalue()) // 3], "truncated")
    put("svg.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "not an image")
    # odd but valid: these must work and find the face
    sixteen = io.BytesIO()
    Image.fromarray((photo.mean(axis=2) * 257).astype(np.uint16)).save(sixteen, "PNG")
    put("sixteen-bit.png", sixteen.getvalue(), "")
    rgba = io.BytesIO()
    Image.fromarray(np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])).save(rgba, "PNG")
    put("rgba.png", rgba.getvalue(), "")
    cmyk = io.BytesIO()
    Image.fromarray(photo).convert("CMYK").save(cmyk, "JPEG")
    put("cmyk.jpg", cmyk.getvalue(), "")
    for mid, expect in (("file:/etc/passwd", "unknown model"), ("hf:acme/not-added", "unknown model"),
                        ("x" * 100_000, "unknown model"), ("pose/blazepose-full", "not a face model"),
                        ("file:../../../../etc/shadow", "unknown model")):
        cases.append(Case(f"id {mid[:24]}", "model", mid, expect))
    return cases


def high_rate_video(path: Path, fps: int = 240, seconds: float = 4.0, size: tuple[int, int] = (320, 240)) -> Path:
    """A short clip that claims a high frame rate (as phones' slow-motion files do)."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(int(fps * seconds)):
            img = np.zeros((size[1], size[0], 3), np.uint8)
            img[:, (i * 2) % size[0]] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


# --- the crowd: attackers that run beside honest visitors (bench.soak --attack) -------------------------
# Each one loops until ``stop`` is set, from its own loopback address, bounded in what it holds at once,
# and counts what it did in ``tally``. None reaches beyond this machine.

def png16(width: int, height: int, alpha: bool = False) -> bytes:
    """A valid 16-bit PNG of any size with a ramp in it (grey, or RGBA half see-through with ``alpha``),
    written row by row (never as pixels)."""
    comp = zlib.compressobj(9)
    grey = np.linspace(0, 65535, width).astype(">u2")
    ramp = (np.stack([grey, grey, grey, np.full_like(grey, 32768)], axis=1) if alpha else grey).astype(">u2").tobytes()
    body = bytearray(comp.compress(b"\x00" + ramp))
    same = b"\x02" + bytes(len(ramp))  # filter "Up": each further row is the one above it
    for _ in range(height - 1):
        body += comp.compress(same)
    body += comp.flush()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 16, 6 if alpha else 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", bytes(body)) + chunk(b"IEND", b"")


def webp_lossless(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height)).save(out, "WEBP", lossless=True, quality=0, method=0)
    return out.getvalue()


def _count(tally: dict, key: str, n: int = 1) -> None:
    tally[key] = tally.get(key, 0) + n


def _payload(kind: str) -> bytes:
    """An odd frame, made once per machine (the 16-bit PNG takes seconds to write) in the temporary folder."""
    import tempfile

    path = Path(tempfile.gettempdir()) / f"crowd-{kind}-7071.bin"
    if not path.is_file():
        data = png16(7071, 7071) if kind == "png16" else webp_lossless(7071, 7071)
        tmp = path.with_suffix(f".{os.getpid()}")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path.read_bytes()


def odd_live_frames(url: str, source: str, stop, tally: dict, kinds: tuple[str, ...] = ("png16", "webp")) -> None:
    """Live frames that are not camera JPEGs (a 16-bit PNG, a 2 kB WebP, both 7071x7071), as fast as allowed;
    closed by the server, it comes back with a new ticket from the page's Start event."""
    from bench.live_client import LiveClient, frame_message, page_ticket

    payloads = [_payload(k) for k in kinds]
    while not stop.is_set():
        try:
            client = LiveClient(url, page_ticket(url, source=source), source=source)
        except Exception:  # noqa: BLE001 - refused at the door
            _count(tally, "odd_frames_refused_sockets")
            stop.wait(1.0)
            continue
        _count(tally, "odd_frames_sockets")
        try:
            for seq in range(1, 2001):
                if stop.is_set():
                    break
                client.send(frame_message(seq, payloads[seq % len(payloads)]))
                _count(tally, "odd_frames_sent")
                stop.wait(0.01)
        except Exception:  # noqa: BLE001 - closed by the server
            pass
        finally:
            client.close()


def hog_live_slots(url: str, source: str, stop, tally: dict, count: int = 8) -> None:
    """One address asks for every live slot, holds what it gets for a while (sending nothing), and again."""
    from bench.live_client import LiveClient, page_ticket

    while not stop.is_set():
        held = []
        for _ in range(count):
            try:
                client = LiveClient(url, page_ticket(url, source=source), source=source)
                first = client.wait_for(lambda m: m["type"] in ("ready", "closed"), 10)
                _count(tally, "hog_ready" if first and first["type"] == "ready" else "hog_refused")
                held.append(client)
            except Exception:  # noqa: BLE001
                _count(tally, "hog_refused")
        stop.wait(20.0)  # a page that went away without Stop
        for client in held:
            client.close()


def call_body(url: str, api_name: str, *values) -> dict:
    """A /gradio_api/call body for ``api_name`` with ``values`` first and the page's defaults for the rest of
    its inputs (the settings), as a plain HTTP client would write it from the API page."""
    import httpx

    config = httpx.get(f"{url}config", timeout=30).json()
    dep = next(d for d in config["dependencies"] if d.get("api_name") == api_name)
    props = {c["id"]: c.get("props", {}) for c in config["components"]}
    rest = [props.get(i, {}).get("value") for i in dep["inputs"][len(values):]]
    return {"data": [*values, *rest]}


def call_flood(url: str, source: str, stop, tally: dict, at_once: int = 30) -> None:
    """Joins through /gradio_api/call (not /queue/join), half with a spoofed X-Forwarded-For, 30 at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from bench.live_client import http_from, uploaded
    from zoo.images import sample_image_path

    with http_from(source) as http:
        photo = uploaded(http, url, "a.jpg", sample_image_path().read_bytes())
    body = call_body(url, "face", photo, "face/blazeface-short", "face/facemesh")

    def post(i: int) -> None:
        headers = {"X-Forwarded-For": f"203.0.113.{i % 250}"} if i % 2 else {}
        try:
            with http_from(source) as http:
                code = http.post(f"{url}gradio_api/call/face", json=body, headers=headers).status_code
            _count(tally, f"call_{code}")
        except Exception:  # noqa: BLE001
            _count(tally, "call_error")

    with ThreadPoolExecutor(at_once) as pool:
        while not stop.is_set():
            list(pool.map(post, range(at_once)))
            stop.wait(0.5)


def slowloris(url: str, source: str, stop, tally: dict, at_once: int = 500) -> None:
    """Half-open requests, re-opened as the server closes them, at most ``at_once`` held."""
    import socket
    from urllib.parse import urlparse

    u = urlparse(url)
    held: list = []
    try:
        while not stop.is_set():
            alive = []
            for s in held:
                try:
                    s.setblocking(False)
                    if s.recv(1) == b"":
                        s.close()
                        _count(tally, "slowloris_closed_by_server")
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    s.close()
                    _count(tally, "slowloris_closed_by_server")
                    continue
                alive.append(s)
            held = alive
            while len(held) < at_once and not stop.is_set():
                try:
                    s = socket.create_connection((u.hostname, u.port), timeout=5, source_address=(source, 0))
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                    held.append(s)
                    _count(tally, "slowloris_opened")
                except OSError:
                    _count(tally, "slowloris_refused")
                    break
            tally["slowloris_held_now"] = len(held)
            stop.wait(1.0)
    finally:
        for s in held:
            s.close()


def bad_json(url: str, source: str, stop, tally: dict) -> None:
    """A 20 MB JSON body and a 100,000-deep one, over and over."""
    from bench.live_client import http_from

    big = b'{"data": ["' + b"x" * (20 << 20) + b'"]}'
    deep = b"[" * 100_000 + b"]" * 100_000
    with http_from(source, 60) as http:
        while not stop.is_set():
            for name, body in (("big", big), ("deep", deep)):
                try:
                    code = http.post(f"{url}gradio_api/call/face", content=body,
                                     headers={"content-type": "application/json"}).status_code
                    _count(tally, f"json_{name}_{code}")
                except Exception:  # noqa: BLE001
                    _count(tally, f"json_{name}_error")
            stop.wait(1.0)


def large_stills(url: str, source: str, stop, tally: dict, folder: Path) -> None:
    """Four 16-bit PNGs of 7071x7071 at once through the API, every 30 s."""
    from concurrent.futures import ThreadPoolExecutor

    from bench.live_client import http_from, uploaded

    path = folder / "sixteen-7071.png"
    path.write_bytes(png16(7071, 7071))

    def one(_: int) -> None:
        try:  # the file goes up like any upload, then the API is called on it
            with http_from(source, 120) as http:
                body = call_body(url, "face", uploaded(http, url, path.name, path.read_bytes()),
                                 "face/blazeface-short", "face/facemesh")
                code = http.post(f"{url}gradio_api/call/face", json=body).status_code
            _count(tally, f"large_png_{code}")
        except Exception:  # noqa: BLE001
            _count(tally, "large_png_error")

    with ThreadPoolExecutor(4) as pool:
        while not stop.is_set():
            list(pool.map(one, range(4)))
            stop.wait(30.0)


def gone_pages(url: str, source: str, stop, tally: dict) -> None:
    """Pages that open their live view, send one frame, then say nothing with their connection still open."""
    from bench.fakecam import make_frames
    from bench.live_client import LiveClient, frame_message, jpeg, page_ticket

    frame = jpeg(make_frames(640, 480, fps=25, seconds=1)[0])
    while not stop.is_set():
        try:
            client = LiveClient(url, page_ticket(url, source=source), source=source)
            client.send(frame_message(1, frame))
            closed = client.wait_for(lambda m: m["type"] == "closed", 90)
            _count(tally, "gone_page_closed_by_server" if closed else "gone_page_still_open")
            client.close()
        except Exception:  # noqa: BLE001
            _count(tally, "gone_page_refused")
            stop.wait(1.0)


CROWD = {  # attacker -> its loopback address
    odd_live_frames: "127.0.0.2", hog_live_slots: "127.0.0.3", call_flood: "127.0.0.4", slowloris: "127.0.0.5",
    bad_json: "127.0.0.6", large_stills: "127.0.0.7", gone_pages: "127.0.0.8",
}


def main(argv=None) -> int:
    """One attacker of the crowd, in a process of its own, for a set time: its tally as JSON on stdout."""
    import argparse
    import json
    import threading

    by_name = {fn.__name__: fn for fn in CROWD}
    p = argparse.ArgumentParser(prog="python -m bench.hostile", description=main.__doc__)
    p.add_argument("attacker", choices=sorted(by_name))
    p.add_argument("--url", required=True, help="the app, on this machine (http://127.0.0.1:PORT/)")
    p.add_argument("--source", default=None, help="the loopback address to attack from (default: its own)")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--kinds", default="png16,webp", help="odd_live_frames: which payloads")
    args = p.parse_args(argv)
    if not args.url.startswith(("http://127.", "http://localhost")):
        p.error("the crowd attacks this machine only (a loopback URL)")
    fn, tally, stop = by_name[args.attacker], {}, threading.Event()
    extra = {"kinds": tuple(args.kinds.split(","))} if fn is odd_live_frames else {}
    if fn is large_stills:
        import tempfile

        extra = {"folder": Path(tempfile.mkdtemp(prefix="crowd-"))}
    t = threading.Thread(target=fn, args=(args.url, args.source or CROWD[fn], stop, tally), kwargs=extra, daemon=True)
    t.start()
    stop.wait(args.seconds)
    stop.set()
    t.join(120)
    print(json.dumps(tally), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
