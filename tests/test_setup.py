"""scripts/setup finds a Python mediapipe 0.10.21 has wheels for, or says in one sentence what to install."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def _which(path_dirs, **env):
    return subprocess.run([shutil.which("bash"), str(REPO / "scripts" / "setup"), "--which-python"], capture_output=True,
                          text=True, env={"PATH": os.pathsep.join(map(str, path_dirs)), **env}, timeout=60)


def _bin(tmp_path: Path) -> Path:
    """A PATH with the tools the script needs and a python3 that is 3.13 (as on Debian 13)."""
    b = tmp_path / "bin"
    b.mkdir()
    for tool in ("dirname",):
        (b / tool).symlink_to(subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip())
    fake = b / "python3"
    fake.write_text("#!/bin/sh\nexit 1\n")  # answers the version check as 3.13 would: unsupported
    fake.chmod(0o755)
    return b


def test_a_machine_with_only_a_newer_python_gets_one_sentence(tmp_path):
    r = _which([_bin(tmp_path)])
    assert r.returncode == 1 and r.stdout == ""
    assert "no Python 3.9 to 3.12 found" in r.stderr and "PYTHON=" in r.stderr


def test_a_supported_interpreter_beside_it_is_chosen(tmp_path):
    b = _bin(tmp_path)
    (b / "python3.12").symlink_to(sys.executable)  # this interpreter is 3.9-3.12, like the CI's
    r = _which([b])
    assert r.returncode == 0 and r.stdout.strip() == "python3.12"


def test_python_set_by_hand_is_checked(tmp_path):
    b = _bin(tmp_path)
    r = _which([b], PYTHON=str(b / "python3"))
    assert r.returncode == 1 and "is not Python 3.9 to 3.12" in r.stderr
    r = _which([b], PYTHON=sys.executable)
    assert r.returncode == 0 and r.stdout.strip() == sys.executable
