"""Pinned npm packages, straight from an npm registry over HTTPS: no Node.js needed.

A package's tarball is at ``<registry>/<name>/-/<basename>-<version>.tgz`` (npm's own layout, the one
``npm pack`` and ``npm ci`` download); it is streamed to a file under a size cap and checked against its pin
(a lockfile's ``sha512-…`` integrity, or a sha256) before anything reads it, and unpacked only as plain files
and folders inside the target. The registry is ``ZOO_NPM_REGISTRY`` (the tests point it at a local stand-in).
"""
from __future__ import annotations

import base64
import hashlib
import logging
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath
from typing import Callable

from zoo import settings
from zoo.errors import ZooError

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (bytes so far, bytes in all or 0 when unknown)


class PackageError(ZooError):
    """A pinned package that could not be fetched, or that is not the pinned bytes."""


def tarball_url(name: str, version: str, registry: str | None = None) -> str:
    base = (registry or settings.get("ZOO_NPM_REGISTRY")).rstrip("/")
    return f"{base}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


def check_pin(path: Path, *, integrity: str = "", sha256: str = "") -> bool:
    """Whether the file is the pinned bytes: a lockfile's ``sha512-<base64>`` integrity, or a hex sha256."""
    if integrity:
        algo, _, want = integrity.partition("-")
        if algo != "sha512":
            return False
        digest = hashlib.sha512()
    elif sha256:
        digest, want = hashlib.sha256(), sha256
    else:
        raise ValueError("a pin is required")
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    got = base64.b64encode(digest.digest()).decode() if integrity else digest.hexdigest()
    return got == want


def download(name: str, version: str, folder: Path, *, integrity: str = "", sha256: str = "",
             max_bytes: int = 256 << 20, progress: Progress | None = None, timeout_s: float = 60.0) -> Path:
    """The package's tarball in ``folder``, checked against its pin; PackageError with a sentence (no network,
    a registry error, too large, not the pinned bytes)."""
    url = tarball_url(name, version)
    target = Path(folder) / f"{name.replace('/', '+')}-{version}.tgz"
    label = f"{name} {version} (npm)"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, open(target, "wb") as out:
            total = int(response.headers.get("content-length") or 0)
            if total > max_bytes:
                raise PackageError(f"{label} is larger than {max_bytes >> 20} MB")
            done = 0
            for block in iter(lambda: response.read(1 << 20), b""):
                done += len(block)
                if done > max_bytes:
                    raise PackageError(f"{label} is larger than {max_bytes >> 20} MB")
                out.write(block)
                if progress:
                    progress(done, total)
    except PackageError:
        raise
    except (OSError, urllib.error.URLError, ValueError) as exc:  # no network, a registry's error, a bad URL
        log.warning("could not download %s from %s: %s", label, url, exc)
        raise PackageError(f"{label} could not be downloaded (no network?)") from None
    if not check_pin(target, integrity=integrity, sha256=sha256):
        raise PackageError(f"{label} is not the pinned file (its hash differs)")
    return target


def unpack(tarball: Path, target: Path) -> None:
    """A package tarball's files into ``target`` (replacing it whole): its one top folder (``package/``)
    stripped, plain files and folders only, nothing outside ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        with tarfile.open(tarball, "r:gz") as t:
            for member in t:
                parts = PurePosixPath(member.name).parts[1:]  # without the top folder
                if not parts or any(p in ("", ".", "..") for p in parts) or member.name.startswith("/"):
                    continue
                if not (member.isfile() or member.isdir()):
                    continue  # links and devices are never written
                path = staging.joinpath(*parts)
                if member.isdir():
                    path.mkdir(parents=True, exist_ok=True)
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                source = t.extractfile(member)
                with open(path, "wb") as out:
                    shutil.copyfileobj(source, out)
                if member.mode & 0o111:
                    path.chmod(0o755)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
