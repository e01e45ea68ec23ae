"""Start the app as its own process on a free loopback port (the soak measures that process's memory)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, env: dict[str, str] | None = None, timeout: float = 180.0,
              log_path: Path | None = None) -> subprocess.Popen:
    """``python app.py --port PORT`` on 127.0.0.1; returns once the page answers."""
    full_env = {**os.environ, "GLOG_minloglevel": "2", **(env or {})}
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)], cwd=REPO,
                            env=full_env, stdout=out, stderr=subprocess.STDOUT)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with status {proc.returncode} while starting")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the app did not answer in time")


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return children


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user + system, s) used so far by a process and, apart, by all its living descendants."""
    tick = os.sysconf("SC_CLK_TCK")

    def own(p: int) -> float:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            return 0.0

    children = _children()
    rest, todo = 0.0, list(children.get(pid, []))
    while todo:
        p = todo.pop()
        rest += own(p)
        todo.extend(children.get(p, []))
    return own(pid), rest


def tree_rss_mb(pid: int) -> float | None:
    """Resident memory of a process and all its descendants (Linux), in MB; None once it is gone."""
    children = _children()
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        r = rss_mb(p)
        if r is None and p == pid:
            return None
        total += r or 0.0
        todo.extend(children.get(p, []))
    return total


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process (Linux), in MB; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
