"""Intake: records complaints from every channel and announces them as `complaint.received`."""
