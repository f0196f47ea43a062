"""A delivery worker told to stop in the middle of its batch: it finishes the message it is sending and
hands back the ones it had claimed but not begun, so another worker sends each of them once."""

from __future__ import annotations

from tests.integration.notify.conftest import attempts, complaint_received, deliveries, requested


class StopsWorkerWhileSending:
    """The e-mail channel, with SIGTERM arriving while its first message is being sent."""

    def __init__(self, channel, worker):
        self.channel, self.worker, self.sent = channel, worker, 0

    def send(self, message):
        if self.sent == 0:
            self.worker.stop()
        self.sent += 1
        return self.channel.send(message)

    def close(self):
        self.channel.close()


def test_a_stopping_worker_sends_the_message_in_hand_and_hands_back_the_rest_for_another(
    notify, deliver, mail
):
    complaints = [
        complaint_received(
            customer={"email": f"c{n}@example.com", "preferred_reply_channel": "email"},
            number=f"TS-20261122-000{n}",
        )
        for n in range(3)
    ]
    for complaint in complaints:
        deliver(complaint)
        deliver(requested(complaint.complaint_id, number=complaint.payload["number"]))
    stopping = notify.worker()
    stopping.channels["email"] = StopsWorkerWhileSending(stopping.channels["email"], stopping)

    assert stopping.tick() == 3  # it had claimed all three
    rows = [row for complaint in complaints for row in deliveries(notify, complaint.complaint_id)]
    assert len(mail.received) == 1
    assert sorted(row["state"] for row in rows) == ["pending", "pending", "sent"]
    handed_back = [row for row in rows if row["state"] == "pending"]
    assert all(row["attempts"] == 0 and attempts(notify, row["id"]) == [] for row in handed_back)

    assert notify.worker().tick() == 2  # due at once: the next worker takes them
    assert sorted(len(mail.to(f"c{n}@example.com")) for n in range(3)) == [1, 1, 1]
