"""The ``ray`` backend against a real local Ray with the playground's Serve application (no mocks of Ray):
same results as the local path, a replica killed mid-run, a live stream's tracking state pinned to a
replica and released, the autoscaling settings as Serve holds them, and the app itself on the backend.
Skipped where ray[serve] is not installed (``bash scripts/setup --ray``; ``--dev`` includes it)."""
from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from playground import serving  # noqa: E402

serving.prepare_local_ray()  # before ray is imported: this module's Ray is one machine's, as the app's own is
pytest.importorskip("ray.serve")

from bench.fakecam import make_frames  # noqa: E402
from bench.server import free_port, start_app  # noqa: E402
from playground import backends, serving  # noqa: E402
from playground.engine import predict  # noqa: E402
from playground.live import StreamSession  # noqa: E402
from tests.conftest import MEDIA, REPO  # noqa: E402
from zoo.images import load_image, sample_image_path  # noqa: E402
from zoo.registry import all_specs, offline_available  # noqa: E402

SETTINGS = serving.ServeSettings(min_replicas=2, max_replicas=3, target_ongoing_requests=1.5,
                                 cpus_per_replica=0.5, models_per_replica=6, max_ongoing_requests=8)


@pytest.fixture(scope="module")
def cluster():
    """A local Ray with the Serve application, two replicas; the ray backend in use while the module runs."""
    import ray
    from ray import serve

    before = _wildcard_listeners()
    ray.init(num_cpus=4, log_to_driver=False, configure_logging=False, runtime_env=serving.runtime_env(),
             **serving.local_ray_options())
    serving.deploy(SETTINGS)
    backend = backends.RayBackend(deploy=False)
    backend.opened_on_all_interfaces = {p: c for p, c in _wildcard_listeners().items() if p not in before}
    backends.use(backend)
    try:
        yield backend
    finally:
        backends.use(None)
        serve.shutdown()
        ray.shutdown()


