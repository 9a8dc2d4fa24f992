"""`python -m pytest_ftdata why TEXT [PATH]` (the same as the `ftdata` console script)."""

from .cli import main

if __name__ == "__main__":  # a tool that imports every module must not run the command
    raise SystemExit(main())
