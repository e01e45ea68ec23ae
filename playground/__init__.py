"""The app layer: what the Gradio page and the API need beyond the zoo and the tasks.

``offers`` (which models a session may run), ``limits`` (jobs per visitor, the app's own temporary files),
``components`` (image input and output components that keep decoding and file writing in the app's hands).
"""
from __future__ import annotations

import models  # noqa: E402,F401 - every model family registers its entries (no model loads)

