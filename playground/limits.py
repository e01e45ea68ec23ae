"""Bounds on what one visitor can make the server do, and the app's own temporary files.

- :func:`one_at_a_time`: a session runs at most one job of a kind (a video, a training) at once;
  a second one is refused with a sentence instead of queueing behind the first.
- :class:`Workspace`: every file the app writes for a visitor (side-by-side videos, trained heads) lives
  under one folder of its own, swept of anything older than an hour and removed when the process exits.
- The queue and upload limits the app launches with, read from the environment when the app starts.

What one visitor may hold at once (queue places, live views, connections...) is ``playground.guard``'s.
"""
from __future__ import annotations

import asyncio
import atexit
import collections
import logging
import shutil
import sys
import tempfile
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from zoo import settings
from zoo.errors import BusyError

log = logging.getLogger(__name__)


def queue_max_size() -> int:
    """Events waiting in the queue at most; past it a visitor is told the queue is full."""
    return settings.get("PLAYGROUND_QUEUE_MAX")


def max_upload_mb() -> int:
    return settings.get("PLAYGROUND_MAX_UPLOAD_MB")


def file_max_age_s() -> int:
    return settings.get("PLAYGROUND_FILE_MAX_AGE_S")


def responsive_event_loop() -> None:
    """Hand the GIL round more often (``PLAYGROUND_SWITCH_INTERVAL_MS``, default 1 ms; Python's is 5 ms).
    Every request, upload and socket message goes through one event-loop thread, which must win the GIL from
    the model threads each time it wakes: under a full load (two cores, a dozen threads running models) each
    win took up to threads x 5 ms, and an honest client's upload or join waited past its 5 s timeout."""
    sys.setswitchinterval(max(0.0001, settings.get("PLAYGROUND_SWITCH_INTERVAL_MS") / 1000.0))


class LoopWatch:
    """Where the event loop is when it stalls (``PLAYGROUND_LOOP_WATCH_MS``; off at 0, the default).

    A heartbeat on the loop stamps the time every 20 ms; a thread of its own samples the loop thread's stack
    every 10 ms while the stamp is older than the threshold, and logs each stall's length with its most
    frequent stacks once it ends. A stall whose samples sit in the selector's ``select`` is the loop waiting
    for the GIL after waking, not a callback holding it."""

    def __init__(self) -> None:
        self._loop = None
        self._threshold: float | None = None  # seconds; read from the setting at the first request, 0: off
        # the last stalls: (seconds, [(samples, stack), ...] most frequent first)
        self.stalls: collections.deque = collections.deque(maxlen=50)

    def attach(self) -> bool:
        """Called on the event loop for each request (by the guard): reads the setting and starts watching,
        at the first; whether the watch is on."""
        if self._threshold is None:
            self._threshold = settings.get("PLAYGROUND_LOOP_WATCH_MS") / 1000.0
            if self._threshold:
                self._start()
        return bool(self._threshold)

    def _start(self) -> None:
        self._loop = loop = asyncio.get_running_loop()
        beat = {"t": time.monotonic()}

        def stamp() -> None:
            beat["t"] = time.monotonic()
            loop.call_later(0.02, stamp)

        loop.call_soon(stamp)
        threading.Thread(target=self._watch, args=(threading.get_ident(), beat), name="loop-watch",
                         daemon=True).start()

    @property
    def on(self) -> bool:
        return self._loop is not None

    def headers_in(self, made: float, first: bool) -> None:
        took = time.monotonic() - made
        if first and took > self._threshold:
            log.warning("a connection's first request headers were read %.2f s after it was accepted", took)

    def timed(self, scope, send):
        """``send`` that logs a request answered past the threshold (path, and seconds to its answer)."""
        t0, path, threshold = time.monotonic(), scope.get("path", ""), self._threshold

        async def send_timed(message):
            kind = message.get("type")
            if kind == "http.response.start" or (kind == "http.response.body" and not message.get("more_body")):
                took = time.monotonic() - t0
                if took > threshold:
                    log.warning("%s %s %s after %.2f s", scope.get("method", ""), path,
                                "answered" if kind == "http.response.start" else "sent in full", took)
            return await send(message)

        return send_timed

    def _watch(self, tid: int, beat: dict) -> None:
        samples: collections.Counter = collections.Counter()
        started = None
        while not self._loop.is_closed():
            time.sleep(0.01)
            lag = time.monotonic() - beat["t"]
            if lag > self._threshold:
                started = started or beat["t"]
                frame = sys._current_frames().get(tid)
                if frame is not None:
                    stack = traceback.extract_stack(frame)[-6:]
                    samples["\n".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}" for f in stack)] += 1
            elif started is not None:
                length = beat["t"] - started
                top = samples.most_common(3)
                self.stalls.append((length, [(n, s) for s, n in top]))
                log.warning("event loop held %.2f s; its stacks (samples):\n%s", length,
                            "\n--\n".join(f"[{n}]\n{s}" for s, n in top))
                samples.clear()
                started = None


