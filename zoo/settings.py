"""Every setting the playground reads from the environment, in one table: its name, its default, its kind and
what it does. Values are read when used (never frozen at import), so a deployment or a test can change them
without re-importing anything; the app checks them all once when it starts (:func:`check`), so a typo in a
number stops it with a sentence instead of a default applied in silence. README's settings table is
:func:`markdown` (``tests/test_settings.py`` holds them equal).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from zoo.errors import ZooError

GiB, MiB = 1 << 30, 1 << 20


class SettingError(ZooError):
    """A setting whose value is not one it can take."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any  # the value when unset; None: unset (the meaning says what then)
    kind: Any  # int, float, str, bool, or a tuple of the values it may take
    meaning: str
    shown: str = ""  # the default as README shows it, when not the value itself
    minimum: float | None = None
    maximum: float | None = None

    def parse(self, raw: str) -> Any:
        text = raw.strip()
        if self.kind is bool:
            return text.lower() in {"1", "true", "yes", "on"}
        if isinstance(self.kind, tuple):
            if text.lower() not in self.kind:
                raise SettingError(f"{self.name} must be one of {', '.join(repr(k) for k in self.kind)}, "
                                   f"not {text[:20]!r}")
            return text.lower()
        if self.kind in (int, float):
            try:
                value = self.kind(text)
            except ValueError:
                raise SettingError(f"{self.name} must be {'a whole number' if self.kind is int else 'a number'}, "
                                   f"not {text[:20]!r}") from None
            if self.minimum is not None and value < self.minimum:
                raise SettingError(f"{self.name} must be at least {self.minimum:g}")
            return min(value, self.kind(self.maximum)) if self.maximum is not None else value
        return raw


TABLE: dict[str, Setting] = {}


def _add(name: str, default: Any, kind: Any, meaning: str, shown: str = "", minimum: float | None = None,
         maximum: float | None = None) -> None:
    TABLE[name] = Setting(name, default, kind, meaning, shown, minimum, maximum)


# --- the Hub (huggingface_hub reads these too) ---------------------------------------------------------------
_add("HF_TOKEN", None, str, "a token for gated or private Hub models", "unset")
_add("HF_HUB_OFFLINE", False, bool, "`1`: never touch the network; cached models still run", "unset")
_add("HF_HOME", None, str, "where Hub downloads are cached (`HF_HUB_CACHE` for the hub folder alone)",
     "`~/.cache/huggingface`")
_add("HF_HUB_CACHE", None, str, "the Hub download cache itself (default: `$HF_HOME/hub`)", "unset")
_add("HF_ENDPOINT", None, str, "another Hub (the tests' local one)", "`https://huggingface.co`")
_add("XDG_CACHE_HOME", None, str, "the base of the default cache folders", "`~/.cache`")
# --- the zoo ------------------------------------------------------------------------------------------------
_add("ZOO_MAX_DOWNLOAD_BYTES", GiB, int, "the largest model the app will download", "1 GiB", minimum=1)
_add("ZOO_MAX_PIXELS", 50_000_000, int, "the largest image accepted", "50 000 000", minimum=1)
_add("ZOO_MAX_SIDE", 16_384, int, "the longest image side accepted (never more)", minimum=1, maximum=16_384)
_add("ZOO_MAX_ASPECT", 20, int, "the most elongated image accepted (long side : short side)", minimum=1)
_add("ZOO_MAX_IMAGE_BYTES", 64 * MiB, int, "the largest image file read", "64 MiB", minimum=1)
_add("ZOO_MAX_MODELS", 16, int, "loaded models kept in memory (least recently used go first, and are closed)",
     minimum=1)
_add("ZOO_THREADS_PER_MODEL", None, int, "threads each model may use (A and B run at once)", "half the cores",
     minimum=1)
_add("ZOO_CACHE_DIR", None, str, "bench results and remembered bring-your-own models",
     "`~/.cache/vision-playground`")
_add("ZOO_MODELS_DIR", None, str, "where the bundled models' pinned files are fetched to (when the mediapipe "
     "package does not hold them)", "`~/.cache/vision-playground/models`")
_add("ZOO_NPM_REGISTRY", "https://registry.npmjs.org", str, "the npm registry pinned packages are fetched "
     "from where npm itself is missing (a Space): the in-page runtime, BlazePose lite and heavy")
