"""The model zoo's families: one module per model family, each with everything about its models.

A family's module holds its entries as data (id, files with pinned revisions or hashes, input size, labels),
its reference thresholds with where they come from (``zoo.specs.Thresholds``), and its preprocess / postprocess
(a ``tasks.base.Pipeline``; the runtime that only loads and runs is named by the entry). It registers its
entries when imported (``zoo.registry.register_models``). Importing this package imports every family, then
checks every entry against its task (``tasks.check_spec``): a missing runtime, an option nobody reads or a
threshold out of range fails here, at import.

Adding a model: one module in this folder and its import below (README: "Add a model").
"""
from __future__ import annotations

import tasks
from models import (blazeface, blazepose, facemesh, haar, hand_crop, hf_segmentation,  # noqa: F401 - each registers
                    mediapipe_hands, movenet, posenet, pphumanseg, selfie, vitpose, yunet)
from zoo.registry import registered


def check_registry() -> None:
    for spec in registered():
        tasks.check_spec(spec)


check_registry()
