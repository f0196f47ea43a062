"""Reporting's commands: `python -m services retention [--dry-run]` and `python -m services rebuild`."""

from __future__ import annotations

from services.common.settings import Settings
from services.reporting.bootstrap import bootstrap
from services.reporting.domain.commands import RebuildReadModel, RunRetention


def retention_command(settings: Settings, dry_run: bool) -> int:
    """Run the retention job once; the erasure requests stay in reporting's outbox for its relay."""
    reporting = bootstrap(settings)
    with reporting.pool:
        result = reporting.bus.handle(RunRetention(dry_run=dry_run))
    if result.skipped:
        print("another retention job is running; nothing done")
        return 1
    verb = "would erase" if dry_run else "erased and asked every service to erase"
    print(
        f"cases closed before {result.closed_before}: {verb} {len(result.cases)} ({result.batches} batch(es))"
    )
    for case in result.cases if dry_run else []:
        print(f"{case['number'] or '-'}\t{case['complaint_id']}\tclosed {case['closed_at']}")
    return 0


def rebuild_command(settings: Settings) -> int:
    """Derive every case again from the stored events (capa.opened, if any, waits in the outbox)."""
    reporting = bootstrap(settings)
    with reporting.pool:
        count = reporting.bus.handle(RebuildReadModel())
    print(f"read model rebuilt: {count} case(s)")
    return 0
