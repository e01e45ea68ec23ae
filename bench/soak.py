"""Soak and attack: the app in its own process, N concurrent API clients over every endpoint for a set time,
with hostile inputs mixed in (bench/hostile.py), and the server's memory sampled throughout.

    .venv/bin/python -m bench.soak [--seconds 600] [--clients 8] [--bad-share 0.2] [--video-share 0.02]
                                   [--live 2] [--attack] [--backend local|ray] [--json PATH]

With ``--live N``, N honest live visitors (scripted sockets, their tickets from the page's Start event) drive
the face tab the whole time; their answers/s are measured alone for 30 s first. With ``--attack``, the crowd
of ``bench.hostile.CROWD`` runs beside them, each attacker from its own loopback address (odd live frames,
live slot hogging, /call floods with spoofed forwarded headers, slowloris, large and deep JSON, large 16-bit
PNGs, pages that go silent), and its tally is reported.

With ``--backend ray`` the app runs its models on Ray Serve (a local Ray that the app starts, or the cluster
at RAY_ADDRESS); memory is then the app's whole process tree (Ray's own processes and the replicas too).

It prints calls, failures (a good call that failed, a hostile one answered without its sentence or with
Gradio's generic error), refusals (hostile calls answered with their sentence), p50/p95 latency of the good
calls per endpoint, the server's RSS at start, after the warm-up, at its peak and at the end, and whether the
server process stayed the same one all along. Exit status 1 when any call failed or the server died.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.hostile import Case, high_rate_video, write_cases
from tasks import TASKS
from bench.server import free_port, rss_mb, start_app, tree_rss_mb

GENERIC = "upstream Gradio app has raised an exception"


@dataclass
class Call:
    endpoint: str
    case: str
    ok: bool  # answered as expected (a result, or the expected sentence)
    hostile: bool
    seconds: float
    message: str = ""
    at: float = 0.0  # wall-clock start (to match the server's log)


@dataclass
class Report:
    seconds: float
    clients: int
    calls: int = 0
    good_calls: int = 0
    refusals: int = 0
    failures: list[dict] = field(default_factory=list)
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)
    server_restarted: bool = False
    calls_per_second: float = 0.0
    backend: str = "local"
    live_alone: list[dict] = field(default_factory=list)  # per live visitor: answers/s of A and B, alone
    live_during: list[dict] = field(default_factory=list)  # the same during the soak
    attacks: dict = field(default_factory=dict)  # what the crowd did (bench.hostile's tallies)
    # this process's own scheduling lag (a 10 ms sleep's overshoot): a client timeout during a long one is
    # the bench machine's, not the server's
    client_lag: dict = field(default_factory=dict)


def _default_pairs() -> dict[str, tuple[str, str]]:
    from playground.ui import default_pair

    return {t: default_pair(t) for t in TASKS}


def _call(client, case: Case | None, endpoint: str, pair: tuple[str, str], photo: str, clip: str) -> Call:
    from gradio_client import handle_file

    a, b = pair
    image = photo
    name = "photo"
    expect = ""
    if case is not None:
        name, expect = case.name, case.expect
        if case.kind == "image":
            image = case.value
        elif case.kind == "model":
            a = case.value
        elif case.kind == "video":
            image = case.value
    t0, at = time.monotonic(), time.time()
    try:
        if endpoint.endswith("_video"):
            out = client.predict(handle_file(image if case else clip), a, b, api_name=f"/{endpoint}")
            # (the annotated video, the latency plot, the per-side JSON, the per-frame CSV download)
            answered = isinstance(out, tuple) and len(out) == 4 and bool(out[0])
        else:
            out = client.predict(handle_file(image), a, b, api_name=f"/{endpoint}")
            answered = isinstance(out, tuple) and len(out) == 3 and "result" in out[2]["a"]
        ok = answered and not expect
        return Call(endpoint, name, ok, case is not None, time.monotonic() - t0,
                    "" if ok else f"answered, expected '{expect}'" if answered else "malformed answer", at)
    except Exception as exc:  # noqa: BLE001 - every failure is a row of the report
        msg = str(exc)
        if not expect:  # where in gradio_client an honest call failed (its upload, its join, a download...)
            import traceback

            where = [f.name for f in traceback.extract_tb(exc.__traceback__) if "gradio_client" in f.filename]
            msg += f" [in {where[-1]}]" if where else ""
        ok = bool(expect) and expect in msg and GENERIC not in msg
        return Call(endpoint, name, ok, case is not None, time.monotonic() - t0, msg[:300], at)


def _live_visitor(url: str, seconds: float, frames: list[bytes], out: list, source: str = "127.0.0.1") -> None:
    """One honest live visitor on the face tab for ``seconds``: its answers/s per side go into ``out``."""
    from bench.live_client import LiveClient, drive, page_ticket

    try:
        client = LiveClient(url, page_ticket(url, source=source), source=source)
        client.wait_for(lambda m: m["type"] == "ready", 10)
        rep = drive(client, frames, seconds).summary()
        client.close()
        out.append({"a": rep["a"]["answers_per_s"], "b": rep["b"]["answers_per_s"]})
    except Exception as exc:  # noqa: BLE001 - a visitor that could not run is a failure of the run
        out.append({"a": 0.0, "b": 0.0, "error": str(exc)[:200]})


def _live_round(url: str, visitors: int, seconds: float, frames: list[bytes]) -> list[dict]:
    out: list[dict] = []
    threads = [threading.Thread(target=_live_visitor, args=(url, seconds, frames, out), daemon=True)
               for _ in range(visitors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    return out


def run(seconds: float, clients: int, bad_share: float, video_share: float, warmup_s: float,
        backend: str = "local", live: int = 0, attack: bool = False) -> Report:
    from gradio_client import Client

    from zoo.images import load_image, sample_image_path

    logging.getLogger("httpx").setLevel(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    photo = str(sample_image_path())
    cases = write_cases(tmp / "hostile", load_image(photo))
    clip = str(high_rate_video(tmp / "clip.mp4", fps=10, seconds=2.0))
    fast = high_rate_video(tmp / "fast.mp4", fps=240, seconds=4.0)
    cases.append(Case("240fps.mp4", "video", str(fast), ""))
    pairs = _default_pairs()
    port = free_port()
    proc = start_app(port, {"HF_HUB_OFFLINE": "1", "ZOO_BACKEND": backend}, log_path=tmp / "server.log")
    measure = rss_mb if backend == "local" else tree_rss_mb
    url = f"http://127.0.0.1:{port}/"
    report = Report(seconds, clients, backend=backend)
    samples: list[tuple[float, float]] = []
    calls: list[Call] = []
    lock = threading.Lock()
    stop = threading.Event()
    t_start = time.monotonic()

    def sample() -> None:
        while not stop.is_set():
            r = measure(proc.pid)
            if r is not None:
                samples.append((time.monotonic() - t_start, r))
            stop.wait(1.0)

    lags: list[tuple[float, float]] = []

    def lag_probe() -> None:
        while not stop.is_set():
            t0 = time.monotonic()
            time.sleep(0.01)
            lag = time.monotonic() - t0 - 0.01
            if lag > 0.25:
                lags.append((time.time(), lag))

    def client_loop(seed: int) -> None:
        rng = random.Random(seed)
        client = Client(url, verbose=False)
        deadline = t_start + seconds
        while time.monotonic() < deadline and proc.poll() is None:
            task = rng.choice(list(TASKS))
            roll = rng.random()
            if roll < video_share:
                video = [c for c in cases if c.kind == "video"]
                case = rng.choice(video) if rng.random() < 0.5 else None
                call = _call(client, case, f"{task}_video", pairs[task], photo, clip)
            elif roll < video_share + bad_share:
                case = rng.choice([c for c in cases if c.kind != "video"])
                endpoint = "face" if case.kind == "model" else task
                call = _call(client, case, endpoint, pairs[endpoint], photo, clip)
            else:
                call = _call(client, None, task, pairs[task], photo, clip)
            with lock:
                calls.append(call)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threading.Thread(target=lag_probe, daemon=True).start()
    pid = proc.pid
    frames: list[bytes] = []
    if live:
        from bench.fakecam import make_frames
        from bench.live_client import jpeg

        frames = [jpeg(f) for f in make_frames(640, 480, fps=25, seconds=2)[:30]]
        report.live_alone = _live_round(url, live, 30.0, frames)
        t_start = time.monotonic()  # the soak's clock starts after the live baseline
    crowd = []
    if attack:  # each attacker a process of its own at the lowest CPU priority: on two cores, attackers
        # sharing this process's interpreter or the cores at equal priority starve the honest clients
        # themselves, which says nothing of the server
        import subprocess

        from bench.hostile import CROWD

        for fn in CROWD:
            crowd.append(subprocess.Popen(["nice", "-n", "19", sys.executable, "-m", "bench.hostile", fn.__name__,
                                           "--url", url, "--seconds", str(seconds)],
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
    live_threads = [threading.Thread(target=_live_visitor, args=(url, seconds, frames, report.live_during),
                                     daemon=True) for _ in range(live)]
    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(clients)]
    for t in live_threads + threads:
        t.start()
    for t in threads + live_threads:
        t.join(seconds + 300)
    for attacker in crowd:
        try:
            out = attacker.communicate(timeout=300)[0]
            for key, value in json.loads(out.strip().splitlines()[-1] if out.strip() else "{}").items():
                report.attacks[key] = report.attacks.get(key, 0) + value
        except Exception:  # noqa: BLE001 - an attacker that did not report
            attacker.kill()
    stop.set()
    sampler.join(5)
    alive = proc.poll() is None
    report.server_restarted = not alive or proc.pid != pid
    proc.terminate()
    try:
        proc.wait(20)
    except Exception:  # noqa: BLE001
        proc.kill()

    report.calls = len(calls)
    report.calls_per_second = round(len(calls) / seconds, 2)
    report.good_calls = sum(1 for c in calls if c.ok and not c.hostile)
    report.refusals = sum(1 for c in calls if c.ok and c.hostile)
    report.failures = [asdict(c) for c in calls if not c.ok][:50]
    report.failures_total = sum(1 for c in calls if not c.ok)  # type: ignore[attr-defined]
    by_endpoint: dict[str, list[float]] = {}
    for c in calls:
        if c.ok and not c.hostile:
            by_endpoint.setdefault(c.endpoint, []).append(c.seconds * 1000)
    for ep, ms in sorted(by_endpoint.items()):
        ms.sort()
        report.latency_ms[ep] = {"calls": len(ms), "p50": round(statistics.median(ms)),
                                 "p95": round(ms[min(len(ms) - 1, int(0.95 * (len(ms) - 1)))])}
    report.client_lag = {"over_0.25s": len(lags), "over_1s": sum(1 for _, v in lags if v > 1.0),
                         "max_s": round(max((v for _, v in lags), default=0.0), 2),
                         "longest": [(time.strftime("%H:%M:%S", time.gmtime(t)), round(v, 2))
                                     for t, v in sorted(lags, key=lambda x: -x[1])[:5]]}
    if samples:
        after = [r for t, r in samples if t >= warmup_s] or [samples[-1][1]]
        report.rss_mb = {"start": round(samples[0][1]), "after_warmup": round(after[0]),
                         "peak": round(max(r for _, r in samples)), "end": round(samples[-1][1])}
    return report


def format_report(r: Report) -> str:
    lines = [f"{r.backend} backend, {r.clients} clients, {r.seconds:.0f} s: {r.calls} calls ({r.calls_per_second}/s), "
             f"{r.good_calls} good answered, {r.refusals} hostile refused with their sentence, "
             f"{getattr(r, 'failures_total', len(r.failures))} failed; server restarted: {r.server_restarted}"]
    for ep, v in r.latency_ms.items():
        lines.append(f"  {ep:<20} {v['calls']:5d} calls  p50 {v['p50']:6d} ms  p95 {v['p95']:6d} ms")
    if r.rss_mb:
        m = r.rss_mb
        lines.append(f"  RSS MB: start {m['start']}, after warm-up {m['after_warmup']}, peak {m['peak']}, "
                     f"end {m['end']} (end - after warm-up: {m['end'] - m['after_warmup']:+d})")
    if r.live_alone or r.live_during:
        alone = [v for d in r.live_alone for v in (d["a"], d["b"])]
        during = [v for d in r.live_during for v in (d["a"], d["b"])]
        share = (sum(during) / sum(alone)) if sum(alone) else 0.0
        lines.append(f"  live visitors: alone {r.live_alone}, during {r.live_during}: {share:.0%} of alone")
    if r.attacks:
        lines.append("  crowd: " + ", ".join(f"{k} {v}" for k, v in sorted(r.attacks.items())))
    if r.client_lag:
        lines.append(f"  the bench's own lag: {r.client_lag}")
    for f in r.failures[:10]:
        at = time.strftime("%H:%M:%S", time.gmtime(f["at"]))
        lines.append(f"  failed: {at} +{f['seconds']:.1f}s {f['endpoint']} {f['case']}: {f['message'][:160]}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=600.0)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--bad-share", type=float, default=0.2, help="share of calls that send a hostile input")
    p.add_argument("--video-share", type=float, default=0.02, help="share of calls that send a video")
    p.add_argument("--warmup", type=float, default=None, help="seconds before the memory baseline "
                   "(default: a tenth of the run, at least 60 s)")
    p.add_argument("--backend", choices=("local", "ray"), default="local", help="where the app runs its models")
    p.add_argument("--live", type=int, default=0, help="honest live visitors beside the API clients")
    p.add_argument("--attack", action="store_true", help="run the hostile crowd (bench.hostile.CROWD) beside them")
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    warmup = args.warmup if args.warmup is not None else max(60.0, args.seconds / 10)
    report = run(args.seconds, args.clients, args.bad_share, args.video_share, warmup, args.backend,
                 live=args.live, attack=args.attack)
    print(format_report(report), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(report) | {"failures_total": getattr(report, "failures_total", 0)},
                                              indent=1))
    return 1 if getattr(report, "failures_total", 0) or report.server_restarted else 0


if __name__ == "__main__":
    sys.exit(main())