def _wildcard_listeners() -> dict[int, str]:
    """Ports listening on every interface (0.0.0.0 or ::) on this machine now, with the command line of the
    process that holds each (Linux: /proc/net/tcp* and each process's socket descriptors)."""
    inodes = {}
    for table, wildcard in (("/proc/net/tcp", "00000000"), ("/proc/net/tcp6", "0" * 32)):
        try:
            rows = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            addr, port = cols[1].split(":")
            if cols[3] == "0A" and addr == wildcard:  # LISTEN
                inodes[cols[9]] = int(port, 16)
    owners = {}
    for fd in glob.glob("/proc/[0-9]*/fd/*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            pid = fd.split("/")[2]
            try:
                owners[inodes[target[8:-1]]] = open(f"/proc/{pid}/cmdline").read().replace("\0", " ")[:120]
            except OSError:
                pass
    return {port: owners.get(port, "?") for port in inodes.values()}


def test_a_ray_the_app_starts_keeps_its_metrics_and_agents_on_loopback(cluster):
    """Ray's agents, metrics exporters and dashboard listen on loopback. The one exception Ray Serve 2.60
    hard-codes: each replica's internal gRPC port ("[::]:0" in serve/_private/replica.py), which serves
    handle calls, not metrics."""
    opened = {port: cmd for port, cmd in cluster.opened_on_all_interfaces.items() if "ServeReplica" not in cmd}
    assert opened == {}, "Ray opened these ports on every interface"


def _photos() -> list[tuple[str, np.ndarray]]:
    photos = [("grace_hopper.jpg", load_image(sample_image_path()))]
    if MEDIA.is_dir():  # the shared photos, where they are (absent on a user's clone)
        photos += [(p.name, load_image(p)) for p in sorted(MEDIA.glob("*.jpg"))]
    return photos


def _local(spec, rgb, then):
    """The local path's answer, the backend ``then`` in use again afterwards."""
    backends.use(backends.LocalBackend())
    try:
        return predict(spec, rgb)
    finally:
        backends.use(then)


def test_ray_results_equal_local_results_for_every_bundled_model(cluster):
    photos = _photos()
    specs = [s for s in all_specs(None) if offline_available(s)]
    assert len(specs) >= 10
    for spec in specs:
        for name, rgb in photos:
            remote = predict(spec, rgb)
            local = _local(spec, rgb, cluster)
            assert type(remote.result) is type(local.result), spec.id
            assert remote.result.to_json() == local.result.to_json(), (spec.id, name)


def test_jpeg_frames_give_the_same_findings(cluster, monkeypatch):
    """``ZOO_RAY_FRAMES=jpeg`` (quality 95): lossy, so the same faces in nearly the same places."""
    rgb = load_image(sample_image_path())
    monkeypatch.setattr(cluster, "frames", "jpeg")
    remote = predict("face/blazeface-short", rgb).result
    local = _local("face/blazeface-short", rgb, cluster).result
    assert len(remote) == len(local) == 1
    assert np.abs(np.array(remote.faces[0].box) - np.array(local.faces[0].box)).max() < 3.0


def _replica_pids(backend, tries: int = 40) -> set[int]:
    pids = set()
    for _ in range(tries):
        pids.add(backend.handle.pid.remote().result(timeout_s=30))
        if len(pids) >= 2:
            break
    return pids


def test_a_replica_killed_during_50_requests_leaves_none_unanswered(cluster):
    rgb = load_image(sample_image_path())
    predict("face/blazeface-short", rgb)  # loaded
    victim = next(iter(_replica_pids(cluster)))

    def call(i: int):
        if i == 12:
            os.kill(victim, signal.SIGKILL)
        return predict("face/blazeface-short", rgb)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(call, range(50)))
    assert len(answers) == 50 and all(len(a.result) == 1 for a in answers)
    # Serve replaces the replica; later calls succeed, and the deployment is back to two
    from ray import serve

    end = time.monotonic() + 120
    while time.monotonic() < end:
        status = serve.status().applications[backends.APP_NAME].deployments[serving.DEPLOYMENT]
        if status.replica_states.get("RUNNING", 0) >= 2 and victim not in _replica_pids(cluster, 10):
            break
        time.sleep(1)
    assert status.replica_states.get("RUNNING", 0) >= 2, status
    assert all(len(predict("face/blazeface-short", rgb).result) == 1 for _ in range(10))


def _stream(frames, backend):
    """A live session's answers for each frame (both sides), with ``backend`` running the models."""
    backends.use(backend)
    session = StreamSession("face", {"a": "face/blazeface-short", "b": "face/facemesh"})
    answers = []
    for seq, frame in enumerate(frames, 1):
        outs = {k: f.result(timeout=60) for k, f in session.take(frame, seq=seq).items()}
        assert all(o.error is None for o in outs.values()), outs
        answers.append({k: o.prediction.result.to_json() for k, o in outs.items()})
    return session, answers


def test_a_live_streams_tracking_state_stays_on_one_replica_and_goes_with_the_session(cluster):
    """Face mesh in video mode answers each frame from what it followed on the frames before: the stream
    through Ray gives exactly the local stream's answers, frame by frame (its state stayed on one replica),
    with the same track ids; the session's end releases the state on the replica."""
    frames = make_frames(640, 480, fps=25, seconds=1.2)[:24]
    local_session, local = _stream(frames, backends.LocalBackend())
    local_session.close()
    session, remote = _stream(frames, cluster)
    assert remote == local
    ids = [tuple(f["track_id"] for f in ans["b"]["faces"]) for ans in remote]
    assert sum(1 for i in ids if i and i[0] is not None) >= 10, ids
    spec = session.offer.spec("face/facemesh")
    key = serving.multiplexed_id(spec, f"{session.token}/b")
    assert key != spec.id  # the stream's own runner, not the shared one
    holds = lambda: cluster.handle.options(multiplexed_model_id=key).holds.remote(key).result(timeout_s=30)  # noqa: E731
    assert holds()
    session.close()  # the browser session ends: its state on the replica goes
    end = time.monotonic() + 10
    while holds() and time.monotonic() < end:
        time.sleep(0.2)
    assert not holds()


