"""A routing process started: its sandbox processes are started and have parsed the active diagram
before the first step needs them (Routing.warm_up, run by the runner in the background)."""

from __future__ import annotations

from tests.integration.routing.conftest import deploy


def test_warm_up_starts_every_sandbox_process_with_the_active_diagram_parsed(routing):
    routing.warm_up()  # nothing deployed yet: nothing to prepare, and no error

    version = deploy(routing)
    routing.warm_up()

    sandbox = routing.context.sandbox
    with routing.reading() as uow:
        active = uow.processes.active(routing.settings.mall_id, routing.context.process_key)
        source = routing.context.diagrams.source(active.id, uow.processes.get)
    assert active.id == version.id
    assert len(sandbox._idle) == sandbox.processes
    assert all(source.key in child.known for child in sandbox._idle)
