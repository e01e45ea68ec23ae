"""The tasks: result types, pre/post-processing, drawing and agreement, one module per task.

Each task module registers its :class:`~tasks.base.TaskDef` (``register_task``); importing this package
registers the five tasks (and the runtimes the gesture lab brings). The models themselves are in ``models``,
one module per family, checked against their task when that package is imported. Adding a task is one module
and its import below.
"""
from __future__ import annotations

from tasks.base import TASKS, TaskDef, check_spec, hub_spec, infer, register_task, spec_for_card  # noqa: F401
from tasks import face, hands, pose, gesture, segmentation  # noqa: E402,F401 - each registers itself
from tasks import gesture_lab  # noqa: E402,F401 - registers the trained-head and hand-crop runtimes
