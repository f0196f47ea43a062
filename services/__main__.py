"""``python -m services``: see services/runner/cli.py."""

import sys

from services.runner.cli import main


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
