"""Routing's use cases: deploy diagrams, start cases, complete tasks, fire timers."""
