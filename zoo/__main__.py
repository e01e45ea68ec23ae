"""``python -m zoo``: the zoo's command line, which lives in the app layer (it runs models on tasks); this
is the one place in ``zoo`` that calls up into it (.importlinter allows exactly this arrow)."""
from playground.cli import main

raise SystemExit(main())