LOOP_WATCH = LoopWatch()


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas (by default 8 per core, one per busy thread): with dozens of worker
    threads each keeping its own free memory, a server that loads and closes models kept growing; with two
    arenas and :func:`zoo.cache.trim_memory` it stayed flat (464 -> 472 MB over six cycles of all tabs with
    room for four models, where it went 642 -> 963 MB)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


_running: dict[tuple[str, str], float] = {}
_running_lock = threading.Lock()
WHAT = {"video": "a video", "training": "a training run"}


@contextmanager
def one_at_a_time(kind: str, session: str | None) -> Iterator[None]:
    """Hold the session's only slot for ``kind`` for the block, or refuse at once."""
    key = (kind, session or "anonymous")
    with _running_lock:
        if key in _running:
            raise BusyError(f"{WHAT.get(kind, kind)} of yours is still running; wait for it to finish")
        _running[key] = time.monotonic()
    try:
        yield
    finally:
        with _running_lock:
            _running.pop(key, None)


class Workspace:
    """The app's own temporary folder (``vision-playground-*`` under the system's temporary directory)."""

    def __init__(self) -> None:
        self._root: Path | None = None
        self._lock = threading.Lock()
        self._sweeper: threading.Thread | None = None

    @property
    def root(self) -> Path:
        with self._lock:
            if self._root is None or not self._root.is_dir():
                self._root = Path(tempfile.mkdtemp(prefix="vision-playground-"))
                atexit.register(shutil.rmtree, self._root, True)
            return self._root

    def new_dir(self, kind: str) -> Path:
        """A fresh folder for one job's files."""
        parent = self.root / kind
        parent.mkdir(exist_ok=True)
        return Path(tempfile.mkdtemp(dir=parent))

    def sweep(self, max_age_s: float | None = None) -> int:
        """Remove job folders older than ``max_age_s``; returns how many went."""
        age = file_max_age_s() if max_age_s is None else max_age_s
        now, removed = time.time(), 0
        root = self._root
        if root is None or not root.is_dir():
            return 0
        for kind in root.iterdir():
            for job in kind.iterdir() if kind.is_dir() else ():
                try:
                    if now - job.stat().st_mtime > age:
                        shutil.rmtree(job, ignore_errors=True)
                        removed += 1
                except OSError:
                    pass
        return removed

    def start_sweeping(self, every_s: float = 300.0) -> None:
        """Sweep in a background thread for as long as the process runs."""
        with self._lock:
            if self._sweeper is not None:
                return

            def loop() -> None:
                while True:
                    time.sleep(every_s)
                    try:
                        self.sweep()
                    except Exception as exc:  # noqa: BLE001 - the sweeper must not die
                        log.warning("sweeping temporary files failed: %r", exc)

            self._sweeper = threading.Thread(target=loop, name="workspace-sweeper", daemon=True)
            self._sweeper.start()


WORKSPACE = Workspace()
