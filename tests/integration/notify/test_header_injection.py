"""CR/LF in what a customer typed never becomes a header of the e-mail sent to them.

A name is free text at the desk and on the web form; it ends up in the To header (and a mall's own
template may put it, or anything else from the complaint, in the Subject). A line break in it must
neither add a header (Bcc: someone else) nor stop the message: the customer is still answered,
at the address they gave and nowhere else.
"""

from __future__ import annotations

import pytest

from services.notify.adapters.channels import OutgoingMessage, PermanentFailure
from services.notify.adapters.channels.email import as_smtp_bytes, build_email
from tests.integration.notify.conftest import complaint_received, deliveries, requested

INJECTED = [
    "Wang\r\nBcc: evil@example.com",  # ASCII: formataddr leaves it as is
    "王女士\r\nBcc: evil@example.com",  # non-ASCII: encoded, the line break hidden inside the word
    "Wang\nBcc: evil@example.com",
    "Wang\rBcc: evil@example.com",
    "Wang\x0b\x0c\u2028\u0085Bcc: evil@example.com",  # other line breaks Unicode knows
]


@pytest.mark.parametrize("name", INJECTED)
def test_a_line_break_in_the_customers_name_adds_no_header_and_the_mail_still_goes(
    notify, deliver, worker, mail, name
):
    complaint = complaint_received(
        customer={"name": name, "email": "wang@example.com", "preferred_reply_channel": "email"}
    )
    deliver(complaint)
    deliver(requested(complaint.complaint_id))

    worker.tick()

    [row] = deliveries(notify, complaint.complaint_id)
    assert row["state"] == "sent", row
    [received] = mail.received
    assert received.rcpt_tos == ["wang@example.com"]
    assert received.message["Bcc"] is None
    assert received.message["To"].addresses[0].addr_spec == "wang@example.com"
    assert "Bcc: evil@example.com" in received.message["To"].addresses[0].display_name


def _message(**changes) -> OutgoingMessage:
    fields = dict(
        delivery_id="d",
        complaint_id="c",
        mall_id="demo",
        number="TS-20261122-0001",
        kind="k",
        audience="customer",
        channel="email",
        address="wang@example.com",
        recipient_name="Wang",
        language="en",
        subject="Your complaint",
        text="text",
        html=None,
        sms=None,
        message_id="<d@galaxy.example>",
    )
    return OutgoingMessage(**{**fields, **changes})


@pytest.mark.parametrize("subject", ["Hello\r\nBcc: evil@example.com", "您好\r\nBcc: evil@example.com"])
def test_a_line_break_in_the_subject_stays_inside_the_subject(subject):
    sent = as_smtp_bytes(build_email(_message(subject=subject), "complaints@galaxy.example", "Galaxy"))

    headers = sent.split(b"\r\n\r\n", 1)[0]
    assert not any(line.lower().startswith(b"bcc:") for line in headers.split(b"\r\n"))


@pytest.mark.parametrize(
    "address", ["wang@example.com\r\nBcc: evil@example.com", "wang@example.com>, evil@x.com"]
)
def test_an_address_with_a_line_break_or_a_second_address_is_refused_for_good(address):
    with pytest.raises(PermanentFailure, match="address"):
        build_email(_message(address=address), "complaints@galaxy.example", "Galaxy")
