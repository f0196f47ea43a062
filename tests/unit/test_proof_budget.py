"""The proof's time budget is the CPU its process spends, so a diagram proves the same on a busy
server as on a quiet one; the wall clock only bounds the designer's wait, at twice the budget."""

from __future__ import annotations

from services.routing.engine import proof


class Clocks:
    def __init__(self, monkeypatch):
        self.cpu, self.wall = 100.0, 5000.0
        monkeypatch.setattr(proof.time, "process_time", lambda: self.cpu)
        monkeypatch.setattr(proof.time, "monotonic", lambda: self.wall)


def test_waiting_for_the_cpu_on_a_busy_machine_spends_no_budget(monkeypatch):
    clocks = Clocks(monkeypatch)
    budget = proof._Budget(30)

    clocks.wall += 50  # other processes had the cores: the proof got little of them
    clocks.cpu += 20

    assert not budget.spent()


def test_the_budget_is_spent_by_the_proofs_own_cpu_time(monkeypatch):
    clocks = Clocks(monkeypatch)
    budget = proof._Budget(30)

    clocks.wall += 31
    clocks.cpu += 30.5

    assert budget.spent()


def test_a_designer_waits_at_most_twice_the_budget_however_busy_the_machine(monkeypatch):
    clocks = Clocks(monkeypatch)
    budget = proof._Budget(30)

    clocks.wall += 60.5
    clocks.cpu += 5

    assert budget.spent()
