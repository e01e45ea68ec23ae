"""Errors whose message is a sentence meant for the person using the app or the CLI."""
from __future__ import annotations

import re

MAX_ECHO = 80  # an input quoted back in a message is cut to this many characters
_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.@+-]+/)+([\w.@+-]+)")


def clip(text: object, limit: int = MAX_ECHO) -> str:
    """An input as it may be quoted back to a person: one line, cut short, and valid text (a lone surrogate,
    which no JSON encoder of the answer would take, becomes U+FFFD)."""
    s = " ".join(str(text).encode("utf-8", "replace").decode("utf-8").split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def scrub(text: str) -> str:
    """A message with absolute paths reduced to their last part: a visitor never sees the server's folders."""
    return _PATH.sub(lambda m: m.group(1), text)


class ZooError(Exception):
    """Base class: str(error) is safe and useful to show a user."""


class ModelUnavailableError(ZooError):
    """The model's files cannot be had (offline and uncached, missing package file, ...)."""


class ModelLoadError(ZooError):
    """The files are there but the runtime could not load them."""


class HubError(ZooError):
    """A Hub request failed; the message says why in plain words."""


class RefusedModelError(ZooError):
    """A user-supplied model was refused (pickle weights, remote code, too large, wrong task...)."""


class BusyError(ZooError):
    """A limit was reached (too many jobs, sessions or models at once); try again later."""