# --- where the models run (see "Scaling out") ----------------------------------------------------------------
_add("ZOO_BACKEND", "local", ("local", "ray"), "where the models run: this process, or a Ray Serve cluster")
_add("ZOO_RAY_FALLBACK", "", ("", "local"), "`local`: an unreachable cluster gives the app's own machine "
     "instead of a sentence", "unset")
_add("ZOO_RAY_TIMEOUT_S", 60.0, float, "seconds one call to the cluster may take", "60", minimum=0.001)
_add("ZOO_RAY_FRAMES", "raw", ("raw", "jpeg"), "how a frame crosses to a replica: the array, or JPEG bytes")
_add("ZOO_RAY_NODE_IP", None, str, "the address a Ray the app starts is reached at", "unset: loopback only")
_add("ZOO_RAY_MIN_REPLICAS", 1, int, "replicas kept running", minimum=1)
_add("ZOO_RAY_MAX_REPLICAS", 2, int, "replicas the autoscaler may start", minimum=1)
_add("ZOO_RAY_TARGET_ONGOING", 2.0, float, "calls per replica the autoscaler aims at", "2", minimum=0.001)
_add("ZOO_RAY_CPUS_PER_REPLICA", 1.0, float, "CPUs each replica reserves", "1", minimum=0.001)
_add("ZOO_RAY_MODELS_PER_REPLICA", 8, int, "loaded models each replica keeps", minimum=1)
_add("ZOO_RAY_MAX_ONGOING", 8, int, "calls one replica takes at once", minimum=1)
_add("RAY_ADDRESS", None, str, "the Ray cluster to use", "unset: `auto`")
_add("RAY_AUTH_MODE", "token", str, "how `python -m playground.serving` authenticates to its cluster")
# --- the app ------------------------------------------------------------------------------------------------
_add("PLAYGROUND_QUEUE_MAX", 64, int, "events waiting in the app's queue at most", minimum=1)
_add("PLAYGROUND_MAX_UPLOAD_MB", 50, int, "the largest upload", minimum=1)
_add("PLAYGROUND_FILE_MAX_AGE_S", 3600, int, "age at which the app's own temporary files are deleted", minimum=1)
_add("PLAYGROUND_SWITCH_INTERVAL_MS", 1, int, "how often Python hands the GIL round: the event loop answers "
     "within milliseconds while a dozen threads run models (Python's own 5 ms let an honest client's upload "
     "time out under a full load)", minimum=1)
_add("PLAYGROUND_BATCH_NICE", 10, int, "how much lower (in nice steps, Linux) still images and videos run than "
     "the live view and the event loop: a live frame is late when it waits, a still image only takes longer",
     minimum=0, maximum=19)
_add("PLAYGROUND_LOOP_WATCH_MS", 0, int, "log where the event loop was whenever it is held past this many "
     "milliseconds (a stall's sampled stacks, at WARNING); 0: off", minimum=0)
_add("PLAYGROUND_EVENT_THREADS", 32, int, "events (still images, videos) the app runs at once, on threads of "
     "their own, so that uploads and file reads keep Gradio's pool (at most 39: at 40 Gradio shares one pool)",
     minimum=1, maximum=39)
_add("PLAYGROUND_PER_SESSION", 8, int, "events one session may have waiting or running", minimum=1)
_add("PLAYGROUND_PER_ADDRESS", 8, int, "events one address may have waiting or running (see \"One budget per "
     "visitor\")", minimum=0)
_add("PLAYGROUND_LIVE_PER_ADDRESS", 2, int, "live views one address may have open", minimum=0)
_add("PLAYGROUND_STREAM_RUNNERS_PER_ADDRESS", 4, int, "stream-mode model runners one address may hold", minimum=0)
_add("PLAYGROUND_UPLOADS_PER_ADDRESS", 8, int, "uploads one address may have at once", minimum=0)
_add("PLAYGROUND_ADDS_PER_ADDRESS", 10, int, "Hub models one address may add", minimum=0)
_add("PLAYGROUND_CONNECTIONS_PER_ADDRESS", 48, int, "connections one address may have open", minimum=0)
_add("PLAYGROUND_SESSIONS_PER_ADDRESS", 32, int, "sessions kept per address", minimum=0)
_add("PLAYGROUND_MAX_SESSIONS", 2000, int, "sessions kept in all", minimum=1)
_add("PLAYGROUND_LIVE_STARTS_PER_MINUTE", 20, int, "live views one address may start a minute", minimum=1)
_add("PLAYGROUND_NEW_SESSIONS_PER_MINUTE", 60, int, "sessions one address may open a minute", minimum=1)
_add("PLAYGROUND_TRUSTED_PROXIES", "", str, "proxies whose `X-Forwarded-For` is believed (on a Space: its "
     "proxy's network)", "empty")
