"""Errors whose message is a sentence meant for the person using the app or the CLI."""
from __future__ import annotations


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
