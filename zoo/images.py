"""The image edge: everything that enters the zoo becomes RGB uint8 here, once.

A file is checked from its header (format, size on disk, side lengths, aspect, pixel count) before a
single pixel is decoded; then it is decoded once (EXIF orientation applied, 16-bit scaled to 8, alpha
composited on white, palette/CMYK/greyscale converted), shrunk to the size the caller asks for, and
handed on as a contiguous RGB uint8 array. Limits are read when used (``ZOO_MAX_*``), so a deployment
or a test can change them without re-importing anything.
"""
from __future__ import annotations

import io
import os
import sys
import threading
import warnings
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from zoo import settings
from zoo.errors import ZooError

# Formats the playground decodes; anything else is refused from its header.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
# Decoding a picture costs its full size in memory for a moment: at most two decodes at once, and of those
# larger than LARGE_PIXELS one at a time (four 50-megapixel 16-bit PNGs at once took 1.15 GB without it).
_DECODES = threading.BoundedSemaphore(2)
_LARGE_DECODES = threading.BoundedSemaphore(1)
LARGE_PIXELS = 12_000_000
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N")
_REDUCIBLE = ("L", "LA", "La", "RGB", "RGBA", "RGBa", "CMYK", "YCbCr", "I", "F")  # modes Image.reduce takes


def max_pixels() -> int:
    return settings.get("ZOO_MAX_PIXELS")


def max_side() -> int:
    """The longest side accepted (OpenCV's remap, inside MediaPipe, aborts the process at 32767)."""
    return min(settings.get("ZOO_MAX_SIDE"), 16_384)


def max_aspect() -> float:
    return float(settings.get("ZOO_MAX_ASPECT"))


def max_file_bytes() -> int:
    return settings.get("ZOO_MAX_IMAGE_BYTES")


class ImageError(ZooError, ValueError):
    """An input that is not a usable image; the message is meant for a person."""


def check_size(width: int, height: int, name: str | None = None) -> None:
    """Refuse sides, aspect ratios and pixel counts the playground will not decode or run."""
    at = f"{name}: " if name else ""
    if width < 1 or height < 1:
        raise ImageError(f"{at}the image is empty ({width}x{height})")
    side = max_side()
    if max(width, height) > side:
        raise ImageError(f"{at}image too large ({width}x{height}); the longest side may be at most {side} pixels")
    if width * height > max_pixels():
        raise ImageError(f"{at}image too large ({width}x{height}, over {max_pixels() / 1e6:g} megapixels)")
    aspect = max(width, height) / min(width, height)
    if aspect > max_aspect() and max(width, height) > 64:
        raise ImageError(f"{at}the image is {width}x{height}, too long and thin to show a scene "
                         f"(at most {max_aspect():g}:1)")


def to_rgb_uint8(image: np.ndarray | Image.Image) -> np.ndarray:
    """Convert grayscale, RGBA, 16-bit, float or PIL images to a contiguous RGB uint8 array.

    Colour order is assumed RGB (or RGBA); BGR arrays from OpenCV must be converted by whoever
    read them with OpenCV, at that edge.
    """
    if isinstance(image, Image.Image):
        check_size(image.width, image.height)
        return _pil_to_rgb(image)
    arr = np.asarray(image)
    if arr.size == 0 or arr.ndim not in (2, 3):
        raise ImageError(f"not an image: array of shape {arr.shape}")
    if arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4):
        raise ImageError(f"not an image: {arr.shape[2]} channels")
    check_size(arr.shape[1], arr.shape[0])
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
    if arr.dtype == np.uint16:  # a 16-bit image uses its full range, dark or not
        return (arr >> 8).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.integer):
        # wider integers (PIL's "I" mode holds 16-bit PNGs): 16-bit range when any value needs it
        info_max = 65535 if arr.max(initial=0) > 255 else 255
        return np.clip(arr.astype(np.float32) * (255.0 / info_max), 0, 255).astype(np.uint8)
    raise ImageError(f"not an image: values of type {arr.dtype}")