def test_the_autoscaling_settings_reach_serve(cluster):
    from ray.serve.context import _get_global_client

    details = _get_global_client().get_serve_details()
    dep = details["applications"][backends.APP_NAME]["deployments"][serving.DEPLOYMENT]["deployment_config"]
    auto = dep["autoscaling_config"]
    assert (auto["min_replicas"], auto["max_replicas"], auto["target_ongoing_requests"]) == (2, 3, 1.5)
    assert dep["ray_actor_options"]["num_cpus"] == 0.5 and dep["max_ongoing_requests"] == 8


def test_the_app_answers_face_with_the_ray_backend(cluster, tmp_path):
    import ray
    from gradio_client import Client, handle_file

    port = free_port()
    env = {"ZOO_BACKEND": "ray", "RAY_ADDRESS": ray.get_runtime_context().gcs_address, "HF_HUB_OFFLINE": "1"}
    proc = start_app(port, env, log_path=tmp_path / "app.log")
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        _, _, payload = client.predict(handle_file(str(sample_image_path())), "face/blazeface-short",
                                       "face/facemesh", api_name="/face")
        assert [len(payload[k]["result"]["faces"]) for k in ("a", "b")] == [1, 1], payload
    finally:
        proc.terminate()
        proc.wait(30)


def test_an_unreachable_cluster_is_one_sentence_or_the_local_path(tmp_path):
    """Nothing listens at the address: each call answers with the sentence; with ZOO_RAY_FALLBACK=local the
    models run here and the readouts say why."""
    code = ("import logging; logging.disable(logging.CRITICAL)\n"
            "from playground import backends\n"
            "from playground.engine import predict\n"
            "from zoo.images import load_image, sample_image_path\n"
            "b = backends.current()\n"
            "try:\n"
            "    print(b.name, len(predict('face/blazeface-short', load_image(sample_image_path())).result))\n"
            "except Exception as exc:\n"
            "    print(type(exc).__name__, exc)\n"
            "print('NOTE', backends.note())\n")
    outs = []
    for fallback in ("", "local"):
        env = {**os.environ, "ZOO_BACKEND": "ray", "RAY_ADDRESS": "127.0.0.1:9", "ZOO_RAY_FALLBACK": fallback,
               "PYTHONPATH": str(REPO), "GLOG_minloglevel": "2"}
        run = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=240)
        outs.append(run.stdout)
    assert "ClusterError the model cluster at 127.0.0.1:9 cannot be reached" in outs[0], outs[0]
    assert outs[1].startswith("local 1") and "cannot be reached" in outs[1] and "running on the app's own machine" in outs[1], outs[1]
    assert "/" not in outs[0].split("reached", 1)[1].splitlines()[0]  # no server path in the sentence


def test_the_serving_command_deploys_on_a_running_cluster(cluster):
    """`python -m playground.serving` joins the cluster by address, (re)deploys the application with the
    ZOO_RAY_* settings it is given, and prints the front end's command; the application then answers."""
    import ray

    address = ray.get_runtime_context().gcs_address
    env = {**os.environ, "RAY_ADDRESS": address, "RAY_AUTH_MODE": "token", "PYTHONPATH": str(REPO),
           "ZOO_RAY_MIN_REPLICAS": "2", "ZOO_RAY_MAX_REPLICAS": "3", "ZOO_RAY_TARGET_ONGOING": "1.5",
           "ZOO_RAY_CPUS_PER_REPLICA": "0.5", "ZOO_RAY_MODELS_PER_REPLICA": "6", "ZOO_RAY_MAX_ONGOING": "8"}
    run = subprocess.run([sys.executable, "-m", "playground.serving"], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"ZOO_BACKEND=ray RAY_ADDRESS={address} python app.py" in run.stdout, run.stdout
    assert len(predict("face/blazeface-short", load_image(sample_image_path())).result) == 1
    bad = subprocess.run([sys.executable, "-m", "playground.serving", "--address", "127.0.0.1:9"], cwd=REPO,
                         env={**env, "RAY_ADDRESS": ""}, capture_output=True, text=True, timeout=240)
    assert bad.returncode == 2 and "cannot be reached" in bad.stderr, bad.stderr[-500:]
