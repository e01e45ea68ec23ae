"""Hub entries: real repos, pinned revisions. Filled in by the Hub zoo work."""
from __future__ import annotations

from zoo.specs import ModelSpec

HUB: tuple[ModelSpec, ...] = ()
