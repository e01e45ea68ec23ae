"""Hostile inputs for the soak (``bench.soak``) and the safety tests: files and ids a visitor may send.

Each case says what it sends and a piece of the sentence the app must answer with; none of them may take
the server down, and none may be answered with Gradio's generic "upstream" error.
"""
from __future__ import annotations

import io
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
