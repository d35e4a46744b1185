"""AutoChunk on library models: ``python benchmarks/autochunk_real_models.py [--quick]``.

The same command as ``octopus autochunk-real-models`` (see ``--help`` and
:mod:`octopus.experiments.real_models_bench`); needs ``pip install 'octopus[models]'``. It writes
``real-models.md`` and ``real-models.csv`` into ``--out`` (default ``runs/autochunk``); the
committed report is regenerated with ``--out reports/autochunk`` (the family benchmark's files
there are kept).
"""

from __future__ import annotations

import sys

from octopus.cli.main import main

if __name__ == "__main__":
    sys.argv = ["octopus", "autochunk-real-models", *sys.argv[1:]]
    main()
