"""Every download from the Hugging Face Hub goes through here, and through huggingface_hub.

Pinned revisions, the standard cache, offline use, size caps, and errors turned into one sentence
each. Settings are read at call time (HF_ENDPOINT, HF_HUB_OFFLINE, HF_HOME / HF_HUB_CACHE, HF_TOKEN),
so a test or a deployment can change them without re-importing anything.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Callable

from zoo.errors import HubError, RefusedModelError, clip
from zoo import settings
from zoo.specs import HubSource

log = logging.getLogger(__name__)

# owner/name as the Hub allows them: letters, digits, "-", "_", "."; no "--" or ".." ; at most 96 each.
_REPO_ID = re.compile(r"^(?!.*(--|\.\.))[A-Za-z0-9][A-Za-z0-9._-]{0,94}/[A-Za-z0-9][A-Za-z0-9._-]{0,94}$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")


def max_download_bytes() -> int:
    return settings.get("ZOO_MAX_DOWNLOAD_BYTES")


def endpoint() -> str | None:
    return settings.get("HF_ENDPOINT") or None


def offline() -> bool:
    return settings.get("HF_HUB_OFFLINE")


def cache_dir() -> Path:
    if settings.get("HF_HUB_CACHE"):
        return Path(settings.get("HF_HUB_CACHE"))
    home = settings.get("HF_HOME") or os.path.join(settings.get("XDG_CACHE_HOME") or Path.home() / ".cache",
                                                   "huggingface")
    return Path(home) / "hub"


def token() -> str | bool | None:
    return settings.get("HF_TOKEN") or None


def validate_repo_id(repo_id: str) -> str:
    repo_id = (repo_id or "").strip()
    if not _REPO_ID.match(repo_id):
        raise RefusedModelError(f"'{clip(repo_id)}' is not a Hub model id: expected owner/name, e.g. google/mobilenet_v2_1.0_224")
    return repo_id


def validate_revision(revision: str | None) -> str | None:
    if revision is None or revision == "":
        return None
    revision = revision.strip()
    if not _REVISION.match(revision) or ".." in revision:
        raise RefusedModelError(f"'{clip(revision)}' is not a valid revision (a branch, tag or commit hash)")
    return revision


def explain(exc: BaseException, repo_id: str, revision: str | None = None, filename: str | None = None) -> HubError:
    """One sentence a person understands, for anything huggingface_hub (or the disk) raised."""
    from huggingface_hub import errors as e

    what = f"{repo_id}/{filename}" if filename else repo_id
    at = f" at revision '{revision}'" if revision else ""
    if isinstance(exc, e.GatedRepoError):
        msg = (f"{repo_id} is gated: accept its terms on its Hub page, then set HF_TOKEN to a token that has "
               "access")
    elif isinstance(exc, e.RepositoryNotFoundError):
        msg = f"{repo_id}: no such model on the Hub (or it is private: set HF_TOKEN)"
    elif isinstance(exc, e.RevisionNotFoundError):
        msg = f"{repo_id}: revision '{revision}' not found"
    elif isinstance(exc, (e.LocalEntryNotFoundError, e.OfflineModeIsEnabled)):  # before its parent class
        msg = f"{what} is not in the local cache and the Hub is unreachable"
    elif isinstance(exc, e.EntryNotFoundError):
        msg = f"{repo_id}: file '{filename}' not found{at}"
    elif isinstance(exc, e.HFValidationError):
        msg = f"'{repo_id}' is not a valid Hub repo id"
    elif isinstance(exc, OSError) and getattr(exc, "errno", None) == errno.ENOSPC:
        msg = f"not enough disk space to download {what}"
    elif any(c.__name__ in ("TimeoutException", "ReadTimeout", "ConnectTimeout") for c in type(exc).__mro__):
        msg = f"the Hub did not answer in time while fetching {what}; try again"
    elif any(c.__name__ in ("ConnectError", "NetworkError") for c in type(exc).__mro__):
        msg = f"{what} is not in the local cache and the Hub is unreachable"
    elif isinstance(exc, e.HfHubHTTPError):
        status = getattr(getattr(exc, "response", None), "status_code", "?")
        msg = f"the Hub answered HTTP {status} for {what}; try again later"
    else:
        msg = f"could not fetch {what}{at} ({exc.__class__.__name__})"
    err = HubError(msg)
    err.__cause__ = exc
    return err


def cached_files(source: HubSource) -> list[Path] | None:
    """The entry's files in the local cache, its main file first; None unless every one of them is there."""
    from huggingface_hub import try_to_load_from_cache

    try:
        found = [try_to_load_from_cache(source.repo_id, name, cache_dir=str(cache_dir()), revision=source.revision)
                 for name in (source.filename, *source.extra_files)]
    except Exception:  # noqa: BLE001 - a malformed entry is simply not cached
        return None
    return [Path(f) for f in found] if all(isinstance(f, str) for f in found) else None


def is_cached(source: HubSource) -> bool:
    """Every file of the entry is in the local cache."""
    return cached_files(source) is not None


# --- download sizes, for the pickers ------------------------------------------------------------------------
# A pinned revision's files never change, so their sizes are asked of the Hub once (where it is reachable) and
# kept in the playground's cache folder: a picker can then say how much a model downloads first.
_sizes_lock = threading.Lock()


def _sizes_file() -> Path:
    return settings.cache_dir() / "hub-sizes.json"


def _size_key(source: HubSource) -> str:
    return f"{source.repo_id}@{source.revision}"


def _read_sizes() -> dict[str, dict[str, int]]:
    """The sizes kept so far (read once per version of the file: every page load asks for each Hub entry's)."""
    path = _sizes_file()
    try:
        st = path.stat()
    except OSError:
        return {}
    return _parse_sizes(str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=4)
