"""The in-page runtime on a host without npm: a Space runs only ``pip install -r requirements.txt`` and
``python app.py``.

``scripts/setup`` installs ``playground/device_js``'s pinned npm packages (``npm ci``) and bundles the Worker
with esbuild. On a host without them, the app's first start gets the same files (:func:`start`, a background
thread): every package of ``package-lock.json`` that the bundle needs, and esbuild's own binary for this
platform, each downloaded from the npm registry as the tarball ``npm ci`` would fetch and checked against the
lockfile's sha512 integrity (:mod:`zoo.npm`), unpacked into ``node_modules``; then esbuild bundles
``dist/worker.js`` with ``package.json``'s own build command. Nothing runs Node.js. A package already in place
at its pinned version is never fetched again, and once the bundle is built the next start finds everything and
fetches nothing. Until it is done, or when it cannot be done (no network), live sides run on the server and
the page says why (:func:`why`).
"""
from __future__ import annotations

import json
import logging
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from zoo import npm, settings

log = logging.getLogger(__name__)

ROOT = Path(__file__).parent / "device_js"
WORKER = Path("dist") / "worker.js"  # the bundle, under ROOT
WASM = Path("node_modules") / "@litertjs" / "core" / "wasm"  # LiteRT.js's WebAssembly, under ROOT


def installed(root: Path = ROOT) -> bool:
    """Whether the in-page runtime is here: the bundled Worker and LiteRT.js's WebAssembly."""
    return (root / WORKER).is_file() and (root / WASM).is_dir()


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str


def _node_platform() -> tuple[str, str]:
    """This host as npm names it (``os``, ``cpu``): esbuild's binary package is chosen by these."""
    system = {"linux": "linux", "darwin": "darwin", "win32": "win32"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower()
    cpu = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return system, cpu


def needed(root: Path = ROOT) -> list[Package]:
    """What the bundle needs, from the lockfile: every runtime package, esbuild, and esbuild's binary for this
    host (a lockfile lists one per platform)."""
    lock = json.loads((root / "package-lock.json").read_text())
    system, cpu = _node_platform()
    out = []
    for path, entry in lock.get("packages", {}).items():
        if not path.startswith("node_modules/") or "integrity" not in entry:
            continue
        name = path[len("node_modules/"):]
        if "node_modules/" in name:
            continue  # a nested copy: this lockfile has none, and the bundle would not read one
        if entry.get("os") or entry.get("cpu"):  # a platform's binary: only this host's
            if system not in entry.get("os", [system]) or cpu not in entry.get("cpu", [cpu]):
                continue
        elif entry.get("dev") and name != "esbuild":
            continue
        out.append(Package(name, entry["version"], entry["integrity"]))
    return out


def _installed(root: Path, package: Package) -> bool:
    try:
        return json.loads((root / "node_modules" / package.name / "package.json").read_text()).get(
            "version") == package.version
    except (OSError, ValueError):
        return False


def _esbuild(root: Path) -> Path:
    system, cpu = _node_platform()
    folder = root / "node_modules" / "@esbuild" / f"{system}-{cpu}"
    return folder / ("esbuild.exe" if system == "win32" else "bin/esbuild")


def build(root: Path = ROOT) -> Path:
    """``npm run build`` without npm: package.json's build command, run with esbuild's binary; the bundle is
    written beside and moved into place whole, so a half-written one is never served."""
    command = shlex.split(json.loads((root / "package.json").read_text())["scripts"]["build"])
    if command[0] != "esbuild":
        raise npm.PackageError("the build command is not esbuild's")
    out = root / WORKER
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_suffix(".js.part")
    args = [f"--outfile={part}" if a.startswith("--outfile=") else a for a in command[1:]]
    done = subprocess.run([str(_esbuild(root)), *args], cwd=root, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not part.is_file():
        log.warning("esbuild failed: %s", done.stderr[-2000:])
        raise npm.PackageError("the in-page runtime could not be built")
    os.replace(part, out)
    return out


def fetch(root: Path = ROOT, *, progress=None) -> list[str]:
    """Every needed package not yet in place, downloaded, checked and unpacked, then the bundle built (when it
    is missing or a package changed); returns the packages fetched. PackageError with a sentence when it
    cannot."""
    fetched = []
    todo = [p for p in needed(root) if not _installed(root, p)]
    with tempfile.TemporaryDirectory(prefix="device-runtime-") as tmp:
        for i, package in enumerate(todo):
            if progress:
                progress(i, len(todo), package.name)
            tarball = npm.download(package.name, package.version, Path(tmp), integrity=package.integrity)
            npm.unpack(tarball, root / "node_modules" / package.name)
            tarball.unlink()
            fetched.append(f"{package.name}@{package.version}")
    if fetched or not (root / WORKER).is_file():
        build(root)
    return fetched


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.failed = ""


STATE = _State()


def why() -> str | None:
    """While the first start fetches the runtime, or after it could not, the page's sentence; else None."""
    if STATE.thread is not None and STATE.thread.is_alive():
        return "this server is still fetching what runs models in your browser (its first start takes a minute or two)"
    return STATE.failed or None


def start(root: Path = ROOT) -> threading.Thread | None:
    """At the app's start: on a host that lacks the in-page runtime, fetch it in the background (once per
    process; ``PLAYGROUND_DEVICE_RUNTIME_FETCH=0`` turns it off). Returns the thread, or None when nothing is
    fetched."""
    if installed(root) or not settings.get("PLAYGROUND_DEVICE_RUNTIME_FETCH"):
        return None
    with STATE.lock:
        if STATE.thread is not None:
            return STATE.thread

        def run() -> None:
            t0 = time.monotonic()
            try:
                got = fetch(root)
            except (npm.PackageError, OSError, subprocess.SubprocessError) as exc:
                STATE.failed = "this server could not fetch what runs models in your browser (no network?)"
                log.warning("the in-page runtime could not be fetched (%s); live sides run on the server", exc)
                return
            log.info("the in-page runtime is in place (%d packages fetched in %.0f s)", len(got),
                     time.monotonic() - t0)

        log.info("this host has no in-page runtime (no npm): fetching its pinned packages from %s",
                 settings.get("ZOO_NPM_REGISTRY"))
        STATE.thread = threading.Thread(target=run, name="device-runtime-fetch", daemon=True)
        STATE.thread.start()
        return STATE.thread
