"""`python -m pytest_ftdata why TEXT [PATH]` (the same as the `ftdata` console script)."""

from .cli import main

raise SystemExit(main())