def _composite(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Put a transparent image on white, as a viewer would show it (16-bit integer arithmetic, a band of rows
    at a time: a 50-megapixel picture never has a float copy)."""
    out = np.empty(rgb.shape, np.uint8)
    for top in range(0, rgb.shape[0], 512):
        a = alpha[top:top + 512, :, None].astype(np.uint16)
        band = rgb[top:top + 512].astype(np.uint16) * a + 255 * (255 - a) + 127
        out[top:top + 512] = band // 255
    return out


def _high_bytes(img: Image.Image) -> np.ndarray:
    """A 16-bit greyscale image straight to 8 bits: the high byte of each pixel, read through a view (no
    16-bit arithmetic copy; the one copy is the array of the decoded pixels)."""
    wide = np.asarray(img)
    big_endian = wide.dtype.byteorder == ">" or (wide.dtype.byteorder == "=" and sys.byteorder == "big")
    return np.ascontiguousarray(wide.view(np.uint8).reshape(*wide.shape, 2)[..., 0 if big_endian else 1])


def _pil_to_rgb(img: Image.Image, max_side: int | None = None) -> np.ndarray:
    """RGB uint8 from any decoded PIL image. With ``max_side``, a picture at least twice that size is first
    reduced in PIL (box averaging, before any copy), and 16-bit greyscale is shrunk before it is spread to
    three channels; the caller fits the result within ``max_side``."""
    if img.getexif().get(0x0112, 1) != 1:  # turned as its EXIF orientation says (a copy only then)
        img = ImageOps.exif_transpose(img)
    if max_side and max(img.size) >= 2 * max_side and img.mode in _REDUCIBLE:
        img = img.reduce(max(img.size) // max_side)  # box averaging to about the size asked, before any copy
    if img.mode in _SIXTEEN_BIT:
        grey = _high_bytes(img)
        img.close()  # its 16-bit pixels are not needed any more
        if max_side:
            grey, _ = fit_within(grey, max_side)
        return to_rgb_uint8(grey)
    if img.mode in ("I", "F"):
        return to_rgb_uint8(np.asarray(img))
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
    elif img.mode != "RGB":
        img = img.convert("RGB")  # palette, greyscale, CMYK, YCbCr, 1-bit
    return to_rgb_uint8(np.asarray(img))


def _open(data: bytes, name: str) -> Image.Image:
    try:
        with warnings.catch_warnings():  # the sizes are checked next, from the header, by check_size
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image the playground reads (JPEG, PNG, WebP, GIF, BMP or TIFF)") from None
    except Image.DecompressionBombError:
        raise ImageError(f"{name}: image too large (over {max_pixels() / 1e6:g} megapixels)") from None
    except Exception as exc:  # noqa: BLE001 - a header that makes the decoder fail is a broken file
        raise ImageError(f"{name}: not a readable image ({exc.__class__.__name__})") from None


def _read(source: str | os.PathLike | bytes) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), "upload"
    else:
        path = Path(source)
        name = path.name or "upload"
        if not path.is_file():
            raise ImageError(f"{name}: no such file")
        size = path.stat().st_size
        if size > max_file_bytes():
            raise ImageError(f"{name}: file too large ({size / 2**20:.0f} MiB; at most "
                             f"{max_file_bytes() / 2**20:.0f} MiB)")
        data = path.read_bytes()
    if not data:
        raise ImageError(f"{name}: the file is empty")
    if len(data) > max_file_bytes():
        raise ImageError(f"{name}: file too large ({len(data) / 2**20:.0f} MiB)")
    return data, name


def load_image(source: str | os.PathLike | bytes, *, max_side: int | None = None) -> np.ndarray:
    """Read an image file (or its bytes) into RGB uint8, with a readable error for anything else.

    With ``max_side``, the picture is shrunk so that its longer side is at most that (JPEGs are decoded
    at a reduced scale straight away, so a large photo never occupies its full size in memory)."""
    data, name = _read(source)
    img = _open(data, name)
    large = False
    try:
        check_size(img.width, img.height, name)
        if max_side and img.format == "JPEG":
            img.draft("RGB", (max_side, max_side))  # DCT scaling: a power-of-two reduction at decode
        large = img.width * img.height > LARGE_PIXELS
        with _DECODES, (_LARGE_DECODES if large else nullcontext()):
            try:
                img.load()
            except OSError as exc:
                text = str(exc).lower()
                why = "the file is truncated" if "truncated" in text or "end of file" in text else "a broken file"
                raise ImageError(f"{name}: not a readable image ({why})") from None
            except (ValueError, SyntaxError, Image.DecompressionBombError, MemoryError) as exc:
                raise ImageError(f"{name}: not a readable image ({exc.__class__.__name__})") from None
            rgb = _pil_to_rgb(img, max_side)
            img.close()
            if max_side:
                rgb, _ = fit_within(rgb, max_side)
    finally:
        img.close()
        if large:
            from zoo.cache import trim_memory

            trim_memory()  # hand the decode's memory back to the system now, not at some later allocation
    return rgb


# Start-of-frame markers (baseline, extended, progressive, lossless; Huffman or arithmetic): they carry the size.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_NO_LENGTH = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn stand alone


def jpeg_size(data: bytes, *, scan_bytes: int = 65536) -> tuple[int, int]:
    """(width, height) from a JPEG's frame header, read from its markers without decoding a pixel.
    ImageError for anything that is not a JPEG, or whose frame header is not in its first ``scan_bytes``."""
    view = memoryview(data)[:scan_bytes]
    if bytes(view[:3]) != b"\xff\xd8\xff":
        raise ImageError("not a JPEG: the live view takes JPEG frames only")
    i = 2
    while i + 4 <= len(view):
        if view[i] != 0xFF:
            break
        marker = view[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _NO_LENGTH:
            i += 2
            continue
        length = (view[i + 2] << 8) | view[i + 3]
        if marker in _SOF and i + 9 <= len(view) and length >= 8:
            height, width = (view[i + 5] << 8) | view[i + 6], (view[i + 7] << 8) | view[i + 8]
            return width, height
        if marker in (0xD9, 0xDA) or length < 2:  # the image ended, or its data began, before any frame header
            break
        i += 2 + length
    raise ImageError("not a JPEG with a readable header: the live view takes JPEG frames only")


def check_jpeg(data: bytes, *, max_side: int, max_pixels: int) -> tuple[int, int]:
    """(width, height) of a JPEG whose header's size is within ``max_side`` and ``max_pixels``; ImageError
    for anything else, before any decoder sees it (a 2 kB WebP or PNG can claim 50 megapixels)."""
    width, height = jpeg_size(data)
    if width < 1 or height < 1 or max(width, height) > max_side or width * height > max_pixels:
        raise ImageError(f"a frame of {width}x{height} is refused: at most {max_side} pixels on its longer side "
                         f"and {max_pixels / 1e6:.2g} megapixels")
    return width, height


def decode_jpeg(data: bytes, *, max_side: int, max_pixels: int) -> np.ndarray:
    """A JPEG (and nothing else) as RGB uint8, checked by :func:`check_jpeg` before any decoding: the live
    view's frames."""
    check_jpeg(data, max_side=max_side, max_pixels=max_pixels)
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG",)) as img:
            img.load()
            return _pil_to_rgb(img)
    except ImageError:
        raise
    except Exception as exc:  # noqa: BLE001 - a JPEG that fails to decode is a broken frame
        raise ImageError(f"the frame is not a readable JPEG ({exc.__class__.__name__})") from None


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


def sample_grid(cols: int, rows: int, scale: float) -> np.ndarray:
    """A scene composed at run time from the sample photo: ``cols`` x ``rows`` copies of it at ``scale``
    (several faces, a group of people, from the one real photo an installed package carries)."""
    import cv2

    photo = load_image(sample_image_path())
    small = cv2.resize(photo, (round(photo.shape[1] * scale), round(photo.shape[0] * scale)),
                       interpolation=cv2.INTER_AREA)
    return np.vstack([np.hstack([small] * cols)] * rows)
