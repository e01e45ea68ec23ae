"""The bundled models' files: MediaPipe's ``.tflite`` files, each pinned by its sha256.

They are found, in this order:

1. inside the installed ``mediapipe`` package (0.10.21, optional, Python 3.12 and older), where its wheel put
   them;
2. in the playground's model folder (``ZOO_MODELS_DIR``, default ``~/.cache/vision-playground/models``), where
   :func:`fetch` puts them: ``scripts/setup`` runs it (``python -m zoo fetch-bundled``), and a host that only
   ran ``pip install -r requirements.txt`` (a Space) runs it on a bundled model's first use.

:func:`fetch` takes the same bytes from pinned packages on the package registries, through their own clients:
the mediapipe 0.10.21 wheel, downloaded as a file by pip (never installed) and unpacked; BlazePose lite and
heavy, which that wheel lacks, from the npm package ``@mediapipe/pose`` (``npm pack``, or its tarball straight
from the registry where npm is missing: :mod:`zoo.npm`). Each archive and each
file is checked against its pin before it is used; a file is fetched once and kept. Tests never fetch: they
run on the installed package, or on archives they make (``getters``).
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Mapping

from zoo.errors import ModelUnavailableError
from zoo import settings

log = logging.getLogger(__name__)

PACKAGE = "mediapipe"


@dataclass(frozen=True)
class Archive:
    """A pinned package on a registry that carries some of the files: fetched by its registry's own client."""

    registry: str  # "pypi" (pip download, a wheel) or "npm" (npm pack, a tarball)
    name: str
    version: str
    sha256: str  # of the archive file itself
    prefix: str  # the folder its files sit in, inside the archive

    def describe(self) -> str:
        return f"{self.name} {self.version} ({'PyPI' if self.registry == 'pypi' else 'npm'})"


# Any one of mediapipe 0.10.21's wheels: the model files are the same bytes in all of them (checked).
WHEEL = Archive("pypi", "mediapipe", "0.10.21",
                "956eb1ebc275c629e61b085b2cab89c3a5b9e93bad1bb107348d98dafb5a4bb5", "mediapipe/")
WHEEL_PLATFORM = ("manylinux_2_28_x86_64", "3.12")  # which of them pip fetches (pip download --platform ...)
NPM_POSE = Archive("npm", "@mediapipe/pose", "0.5.1675469404",
                   "8bb349a7b3a3ba699df23be804ddd3b3eab810b50b15406894be257859388a84", "package/")

# path (inside the mediapipe package) -> (sha256, where it comes from, its name inside that archive)
FILES: dict[str, tuple[str, Archive]] = {
    "modules/face_detection/face_detection_short_range.tflite":
        ("bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8", WHEEL),
    "modules/face_detection/face_detection_full_range_sparse.tflite":
        ("2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1", WHEEL),
    "modules/face_landmark/face_landmark.tflite":
        ("1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814", WHEEL),
    "modules/palm_detection/palm_detection_lite.tflite":
        ("e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18", WHEEL),
    "modules/palm_detection/palm_detection_full.tflite":
        ("1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54", WHEEL),
    "modules/hand_landmark/hand_landmark_lite.tflite":
        ("048edd3645c9bf7397d19a9f6e3a42957d6e414c9bea6598030a2e9b624156e6", WHEEL),
    "modules/hand_landmark/hand_landmark_full.tflite":
        ("11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3", WHEEL),
    "modules/pose_detection/pose_detection.tflite":
        ("9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c", WHEEL),
    "modules/pose_landmark/pose_landmark_full.tflite":
        ("e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f", WHEEL),
    "modules/pose_landmark/pose_landmark_lite.tflite":
        ("f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61", NPM_POSE),
    "modules/pose_landmark/pose_landmark_heavy.tflite":
        ("59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe", NPM_POSE),
    "modules/selfie_segmentation/selfie_segmentation.tflite":
        ("9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c", WHEEL),
    "modules/selfie_segmentation/selfie_segmentation_landscape.tflite":
        ("a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd", WHEEL),
}


def models_dir() -> Path:
    """Where fetched files are kept (``ZOO_MODELS_DIR``; default ``~/.cache/vision-playground/models``)."""
    chosen = settings.get("ZOO_MODELS_DIR")
    if chosen:
        return Path(chosen)
    base = settings.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vision-playground" / "models"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@lru_cache(maxsize=64)
def _verified(path: str, size: int, mtime: float, want: str) -> bool:
    """A file's hash, checked once per process for each (size, mtime) it has."""
    return sha256_of(Path(path)) == want


def _good(path: Path, want: str) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    return _verified(str(path), st.st_size, st.st_mtime, want)


