"""The image edge: everything that enters the zoo becomes RGB uint8 here, once."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Refuse anything larger than this (decompression bombs, absurd uploads).
MAX_PIXELS = int(os.environ.get("ZOO_MAX_PIXELS", 50_000_000))
MAX_FILE_BYTES = int(os.environ.get("ZOO_MAX_IMAGE_BYTES", 64 * 1024 * 1024))


class ImageError(ValueError):
    """An input that is not a usable image; the message is meant for a person."""


def to_rgb_uint8(image: np.ndarray | Image.Image) -> np.ndarray:
    """Convert grayscale, RGBA, 16-bit, float or PIL images to a contiguous RGB uint8 array.

    Colour order is assumed RGB (or RGBA); BGR arrays from OpenCV must be converted by whoever
    read them with OpenCV, at that edge.
    """
    if isinstance(image, Image.Image):
        return _pil_to_rgb(image)
    arr = np.asarray(image)
    if arr.size == 0 or arr.ndim not in (2, 3):
        raise ImageError(f"not an image: array of shape {arr.shape}")
    if arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4):
        raise ImageError(f"not an image: {arr.shape[2]} channels")
    if arr.shape[0] * arr.shape[1] > MAX_PIXELS:
        raise ImageError(
            f"image too large: {arr.shape[1]}x{arr.shape[0]} is over {MAX_PIXELS // 1_000_000} megapixels"
        )
    arr = _to_uint8(arr)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif arr.shape[2] == 2:  # gray + alpha
        arr = _composite(np.repeat(arr[:, :, :1], 3, axis=2), arr[:, :, 1])
    elif arr.shape[2] == 4:
        arr = _composite(arr[:, :, :3], arr[:, :, 3])
    return np.ascontiguousarray(arr)


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        finite = np.nan_to_num(arr.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        scale = 255.0 if finite.max(initial=0.0) <= 1.0 else 1.0
        return np.clip(finite * scale, 0, 255).astype(np.uint8)
    if arr.dtype in (np.uint16, np.int32, np.uint32, np.int64, np.uint64, np.int16):
        # 16-bit (and wider) images use their full range; scale to 8 bits.
        info_max = 65535 if arr.max(initial=0) > 255 else 255
        return np.clip(arr.astype(np.float32) * (255.0 / info_max), 0, 255).astype(np.uint8)
    return np.clip(arr, 0, 255).astype(np.uint8)


def _composite(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Put a transparent image on white, as a viewer would show it."""
    a = alpha.astype(np.float32)[:, :, None] / 255.0
    return (rgb.astype(np.float32) * a + 255.0 * (1.0 - a)).astype(np.uint8)


def _pil_to_rgb(img: Image.Image) -> np.ndarray:
    if img.width * img.height > MAX_PIXELS:
        raise ImageError(
            f"image too large: {img.width}x{img.height} is over {MAX_PIXELS // 1_000_000} megapixels"
        )
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return to_rgb_uint8(np.asarray(img))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
    elif img.mode != "RGB":
        img = img.convert("RGB")
    return to_rgb_uint8(np.asarray(img))


def load_image(source: str | os.PathLike | bytes) -> np.ndarray:
    """Read an image file (or bytes) into RGB uint8, with a readable error for anything else."""
    try:
        if isinstance(source, (bytes, bytearray)):
            data = bytes(source)
            name = "upload"
        else:
            path = Path(source)
            name = path.name
            if not path.is_file():
                raise ImageError(f"{name}: no such file")
            size = path.stat().st_size
            if size == 0:
                raise ImageError(f"{name}: empty file")
            if size > MAX_FILE_BYTES:
                raise ImageError(f"{name}: file too large ({size // 2**20} MiB)")
            data = path.read_bytes()
        if not data:
            raise ImageError(f"{name}: empty file")
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ImageError(
                    f"{name}: image too large ({img.width}x{img.height}, over "
                    f"{MAX_PIXELS // 1_000_000} megapixels)"
                )
            img.load()
            return _pil_to_rgb(img)
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ImageError(f"{name}: not a readable image") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"{name}: not a readable image ({exc.__class__.__name__})") from exc


def save_image(path: str | os.PathLike, rgb: np.ndarray) -> None:
    Image.fromarray(to_rgb_uint8(rgb)).save(path)


def fit_within(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Downscale so the longer side is at most ``max_side``; return the image and the scale used."""
    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return rgb, 1.0
    import cv2

    # Area averaging where it matters (shrinking by half or more); bilinear otherwise, which is several
    # times cheaper for the mild shrinks of live frames (640 -> 480: 1.5 ms -> 0.3 ms here, more under load).
    interpolation = cv2.INTER_AREA if scale <= 0.5 else cv2.INTER_LINEAR
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=interpolation)
    return small, scale


def sample_image_path() -> Path:
    """A real photo of a person that ships with matplotlib (Grace Hopper)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
