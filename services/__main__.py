"""``python -m services``: see services/cli.py."""

import sys

from services.cli import main


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