_add("PLAYGROUND_HELD_CONNECTIONS", 2000, int, "connections past their address's share held unread, in all (so "
     "that a client re-opening every closed connection at once cannot keep the server's accept queue full); "
     "past it they are closed at once", minimum=0)
_add("PLAYGROUND_HELD_FOR_S", 60.0, float, "seconds such a connection is held, at least (at most twice it)",
     "60", minimum=0.01)
_add("PLAYGROUND_HEADER_TIMEOUT_S", 10, int, "seconds a request's headers may take to arrive", minimum=1)
_add("PLAYGROUND_MAX_JSON_KB", 1024, int, "the largest JSON request body", minimum=1)
_add("PLAYGROUND_MAX_LIVE", 8, int, "live views whose models run on the server, at once, in all (a view takes "
     "its slot with its first frame for the server)", minimum=1)
_add("PLAYGROUND_MAX_LIVE_PAGES", 200, int, "live views open at once, in all (one whose both sides run in the "
     "visitor's browser takes no server slot: it sends a ping every 2 s)", minimum=1)
_add("PLAYGROUND_LIVE_MAX_FRAME_KB", 1024, int, "the largest live frame (JPEG bytes)", minimum=1)
_add("PLAYGROUND_LIVE_MAX_FPS", 60, int, "live frames a socket may send a second (more are skipped)", minimum=1)
_add("PLAYGROUND_LIVE_IDLE_S", 60, int, "a live socket with no frame this long is closed", minimum=1)
_add("PLAYGROUND_LIVE_SILENT_S", 10, int, "a live socket that sends nothing (no frame, no ping) this long is "
     "closed", minimum=1)
_add("PLAYGROUND_LIVE_MAX_SIDE", 1280, int, "the longest side of a live frame (from its JPEG header)", minimum=16)
_add("PLAYGROUND_LIVE_MAX_PIXELS", 1280 * 960, int, "the most pixels in a live frame", minimum=256)
_add("PLAYGROUND_MAX_TRACKERS", 8, int, "stream-mode runners one live session may hold", minimum=1)
_add("PLAYGROUND_CROSS_ORIGIN_ISOLATE", False, bool, "`1`: serve the page cross-origin isolated (COOP/COEP), so "
     "the models that run in the visitor's page use several threads (not for a page embedded in another "
     "site's frame, such as a Space's)", "unset")
_add("PLAYGROUND_DEVICE_RUNTIME_FETCH", True, bool, "`0`: a host without the in-page runtime (no npm, as on a "
     "Space) does not fetch it when the app starts, and every live side runs on the server", "`1`")
_add("PLAYGROUND_ASK_HUB_SIZES", True, bool, "`0`: the app does not ask the Hub, when it starts, how large its "
     "Hub models' downloads are (the pickers then say only that they need the network)", "`1`")
_add("PLAYGROUND_ADDED_IDLE_S", 1800, int, "a session's added Hub models are given back after this long unused",
     minimum=0)


def cache_dir():
    """The playground's own cache folder (``ZOO_CACHE_DIR``)."""
    from pathlib import Path

    return Path(get("ZOO_CACHE_DIR") or Path.home() / ".cache" / "vision-playground")


def get(name: str) -> Any:
    """A setting's value now: its environment variable parsed, or its default when unset or empty."""
    setting = TABLE[name]
    raw = os.environ.get(name)
    if raw is None or (raw.strip() == "" and setting.kind is not str):
        return setting.default
    return setting.parse(raw)


def raw(name: str) -> str | None:
    """A declared setting's text as set (to pass on to another process), or None."""
    return os.environ.get(TABLE[name].name)


def check() -> list[str]:
    """Every setting read once (the app does this when it starts): a value it cannot take raises
    SettingError with a sentence; returns the names set to something other than their default."""
    return [name for name in TABLE if get(name) != TABLE[name].default]


def markdown() -> str:
    """README's settings table."""
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for s in TABLE.values():
        default = s.shown or (f"`{s.default}`" if isinstance(s.default, str) else f"{s.default:g}"
                              if isinstance(s.default, float) else str(s.default))
        kind = f" (one of {', '.join(f'`{k}`' for k in s.kind if k)})" if isinstance(s.kind, tuple) else ""
        rows.append(f"| `{s.name}` | {default} | {s.meaning}{kind} |")
    return "\n".join(rows)
