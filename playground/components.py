"""Gradio components that keep the app in charge of decoding and writing pictures.

- :class:`ImageInput`: hands the app the uploaded file (or a pasted picture's bytes) undecoded, so that
  ``zoo.images`` checks it from its header before any pixel is decoded (Gradio's own image input decodes
  first: a 79 kB PNG of 9000x9000 cost 767 MB before any check could run).
- :class:`OutputImage` and :class:`OutputSlider`: every picture they send is written to a file of its own.
  Gradio names a cached picture by the hash of its bytes and writes it again on every response, so two
  identical answers at once rewrote one file while the other was being downloaded (about 1% of calls
  failed under 8 concurrent clients).
"""
from __future__ import annotations

import base64
import binascii
import secrets
from pathlib import Path

import cv2
import gradio as gr
import numpy as np

from zoo.images import ImageError, max_file_bytes

JPEG_QUALITY = 90


def write_unique(rgb: np.ndarray, cache_dir: str | Path, name: str = "image", quality: int = JPEG_QUALITY) -> str:
    """An RGB picture as a JPEG in a folder of its own inside Gradio's cache (which Gradio serves and
    cleans): no other response ever writes to that file."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ImageError("could not encode the picture")
    folder = Path(cache_dir) / f"out-{secrets.token_hex(12)}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.jpeg"
    path.write_bytes(buf.tobytes())
    return str(path)


class ImageInput(gr.Image):
    """An image input whose value is the uploaded file's path, or the bytes of a pasted or captured
    picture: never decoded here."""

    def get_block_name(self) -> str:
        return "image"  # the front end is gr.Image's

    def preprocess(self, payload):
        if payload is None:
            return None
        url = getattr(payload, "url", None) or ""
        if url.startswith("data:"):
            b64 = url.split(",", 1)[1] if "," in url else ""
            if len(b64) > max_file_bytes() * 4 // 3 + 4:
                raise ImageError(f"the picture is too large (at most {max_file_bytes() // 2**20} MiB)")
            try:
                return base64.b64decode(b64, validate=False)
            except (binascii.Error, ValueError):
                raise ImageError("the picture sent is not readable") from None
        if payload.path is None:
            return None
        return str(payload.path)


class OutputImage(gr.Image):
    """An output picture: a file of its own."""

    def get_block_name(self) -> str:
        return "image"

    def postprocess(self, value):
        if isinstance(value, np.ndarray):
            value = write_unique(value, self.GRADIO_CACHE)
        return super().postprocess(value)


class OutputSlider(gr.ImageSlider):
    """gr.ImageSlider with each picture a file of its own."""

    def get_block_name(self) -> str:
        return "imageslider"

    def postprocess(self, value):
        if value is not None:
            value = tuple(write_unique(v, self.GRADIO_CACHE, f"side{i}") if isinstance(v, np.ndarray) else v
                          for i, v in enumerate(value))
        return super().postprocess(value)
