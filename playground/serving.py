"""The playground's Ray Serve application: the zoo's models on a cluster, for the ``ray`` backend.

One deployment, ``ZooModels``. Each replica keeps a bounded set of loaded models (``@serve.multiplexed``,
least recently used evicted and closed), and Serve routes a call to a replica that already holds its
model. A model is named by its multiplexed id: the zoo id for the shared models, and the zoo id plus a
stream key for a live stream's own stream-mode runner (one that follows what it found from frame to frame), so that a stream's frames
reach the replica that holds its state for the stream's life; ``end_stream`` closes that state. A replica
that dies takes only its streams' state with it: their next frame goes to another replica and starts
fresh. Only ``tasks.infer`` runs here: tracking ids, mirroring and drawing stay in the front end.

Start it on a cluster (the repository and its .venv at the same path on each node)::

    RAY_ADDRESS=ray://HEAD:10001 python -m playground.serving      # or run on the head with RAY_ADDRESS=auto

Settings (environment, read when the application is built): ``ZOO_RAY_MIN_REPLICAS`` (1),
``ZOO_RAY_MAX_REPLICAS`` (2), ``ZOO_RAY_TARGET_ONGOING`` (2 requests a replica before another is added),
``ZOO_RAY_CPUS_PER_REPLICA`` (1), ``ZOO_RAY_MODELS_PER_REPLICA`` (8), ``ZOO_RAY_MAX_ONGOING`` (8 requests
at once on a replica).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ZooError
from zoo import settings as env

log = logging.getLogger(__name__)

APP_NAME = "playground"

ROOT = Path(__file__).resolve().parents[1]
DEPLOYMENT = "ZooModels"
STREAM_MARK = "#stream="


@dataclass(frozen=True)
class ServeSettings:
    min_replicas: int = 1
    max_replicas: int = 2
    target_ongoing_requests: float = 2.0
    cpus_per_replica: float = 1.0
    models_per_replica: int = 8
    max_ongoing_requests: int = 8

    @classmethod
    def from_env(cls) -> "ServeSettings":
        try:
            s = cls(min_replicas=env.get("ZOO_RAY_MIN_REPLICAS"), max_replicas=env.get("ZOO_RAY_MAX_REPLICAS"),
                    target_ongoing_requests=env.get("ZOO_RAY_TARGET_ONGOING"),
                    cpus_per_replica=env.get("ZOO_RAY_CPUS_PER_REPLICA"),
                    models_per_replica=env.get("ZOO_RAY_MODELS_PER_REPLICA"),
                    max_ongoing_requests=env.get("ZOO_RAY_MAX_ONGOING"))
        except env.SettingError as exc:
            raise SystemExit(str(exc)) from None
        if s.max_replicas < s.min_replicas:
            raise SystemExit("ZOO_RAY_MAX_REPLICAS must be at least ZOO_RAY_MIN_REPLICAS")
        return s

    def autoscaling_config(self) -> dict[str, Any]:
        return {"min_replicas": self.min_replicas, "max_replicas": self.max_replicas,
                "target_ongoing_requests": self.target_ongoing_requests}


def runtime_env() -> dict[str, Any]:
    """What the replicas' processes need: this repository importable, the same Hub settings, quiet logs."""
    out = {"PYTHONPATH": str(ROOT), "GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "2"}
    for name in ("HF_ENDPOINT", "HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "ZOO_MAX_MODELS"):
        if env.raw(name):
            out[name] = env.raw(name)
    return {"env_vars": out}


def frames_setting() -> str:
    return env.get("ZOO_RAY_FRAMES")


def pack_frame(rgb: np.ndarray, how: str) -> Any:
    """A frame as it crosses to a replica: the array itself, or JPEG bytes (quality 95)."""
    if how == "jpeg":
        import cv2

        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
        if not ok:
            raise ZooError("the frame could not be encoded")
        return buf.tobytes()
    return np.ascontiguousarray(rgb)


def unpack_frame(frame: Any) -> np.ndarray:
    if isinstance(frame, (bytes, bytearray)):
        import cv2

        bgr = cv2.imdecode(np.frombuffer(frame, np.uint8), cv2.IMREAD_COLOR)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return frame


def prepare_local_ray() -> None:
    """Call before ``import ray`` when this process will start a Ray of its own: a one-machine Ray, whose
    every port (agents, metrics exporters, dashboard) listens on loopback. Otherwise Ray's metrics ports
    listen on all interfaces, unauthenticated, and tell the node's address, session and deployment names.
    ``ZOO_RAY_NODE_IP`` (the address other machines reach this one at) opts out, for a Ray of several
    machines."""
    if env.get("ZOO_RAY_NODE_IP"):
        return
    if "ray" in sys.modules and "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER" not in os.environ:
        log.warning("ray was imported before prepare_local_ray(): its ports may listen on every interface")
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # Ray's switch for a one-machine Ray


def local_ray_options() -> dict[str, Any]:
    """``ray.init`` options for a Ray this process starts itself (after :func:`prepare_local_ray`)."""
    options: dict[str, Any] = {"include_dashboard": False, "dashboard_host": "127.0.0.1"}
    if env.get("ZOO_RAY_NODE_IP"):
        options["_node_ip_address"] = env.get("ZOO_RAY_NODE_IP")
    return options


def reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast (ray.init itself retries for minutes) when nothing listens at a ``host:port`` address
    (``ray://host:port`` too); ``auto`` and other forms are left to Ray."""
    import socket

    host, _, port = address.split("://", 1)[-1].rpartition(":")
    if not host or not port.isdigit():
        return
    with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
        pass


def multiplexed_id(spec: Any, stream_key: str | None) -> str:
    """The id a call is routed by: the model's own, or the model's for one stream when it runs in stream
    mode (so that the stream's frames go to the replica holding that state)."""
    from zoo.runtimes import runtime

    if stream_key and runtime(spec.runtime).has_stream_mode(spec):
        return f"{spec.id}{STREAM_MARK}{stream_key}"
    return spec.id


class Held:
    """One model on a replica: loaded on first use (off the replica's event loop), closed when evicted."""

    def __init__(self, spec: Any, stream_mode: bool) -> None:
        self.spec, self.stream_mode = spec, stream_mode
        self.runner: Any = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        with self._lock:
            if self.runner is None:
                if self.stream_mode:
                    from zoo.cache import open_stream_runner

                    self.runner = open_stream_runner(self.spec)
                else:
                    from zoo.cache import load

                    self.runner = load(self.spec).runner
            return self.runner

    def run(self, frame: Any) -> tuple[Any, float]:
        from tasks import infer

        return infer(self.spec, unpack_frame(frame), runner=self.load())

    def close(self) -> None:
        from zoo.cache import close_runner

        with self._lock:
            runner, self.runner = self.runner, None
        if runner is not None:
            close_runner(runner)

    def __del__(self) -> None:  # Serve calls this when the multiplexed cache evicts the model
        self.close()


def deployment(settings: ServeSettings | None = None):
    """The ``ZooModels`` deployment with ``settings`` (from the environment when None)."""
    from ray import serve

    settings = settings or ServeSettings.from_env()

    @serve.deployment(name=DEPLOYMENT, autoscaling_config=settings.autoscaling_config(),
                      ray_actor_options={"num_cpus": settings.cpus_per_replica},
                      max_ongoing_requests=settings.max_ongoing_requests)
    class ZooModels:
        def __init__(self) -> None:
            logging.getLogger("absl").setLevel(logging.ERROR)
            from tasks import TASKS  # every task registered in this process

            log.info("replica up with %d tasks", len(TASKS))
            self._specs: dict[str, Any] = {}
            self._held: "weakref.WeakValueDictionary[str, Held]" = weakref.WeakValueDictionary()

        @serve.multiplexed(max_num_models_per_replica=settings.models_per_replica)
        async def get_model(self, key: str) -> Held:
            held = Held(self._specs[key], STREAM_MARK in key)
            self._held[key] = held
            return held

        async def _held_for(self, spec: Any) -> Held:
            key = serve.get_multiplexed_model_id()
            self._specs[key] = spec
            return await self.get_model(key)

        async def infer(self, spec: Any, frame: Any, stream: str | None) -> tuple[Any, float]:
            held = await self._held_for(spec)
            return await asyncio.to_thread(held.run, frame)

        async def warm(self, spec: Any) -> None:
            held = await self._held_for(spec)
            await asyncio.to_thread(held.load)

        async def end_stream(self, key: str) -> bool:
            """Close the stream's stream-mode runner held here (the next frame, if any, starts afresh)."""
            held = self._held.get(key)
            if held is None:
                return False
            await asyncio.to_thread(held.close)
            return True

        async def holds(self, key: str) -> bool:
            """Whether this replica holds a live runner for ``key`` (tests and the soak read it)."""
            held = self._held.get(key)
            return held is not None and held.runner is not None

        async def pid(self) -> int:
            return os.getpid()

    return ZooModels


def deploy(settings: ServeSettings | None = None):
    """Deploy (or update) the application on the Ray this process is connected to; its handle."""
    from ray import serve

    serve.start(http_options={"location": "NoServer"})
    handle = serve.run(deployment(settings).bind(), name=APP_NAME, route_prefix=None)
    log.info("Serve application %r running (%s)", APP_NAME, asdict(settings or ServeSettings.from_env()))
    return handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground.serving",
                                     description="Start the playground's models as a Ray Serve application "
                                                 "on the cluster at RAY_ADDRESS (settings: ZOO_RAY_*).")
    parser.add_argument("--address", default=env.get("RAY_ADDRESS") or "auto",
                        help="the cluster to join (default: RAY_ADDRESS, else a running local one)")
    args = parser.parse_args(argv)
    import ray

    settings = ServeSettings.from_env()
    try:
        reachable(args.address)
        ray.init(address=args.address, runtime_env=runtime_env(), include_dashboard=False)
    except Exception as exc:  # noqa: BLE001
        sys.stderr.write(f"error: the cluster at {args.address} cannot be reached ({exc.__class__.__name__})\n")
        return 2
    deploy(settings)
    address = ray.get_runtime_context().gcs_address
    auth = env.get("RAY_AUTH_MODE")  # Ray 2.60 clusters use token auth unless told otherwise
    sys.stdout.write(f"the playground's models are served on the cluster as {APP_NAME!r}: {asdict(settings)}\n"
                     f"start the front end with: RAY_AUTH_MODE={auth} ZOO_BACKEND=ray RAY_ADDRESS={address} "
                     "python app.py\n" + ("(with the cluster's token: its ~/.ray/auth_token, or RAY_AUTH_TOKEN)\n"
                                           if auth == "token" else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