def _parse_sizes(path: str, mtime_ns: int, size: int) -> dict[str, dict[str, int]]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def download_size(source: HubSource) -> int | None:
    """The bytes the entry's files download, as the Hub said once (None until then)."""
    files = _read_sizes().get(_size_key(source))
    if not isinstance(files, dict):
        return None
    sizes = [files.get(name) for name in (source.filename, *source.extra_files)]
    return sum(sizes) if all(isinstance(n, int) for n in sizes) else None


def learn_sizes(sources: list[HubSource]) -> int:
    """Ask the Hub the file sizes of the entries whose sizes are not known yet (one call per entry, only
    where the Hub is reachable and the entry is not cached); returns how many were learned. Never raises."""
    if offline():
        return 0
    known = _read_sizes()
    learned = {}
    for source in sources:
        key = _size_key(source)
        if key in known or key in learned or is_cached(source):
            continue
        try:
            info = model_info(source.repo_id, source.revision)
        except Exception as exc:  # noqa: BLE001 - no network: the picker says "needs the network" without a size
            log.info("could not ask the Hub for %s's sizes: %s", source.repo_id, exc)
            break
        learned[key] = {s.rfilename: int(s.size) for s in (info.siblings or []) if s.size is not None}
    _save_sizes(learned)
    return len(learned)


def _save_sizes(learned: dict[str, dict[str, int]]) -> None:
    if not learned:
        return
    with _sizes_lock:
        merged = {**_read_sizes(), **learned}
        path = _sizes_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part")
        part.write_text(json.dumps(merged, sort_keys=True))
        os.replace(part, path)


def sibling(path: Path, filename: str, other: str) -> Path:
    """Where ``other`` lies when ``filename`` of the same repo and revision was fetched to ``path`` (both sit
    in one snapshot folder, each at its path in the repo)."""
    root = Path(path)
    for _ in Path(filename).parts:
        root = root.parent
    return root / other


def byte_reporter(report: Callable[[float, str], None], label: str) -> type:
    """A ``tqdm_class`` for huggingface_hub that passes the bytes of a download to ``report(fraction, text)``
    (a page's progress bar, say) instead of drawing a terminal bar."""

    class Reporter:
        def __init__(self, *args, total: float | None = None, initial: float = 0, **kwargs):
            self.total, self.n = total, initial or 0

        def update(self, n: float = 1) -> None:
            self.n += n or 0
            if self.total:
                report(min(1.0, self.n / self.total),
                       f"downloading {label}: {self.n / 2**20:.1f} of {self.total / 2**20:.1f} MiB")

        def close(self) -> None:
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> bool:
            return False

    return Reporter


def download(repo_id: str, filename: str, revision: str | None = None, *,
             max_bytes: int | None = None, progress: Callable[[float, str], None] | None = None) -> Path:
    """One file into the standard cache (or from it): its local path. With ``progress``, the download's
    bytes are reported to it; without, huggingface_hub draws its own bar on stderr."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url, try_to_load_from_cache

    repo_id = validate_repo_id(repo_id)
    revision = validate_revision(revision)
    common = dict(repo_id=repo_id, filename=filename, revision=revision, cache_dir=str(cache_dir()),
                  endpoint=endpoint(), token=token())
    try:
        if offline():
            return Path(hf_hub_download(**common, local_files_only=True))
        cached = try_to_load_from_cache(repo_id, filename, cache_dir=str(cache_dir()), revision=revision)
        if not isinstance(cached, str):  # about to download: check the size first (one HEAD, no retries)
            limit = max_download_bytes() if max_bytes is None else max_bytes
            meta = get_hf_file_metadata(hf_hub_url(repo_id, filename, revision=revision, endpoint=endpoint()),
                                        token=token(), timeout=10, endpoint=endpoint())
            if meta.size is not None and meta.size > limit:
                raise RefusedModelError(f"{repo_id}/{filename} is {meta.size / 2**20:.0f} MiB, over the "
                                        f"{limit / 2**20:.0f} MiB download cap (ZOO_MAX_DOWNLOAD_BYTES)")
        if progress is not None:
            common["tqdm_class"] = byte_reporter(progress, f"{repo_id}/{filename}")
        return Path(hf_hub_download(**common))
    except RefusedModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - translated into a sentence
        raise explain(exc, repo_id, revision, filename) from exc


def fetch(source: HubSource, progress: Callable[[float, str], None] | None = None) -> Path:
    """A registry entry's files; returns the main file's path (extra files land beside it)."""
    files = (source.filename, *source.extra_files)
    paths = []
    for i, name in enumerate(files):
        if progress is not None:
            progress(i / len(files), f"fetching {source.repo_id}/{name}")
        paths.append(download(source.repo_id, name, source.revision, progress=progress))
    return paths[0]


def model_info(repo_id: str, revision: str | None = None):
    """The Hub's card for a repo (pipeline tag, library, files with sizes, config)."""
    from huggingface_hub import HfApi

    repo_id = validate_repo_id(repo_id)
    revision = validate_revision(revision)
    if offline():
        raise HubError(f"{repo_id}: the Hub is not reachable (HF_HUB_OFFLINE is set)")
    try:
        return HfApi(endpoint=endpoint(), token=token()).model_info(repo_id, revision=revision, files_metadata=True)
    except Exception as exc:  # noqa: BLE001
        raise explain(exc, repo_id, revision) from exc


def resolve_commit(repo_id: str, revision: str | None) -> str:
    """The commit hash a branch or tag points at now (for `python -m zoo lock`)."""
    info = model_info(repo_id, revision)
    if not info.sha or not COMMIT.match(info.sha):
        raise HubError(f"{repo_id}: the Hub gave no commit hash for '{revision}'")
    return info.sha

