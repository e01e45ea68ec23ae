"""How two results agree, the parts every task shares: one-to-one box matching and the sentences when a
side found nothing."""
from __future__ import annotations

from typing import Any

import numpy as np

from tasks.results import InstanceResult

def match_boxes(a: np.ndarray, b: np.ndarray, min_iou: float = 0.1) -> list[tuple[int, int, float]]:
    """One-to-one matching of two box sets by IoU (Hungarian); pairs below ``min_iou`` are dropped."""
    if len(a) == 0 or len(b) == 0:
        return []
    import supervision as sv
    from scipy.optimize import linear_sum_assignment

    iou = sv.box_iou_batch(np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32))
    rows, cols = linear_sum_assignment(-iou)
    return [(int(r), int(c), float(iou[r, c])) for r, c in zip(rows, cols) if iou[r, c] >= min_iou]


ONE = {"people": "person", "faces": "face", "hands": "hand"}


def nothing_found(count_a: int, count_b: int, noun: str) -> dict[str, Any] | None:
    """The agreement when either side found nothing, the same in every task: both empty is nothing to
    compare (score None, not 100%); one empty is 0, saying which side found what."""
    if count_a and count_b:
        return None
    if not count_a and not count_b:
        return {"score": None, "count_a": 0, "count_b": 0, "matched": 0,
                "summary": f"nothing to compare: neither A nor B found any {noun}"}
    side, other, n = ("A", "B", count_a) if count_a else ("B", "A", count_b)
    return {"score": 0.0, "count_a": count_a, "count_b": count_b, "matched": 0,
            "summary": f"{side} found {n} {ONE.get(noun, noun) if n == 1 else noun}, {other} found none"}


def box_agreement(a: InstanceResult, b: InstanceResult, noun: str) -> dict[str, Any]:
    """Counts, matches and mean matched IoU, with a sentence a non-engineer can read."""
    empty = nothing_found(len(a), len(b), noun)
    if empty is not None:
        return {**empty, "mean_iou": None, "pairs": []}
    pairs = match_boxes(a.boxes, b.boxes)
    n = max(len(a), len(b))
    if not pairs:
        return {"score": 0.0, "count_a": len(a), "count_b": len(b), "matched": 0, "mean_iou": None,
                "summary": f"0 of {n} {noun} matched: A and B found them in different places", "pairs": []}
    mean_iou = float(np.mean([p[2] for p in pairs]))
    union = len(a) + len(b) - len(pairs)
    return {
        "score": round(len(pairs) / union * mean_iou, 3),
        "count_a": len(a),
        "count_b": len(b),
        "matched": len(pairs),
        "mean_iou": round(mean_iou, 3),
        "summary": f"{len(pairs)} of {n} {noun} matched, mean box overlap {mean_iou:.0%}",
        "pairs": pairs,
    }

