"""Per-stream tracking over supervision's ByteTrack: one StreamTracker per stream (and per side)."""
from __future__ import annotations

import numpy as np
import supervision as sv

from tasks.results import InstanceResult


class StreamTracker:
    """Gives each instance of a stream a ``track_id`` that stays with it while it moves.

    Never share one between streams: its state is the stream's history.
    """

    def __init__(self, frame_rate: int = 30, lost_track_buffer: int = 30):
        self._tracker = sv.ByteTrack(
            track_activation_threshold=0.25,
            lost_track_buffer=lost_track_buffer,
            minimum_matching_threshold=0.8,
            frame_rate=frame_rate,
            minimum_consecutive_frames=1,
        )

    def update(self, result: InstanceResult) -> InstanceResult:
        n = len(result)
        det = sv.Detections(
            xyxy=result.boxes.reshape(-1, 4),
            confidence=result.scores.reshape(-1),
            class_id=np.zeros(n, dtype=int),
            data={"index": np.arange(n)},
        )
        tracked = self._tracker.update_with_detections(det)
        ids: list[int | None] = [None] * n
        if len(tracked) and tracked.tracker_id is not None and "index" in tracked.data:
            for idx, tid in zip(tracked.data["index"], tracked.tracker_id):
                ids[int(idx)] = int(tid)
        return result.with_track_ids(ids)
