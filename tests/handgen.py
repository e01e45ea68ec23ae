"""Constructed hand landmarks: a simple kinematic hand, fingers extended or folded, in pixels."""
from __future__ import annotations

import numpy as np

_BASES = {"index": (-0.35, -1.0), "middle": (-0.1, -1.05), "ring": (0.15, -1.0), "pinky": (0.38, -0.88)}
_LENGTH = {"index": 1.0, "middle": 1.08, "ring": 1.0, "pinky": 0.8}
_FIRST = {"index": 5, "middle": 9, "ring": 13, "pinky": 17}


def _chain(start, direction, lengths, angles_deg, axis):
    """Bones from ``start``, each bent by its angle about ``axis`` (towards the camera)."""
    pts = []
    p = np.array(start, dtype=float)
    d = np.array(direction, dtype=float)
    d /= np.linalg.norm(d)
    axis = np.array(axis, dtype=float)
    axis /= np.linalg.norm(axis)
    for length, ang in zip(lengths, angles_deg):
        a = np.radians(ang)  # Rodrigues rotation of d about axis
        d = d * np.cos(a) + np.cross(axis, d) * np.sin(a) + axis * np.dot(axis, d) * (1 - np.cos(a))
        p = p + d * length
        pts.append(p.copy())
    return pts


def make_hand(extended: dict[str, bool], rotate_deg: float = 0.0, scale: float = 120.0,
              center=(320.0, 300.0), noise: float = 0.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """21 (x, y, z) landmarks of a right hand, palm to the camera, fingers up before ``rotate_deg``."""
    pts = np.zeros((21, 3))
    for name, (bx, by) in _BASES.items():
        base = np.array([bx, by, 0.0])
        pts[_FIRST[name]] = base
        ang = (5, 5, 5) if extended[name] else (80, 95, 60)
        lens = np.array([0.45, 0.28, 0.22]) * _LENGTH[name]
        pts[_FIRST[name] + 1: _FIRST[name] + 4] = _chain(base, (0, -1, 0), lens, ang, (1, 0, 0))
    cmc = np.array([-0.3, -0.3, 0.0])
    pts[1] = cmc
    if extended["thumb"]:
        pts[2:5] = _chain(cmc, (-0.95, -0.3, 0), (0.35, 0.3, 0.25), (3, 5, 5), (0, 0, 1))
    else:
        pts[2:5] = _chain(cmc, (0.6, -0.8, 0), (0.3, 0.25, 0.2), (0, 40, 50), (1, 0.6, 0))
    a = np.radians(rotate_deg)
    rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    pts = pts @ rot.T
    if noise and rng is not None:
        pts = pts + rng.normal(0, noise, pts.shape)
    return pts * scale + np.array([center[0], center[1], 0.0])


def fingers(thumb=False, index=False, middle=False, ring=False, pinky=False) -> dict[str, bool]:
    return {"thumb": thumb, "index": index, "middle": middle, "ring": ring, "pinky": pinky}


# Rotation that turns the extended thumb (direction (-0.95, -0.3)) straight up, and straight down.
THUMB_UP_DEG = float(np.degrees(np.arctan2(-1, 0) - np.arctan2(-0.3, -0.95)))
THUMB_DOWN_DEG = THUMB_UP_DEG + 180.0

GESTURES = {
    "Open_Palm": (fingers(True, True, True, True, True), 0.0),
    "Closed_Fist": (fingers(), 0.0),
    "Pointing_Up": (fingers(index=True), 0.0),
    "Victory": (fingers(index=True, middle=True), 0.0),
    "ILoveYou": (fingers(thumb=True, index=True, pinky=True), 0.0),
    "Thumb_Up": (fingers(thumb=True), THUMB_UP_DEG),
    "Thumb_Down": (fingers(thumb=True), THUMB_DOWN_DEG),
    "None": (fingers(ring=True), 0.0),
}
