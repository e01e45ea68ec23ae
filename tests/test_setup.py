"""scripts/setup takes any CPython 3.10 to 3.14 (the newest it finds), or says in one sentence what to install."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PYENV = Path.home() / ".pyenv" / "versions"


def _which(path_dirs, **env):
    return subprocess.run([shutil.which("bash"), str(REPO / "scripts" / "setup"), "--which-python"], capture_output=True,
                          text=True, env={"PATH": os.pathsep.join(map(str, path_dirs)), **env}, timeout=60)


def _bin(tmp_path: Path) -> Path:
    """A PATH with the tools the script needs and a python3 that fails the version check (as a 3.9 would)."""
    b = tmp_path / "bin"
    b.mkdir()
    for tool in ("dirname",):
        (b / tool).symlink_to(subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip())
    fake = b / "python3"
    fake.write_text("#!/bin/sh\nexit 1\n")  # answers the version check as an unsupported Python would
    fake.chmod(0o755)
    return b


def test_a_machine_with_only_an_unsupported_python_gets_one_sentence(tmp_path):
    r = _which([_bin(tmp_path)])
    assert r.returncode == 1 and r.stdout == ""
    assert "no Python 3.10 to 3.14 found" in r.stderr and "PYTHON=" in r.stderr


def test_a_supported_interpreter_beside_it_is_chosen(tmp_path):
    b = _bin(tmp_path)
    (b / "python3.11").symlink_to(sys.executable)  # this interpreter is one of 3.10-3.14, like the CI's
    r = _which([b])
    assert r.returncode == 0 and r.stdout.strip() == "python3.11"


@pytest.mark.parametrize("version", ["3.13", "3.10"])
def test_newer_and_older_pythons_are_taken(tmp_path, version):
    found = sorted(PYENV.glob(f"{version}.*/bin/python{version}"))
    if not found:
        pytest.skip(f"no Python {version} on this machine")
    b = _bin(tmp_path)
    (b / f"python{version}").symlink_to(found[-1])
    r = _which([b])
    assert r.returncode == 0 and r.stdout.strip() == f"python{version}"


def test_python_set_by_hand_is_checked(tmp_path):
    b = _bin(tmp_path)
    r = _which([b], PYTHON=str(b / "python3"))
    assert r.returncode == 1 and "is not Python 3.10 to 3.14" in r.stderr
    r = _which([b], PYTHON=sys.executable)
    assert r.returncode == 0 and r.stdout.strip() == sys.executable