def package_root() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def locate(path: str) -> Path | None:
    """Where the pinned file ``path`` is on this machine (its bytes checked), or None."""
    want = FILES[path][0]
    root = package_root()
    for candidate in ((root / path) if root else None, models_dir() / PACKAGE / path):
        if candidate is not None and _good(candidate, want):
            return candidate
    return None


def missing(paths: Iterable[str] | None = None) -> list[str]:
    return [p for p in (FILES if paths is None else paths) if p in FILES and locate(p) is None]


# --- fetching --------------------------------------------------------------------------------------
Getter = Callable[[Archive, Path], Path]  # (archive, folder) -> the archive file, downloaded into folder


def pip_download(archive: Archive, folder: Path) -> Path:
    """The wheel, as a file (pip download; never installed)."""
    platform, python = WHEEL_PLATFORM
    cmd = [sys.executable, "-m", "pip", "download", f"{archive.name}=={archive.version}", "--no-deps",
           "--only-binary=:all:", "--platform", platform, "--python-version", python, "-d", str(folder), "-q"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=900)
    return next(folder.glob("*.whl"))


def npm_pack(archive: Archive, folder: Path) -> Path:
    """The npm package's tarball (npm pack; nothing is installed or run)."""
    npm = shutil.which("npm")
    if npm is None:  # a Space: the same tarball straight from the registry (checked by fetch, as npm's is)
        from zoo import npm as registry

        try:
            return registry.download(archive.name, archive.version, folder, sha256=archive.sha256)
        except registry.PackageError as exc:
            raise ModelUnavailableError(f"the bundled model files are not on this machine: {exc}") from None
    subprocess.run([npm, "pack", "--silent", f"{archive.name}@{archive.version}"], cwd=folder, check=True,
                   capture_output=True, timeout=900)
    return next(folder.glob("*.tgz"))


GETTERS: dict[str, Getter] = {"pypi": pip_download, "npm": npm_pack}
_lock = threading.Lock()


def _members(archive_file: Path, archive: Archive, names: list[str]) -> dict[str, bytes]:
    """The bytes of each file (by its path inside the mediapipe package) from one archive."""
    out = {}
    if archive.registry == "pypi":
        with zipfile.ZipFile(archive_file) as z:
            for path in names:
                out[path] = z.read(archive.prefix + path)
    else:
        with tarfile.open(archive_file, "r:gz") as t:
            for path in names:
                member = t.extractfile(archive.prefix + path.rsplit("/", 1)[-1])
                if member is None:
                    raise ModelUnavailableError(f"{archive.describe()} does not hold {path.rsplit('/', 1)[-1]}")
                out[path] = member.read()
    return out


def fetch(paths: Iterable[str] | None = None, *, progress: Callable[[float, str], None] | None = None,
          getters: Mapping[str, Getter] | None = None) -> list[str]:
    """Fetch the pinned files among ``paths`` (default: all) that this machine lacks into :func:`models_dir`;
    returns those fetched. One fetch at a time per process; a file already here is never fetched again."""
    getters = {**GETTERS, **(getters or {})}
    with _lock:
        need = missing(paths)
        if not need:
            return []
        by_archive: dict[Archive, list[str]] = {}
        for p in need:
            by_archive.setdefault(FILES[p][1], []).append(p)
        done: list[str] = []
        for i, (archive, names) in enumerate(by_archive.items()):
            if progress:
                progress(i / len(by_archive), f"downloading {archive.describe()} for the bundled models")
            log.info("fetching %s for %d model file(s)", archive.describe(), len(names))
            with tempfile.TemporaryDirectory(prefix="zoo-bundled-") as tmp:
                try:
                    file = getters[archive.registry](archive, Path(tmp))
                except ModelUnavailableError:
                    raise
                except Exception as exc:  # noqa: BLE001 - no network, a registry error: one sentence
                    log.warning("could not fetch %s: %s", archive.describe(), exc)
                    raise ModelUnavailableError(
                        f"the bundled model files are not on this machine and {archive.describe()} could not be "
                        "downloaded (no network?); run scripts/setup where there is one") from None
                if sha256_of(file) != archive.sha256:
                    raise ModelUnavailableError(f"{archive.describe()} is not the pinned file (sha256 differs)")
                for path, data in _members(file, archive, names).items():
                    if hashlib.sha256(data).hexdigest() != FILES[path][0]:
                        raise ModelUnavailableError(f"{path.rsplit('/', 1)[-1]} in {archive.describe()} is not the "
                                                    "pinned file (sha256 differs)")
                    target = models_dir() / PACKAGE / path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    part = target.with_suffix(target.suffix + ".part")
                    part.write_bytes(data)
                    os.replace(part, target)
                    done.append(path)
        if progress:
            progress(1.0, "the bundled models are ready")
        return done
