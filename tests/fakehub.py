"""A local HTTP server that plays the Hugging Face Hub for huggingface_hub (HF_ENDPOINT points at it).

It answers the requests the real client makes: HEAD/GET on /{repo}/resolve/{revision}/{file} with
X-Repo-Commit and ETag, /api/models/{repo}[/revision/{rev}] for model info, and the Hub's errors
(X-Error-Code RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound).
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse


@dataclass
class FakeRepo:
    files: dict[str, bytes]
    commit: str = "0" * 40
    branches: dict[str, str] = field(default_factory=dict)  # name -> commit
    gated: bool = False
    pipeline_tag: str | None = None
    library_name: str | None = None
    config: dict | None = None
    tags: list[str] = field(default_factory=list)

    def resolve(self, revision: str) -> str | None:
        if revision == self.commit:
            return self.commit
        if revision in self.branches:
            return self.branches[revision]
        if revision == "main":
            return self.commit
        return None


def commit_of(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


class FakeHub:
    def __init__(self):
        self.repos: dict[str, FakeRepo] = {}
        self.requests: list[tuple[str, str]] = []
        self.file_seconds = 0.0  # spread each file's body over this long (a slow link)
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, repo_id: str, repo: FakeRepo) -> FakeRepo:
        self.repos[repo_id] = repo
        return repo

    def downloads(self, filename: str) -> int:
        return sum(1 for m, p in self.requests if m == "GET" and p.endswith("/" + filename))

    def start(self) -> "FakeHub":
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_HEAD(self):
                self._serve(body=False)

            def do_GET(self):
                self._serve(body=True)

            def _reply(self, status: int, headers: dict[str, str], data: bytes = b"", body: bool = True,
                       length: int | None = None):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(length if length is not None else len(data)))
                self.end_headers()
                if body and data:
                    self.wfile.write(data)

            def _error(self, status: int, code: str, body: bool, extra: dict | None = None):
                msg = json.dumps({"error": code}).encode()
                self._reply(status, {"X-Error-Code": code, "Content-Type": "application/json", **(extra or {})},
                            msg, body)

            def _serve(self, body: bool):
                path = unquote(urlparse(self.path).path)
                hub.requests.append((self.command, path))
                parts = path.strip("/").split("/")
                if parts[:2] == ["api", "models"]:
                    return self._api(parts[2:], body)
                if len(parts) >= 5 and parts[2] == "resolve":
                    repo_id = "/".join(parts[:2])
                    revision, filename = parts[3], "/".join(parts[4:])
                    return self._file(repo_id, revision, filename, body)
                self._error(404, "NotFound", body)

            def _repo(self, repo_id: str, body: bool) -> FakeRepo | None:
                repo = hub.repos.get(repo_id)
                if repo is None:
                    self._error(401, "RepoNotFound", body)
                    return None
                if repo.gated and "authorization" not in {k.lower() for k in self.headers.keys()}:
                    self._error(403, "GatedRepo", body)
                    return None
                return repo

            def _commit(self, repo_id: str, revision: str, body: bool) -> tuple[FakeRepo, str] | None:
                """The repo and the commit a revision names, or None after answering with the Hub's error."""
                repo = self._repo(repo_id, body)
                if repo is None:
                    return None
                commit = repo.resolve(revision)
                if commit is None:
                    self._error(404, "RevisionNotFound", body)
                    return None
                return repo, commit

            def _file(self, repo_id: str, revision: str, filename: str, body: bool):
                found = self._commit(repo_id, revision, body)
                if found is None:
                    return
                repo, commit = found
                if filename not in repo.files:
                    return self._error(404, "EntryNotFound", body, {"X-Repo-Commit": commit})
                data = repo.files[filename]
                etag = '"' + hashlib.sha256(data).hexdigest() + '"'
                headers = {"X-Repo-Commit": commit, "ETag": etag, "Content-Type": "application/octet-stream"}
                if not (body and hub.file_seconds > 0):
                    return self._reply(200, headers, data, body)
                self._reply(200, headers, length=len(data))  # headers now, the body slowly
                step = max(1, len(data) // 10)
                for i in range(0, len(data), step):
                    time.sleep(hub.file_seconds / 10)
                    self.wfile.write(data[i:i + step])
                    self.wfile.flush()

            def _api(self, parts: list[str], body: bool):
                repo_id = "/".join(parts[:2])
                revision = parts[3] if len(parts) >= 4 and parts[2] == "revision" else "main"
                found = self._commit(repo_id, revision, body)
                if found is None:
                    return
                repo, commit = found
                info = {
                    "_id": commit[:24], "id": repo_id, "modelId": repo_id, "sha": commit, "private": False,
                    "gated": repo.gated, "disabled": False, "downloads": 0, "likes": 0, "tags": repo.tags,
                    "pipeline_tag": repo.pipeline_tag, "library_name": repo.library_name,
                    "config": repo.config or {}, "lastModified": "2026-01-01T00:00:00.000Z",
                    "createdAt": "2026-01-01T00:00:00.000Z",
                    "siblings": [{"rfilename": n, "size": len(d)} for n, d in sorted(repo.files.items())],
                }
                self._reply(200, {"Content-Type": "application/json"}, json.dumps(info).encode(), body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
