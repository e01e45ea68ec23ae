"""The import graph points one way (.importlinter): bench, then the app layer (playground), then the
tasks, then the zoo, with no cycle between them. import-linter reads every import, lazy ones included."""
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_the_layers_contract_holds():
    exe = Path(sys.executable).with_name("lint-imports")
    cmd = [str(exe)] if exe.is_file() else [shutil.which("lint-imports") or "lint-imports"]
    r = subprocess.run([*cmd, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "1 kept, 0 broken" in r.stdout
