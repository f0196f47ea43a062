"""``python -m services.reporting`` runs reporting alone (for containers); see ``python -m services``."""

from services.runner.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["serve", "reporting"]))
