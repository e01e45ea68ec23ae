"""A smoke run of a fresh install: each task's default models on one real photo, through the CLI.

    python -m bench.smoke            # run with the interpreter of the install to check (CI: Python 3.13)

For each task, ``python -m zoo run MODEL grace_hopper.jpg`` for both models of its default pair, in a
subprocess as a user would run it; the answer must be one JSON line with a result, and the photo's one face
and one person must be found. Exit status 0 when every run passed; one line per run on stdout.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

# what grace_hopper.jpg must give, by task (a portrait: one face, one person, no hands)
EXPECT = {"face": ("faces", 1), "pose": ("people", 1), "hands": ("hands", 0), "gesture": ("hands", 0)}


def check(task: str, answer: dict) -> str:
    result = answer.get("result")
    if not isinstance(result, dict):
        return f"no result ({answer.get('error', 'malformed answer')})"
    if task == "segmentation":
        person = result.get("coverage", {}).get("person", 0.0)
        return "" if person > 0.2 else f"person covers {person:.0%} of the photo"
    key, least = EXPECT[task]
    found = len(result.get(key, []))
    return "" if found >= least else f"found {found} {key}, expected at least {least}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.parse_args(argv)
    from tasks import TASKS
    from zoo.images import sample_image_path

    photo = str(sample_image_path())
    failed = 0
    for name, task in TASKS.items():
        for model in dict.fromkeys(task.default_pair):
            t0 = time.monotonic()
            run = subprocess.run([sys.executable, "-m", "zoo", "run", model, photo], capture_output=True, text=True,
                                 timeout=600)
            try:
                problem = check(name, json.loads(run.stdout.strip().splitlines()[-1])) if run.returncode == 0 else \
                    (run.stderr.strip().splitlines() or ["failed"])[-1]
            except (ValueError, IndexError):
                problem = "no JSON answer"
            failed += bool(problem)
            print(f"{'FAIL' if problem else 'ok  '} {name:<13} {model:<32} {time.monotonic() - t0:5.1f} s  {problem}")
    print(f"python {sys.version.split()[0]}: {'all passed' if not failed else f'{failed} failed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
