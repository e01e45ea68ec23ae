"""What the Hub side of the zoo knows beyond its entries (which their families' modules register, each with
real repos, real file names and pinned revisions: a commit hash where one was verified, otherwise the tag or
branch recorded as such, which ``python -m zoo lock`` resolves and writes back into that module)."""
from __future__ import annotations

from zoo.registry import registered

# Architectures the brief names for which no checkpoint the playground may load (ONNX or safetensors,
# no remote code) was found on the Hub. Shown plainly in the zoo tab.
UNAVAILABLE: tuple[tuple[str, str, str], ...] = (
    ("pose", "Stacked Hourglass (Newell et al. 2016)",
     "no ONNX or safetensors checkpoint on the Hub; the published weights are Torch7/PyTorch pickles"),
    ("pose", "Convolutional Pose Machines (Wei et al. 2016)",
     "no ONNX or safetensors checkpoint on the Hub; the published weights are Caffe/TensorFlow files"),
)


def pinned_revision(repo_id: str) -> str | None:
    """The revision the registry pins for a repo (the Teach panel's backbone uses it), else None."""
    return next((src.revision for s in registered() for src in s.hub_sources() if src.repo_id == repo_id), None)


def hub_entries() -> tuple:
    """The registered entries with a file on the Hub."""
    return tuple(s for s in registered() if s.hub_sources())
