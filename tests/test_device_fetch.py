"""The in-page runtime on a host without npm (playground.device_fetch): the lockfile's pinned packages from an
npm registry, checked by their integrity, unpacked, and the Worker bundled by esbuild's own binary, with no
Node.js. The registry here is a local stand-in that serves the real pinned tarballs from npm's own cache (where
``scripts/setup``'s ``npm ci`` left them), so the real lockfile's integrity is what is checked and the bundle
must come out byte for byte as setup's."""
from __future__ import annotations

import base64
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.server import free_port
from playground import device, device_fetch
from zoo import npm

SOURCES = ("package.json", "package-lock.json", "worker.js", "families.js")
CACHE = Path.home() / ".npm" / "_cacache" / "content-v2"


def cached_tarball(integrity: str) -> Path:
    algo, b64 = integrity.split("-", 1)
    digest = base64.b64decode(b64).hex()
    return CACHE / algo / digest[:2] / digest[2:4] / digest[4:]


class StandIn:
    """An npm registry on loopback: the tarballs by npm's URL layout, a count of requests, a gate that holds
    every request until the test opens it, and a way to serve other bytes for one package."""

    def __init__(self, tarballs: dict[str, Path]) -> None:
        self.tarballs, self.requests, self.tampered = tarballs, [], {}
        self.gate = threading.Event()
        self.gate.set()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                stand_in.gate.wait(60)
                stand_in.requests.append(self.path)
                path = stand_in.tarballs.get(self.path)
                if path is None:
                    self.send_error(404)
                    return
                data = stand_in.tampered.get(self.path) or path.read_bytes()
                self.send_response(200)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A copy of playground/device_js as a clone has it (sources and lockfile, no node_modules, no bundle), and
    a stand-in registry with every pinned tarball it needs."""
    root = tmp_path / "device_js"
    root.mkdir()
    for name in SOURCES:
        shutil.copy(device.ROOT / name, root / name)
    packages = device_fetch.needed(root)
    tarballs = {}
    for p in packages:
        file = cached_tarball(p.integrity)
        if not file.is_file():
            pytest.skip(f"npm's cache does not hold {p.name} {p.version} (scripts/setup with npm puts it there)")
        tarballs[npm.tarball_url(p.name, p.version, "http://r")[len("http://r"):]] = file
    registry = StandIn(tarballs)
    monkeypatch.setenv("ZOO_NPM_REGISTRY", registry.url)
    yield root, registry
    registry.close()


def test_a_host_without_npm_gets_the_pinned_runtime_once_and_the_same_bundle(fresh):
    root, registry = fresh
    assert not device.installed(root)
    fetched = device_fetch.fetch(root)
    assert len(fetched) == len(device_fetch.needed(root)) == len(registry.requests)
    assert any(name.startswith("@esbuild/") for name in fetched), "esbuild's binary for this host"
    assert device.installed(root)
    built = (root / "dist" / "worker.js").read_bytes()
    if (device.ROOT / "dist" / "worker.js").is_file():
        assert built == (device.ROOT / "dist" / "worker.js").read_bytes(), "the same bundle as setup's npm build"
    for name in device.ORT_FILES:
        assert (root / "node_modules" / "onnxruntime-web" / "dist" / name).is_file()
    # never twice: everything is in place at its pinned version
    assert device_fetch.fetch(root) == [] and len(registry.requests) == len(fetched)


def test_a_tampered_package_is_refused_and_nothing_of_it_is_unpacked(fresh):
    root, registry = fresh
    url = next(u for u in registry.tarballs if "/@litertjs/core/" in u)
    registry.tampered[url] = registry.tarballs[url].read_bytes()[:-10] + b"0123456789"
    with pytest.raises(npm.PackageError, match="not the pinned file"):
        device_fetch.fetch(root)
    assert not (root / "node_modules" / "@litertjs" / "core").exists()
    assert not device.installed(root)


def test_offline_gives_a_sentence(fresh, monkeypatch):
    root, _ = fresh
    monkeypatch.setenv("ZOO_NPM_REGISTRY", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(npm.PackageError, match="could not be downloaded"):
        device_fetch.fetch(root)


def test_the_app_start_fetches_in_the_background_and_the_page_says_so_meanwhile(fresh, monkeypatch):
    root, registry = fresh
    monkeypatch.setenv("PLAYGROUND_DEVICE_RUNTIME_FETCH", "1")
    monkeypatch.setattr(device_fetch, "STATE", device_fetch._State())
    registry.gate.clear()  # the registry holds every request until the test lets it answer
    thread = device_fetch.start(root)
    assert thread is not None and device_fetch.start(root) is thread, "one fetch per process"
    assert "still fetching" in device_fetch.why()
    registry.gate.set()
    thread.join(300)
    assert not thread.is_alive() and device_fetch.why() is None and device.installed(root)


def test_off_by_setting_and_nothing_when_installed(fresh, monkeypatch):
    root, registry = fresh
    monkeypatch.setattr(device_fetch, "STATE", device_fetch._State())
    monkeypatch.setenv("PLAYGROUND_DEVICE_RUNTIME_FETCH", "0")
    assert device_fetch.start(root) is None
    monkeypatch.setenv("PLAYGROUND_DEVICE_RUNTIME_FETCH", "1")
    assert device_fetch.start(device.ROOT) is None or not device.installed(), "installed: nothing to fetch"
    assert registry.requests == []


def test_unpack_writes_nothing_outside_its_folder(tmp_path):
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in (("package/ok.js", b"1"), ("package/../../escape.js", b"2"), ("/abs.js", b"3")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("package/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(link)
    tgz = tmp_path / "p.tgz"
    tgz.write_bytes(buf.getvalue())
    npm.unpack(tgz, tmp_path / "out" / "pkg")
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["ok.js", "pkg"]
    assert not (tmp_path / "escape.js").exists()
