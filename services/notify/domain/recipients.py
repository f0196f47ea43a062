"""Who a request reaches, and on which channel: the customer's wishes, the merchant, the staff.

Pure decisions on the facts notify keeps; the service layer supplies the staff list and the
configured webhooks.
"""

from __future__ import annotations

from services.notify.domain.model import (
    LANGUAGES,
    LETTER_KINDS,
    REPLY_KINDS,
    Audience,
    Channel,
    ComplaintFacts,
    Contact,
    NotSent,
    Recipient,
    StaffMember,
)

# The customer's preferred reply channel -> the channels tried, in order, for what they have given.
# A phone or face-to-face reply is the desk's own work; what notify can send then is an SMS.
_ELECTRONIC_FIRST = (Channel.EMAIL, Channel.SMS, Channel.LETTER)
_PHONE_FIRST = (Channel.SMS, Channel.EMAIL, Channel.LETTER)
PREFERENCE = {
    "email": _ELECTRONIC_FIRST,
    "sms": _PHONE_FIRST,
    "phone": _PHONE_FIRST,
    "on_site": _PHONE_FIRST,
    "letter": _ELECTRONIC_FIRST,  # a letter only when nothing faster is known, except for the reply
}
_ADDRESS_OF = {Channel.EMAIL: "email", Channel.SMS: "phone", Channel.LETTER: "address"}

# Scoped roles reach only those whose floors / departments cover the complaint.
FLOOR_SCOPED = "floor_supervisor"
DEPARTMENT_SCOPED = "department_manager"
# A group robot's address: its key in NOTIFY_ROBOTS, never its URL (the URL holds its secret key).
ROBOT = "robot:"


def customer_recipient(kind: str, complaint: ComplaintFacts) -> Recipient | NotSent:
    """The one channel the customer is told on, or why they are not."""
    contact = complaint.customer
    is_reply = kind in REPLY_KINDS
    if contact.contact_opt_out and not is_reply:
        return NotSent(Audience.CUSTOMER, "opted_out", "the customer asked not to be contacted")
    if contact.preferred_reply_channel == "none" and not is_reply:
        return NotSent(Audience.CUSTOMER, "no_channel", "the customer chose no reply channel")
    for channel in _channels_for(kind, complaint):
        address = getattr(contact, _ADDRESS_OF[channel])
        if address:
            return Recipient(Audience.CUSTOMER, channel, address.strip(), contact.name, _language(contact))
    return NotSent(
        Audience.CUSTOMER, "no_contact", "no contact details to reach the customer", report=is_reply
    )


def _channels_for(kind: str, complaint: ComplaintFacts) -> tuple[Channel, ...]:
    preferred = complaint.customer.preferred_reply_channel or complaint.channel
    if kind in LETTER_KINDS and preferred == "letter":
        return (Channel.LETTER, Channel.EMAIL, Channel.SMS)
    return PREFERENCE.get(preferred, _ELECTRONIC_FIRST)


def _language(contact: Contact) -> str:
    return contact.language if contact.language in LANGUAGES else LANGUAGES[0]


def merchant_recipient(complaint: ComplaintFacts) -> Recipient | NotSent:
    """The merchant's person in charge, by SMS to the shop's phone."""
    merchant = complaint.merchant or {}
    phone = (merchant.get("phone") or "").strip()
    if not phone:
        return NotSent(Audience.MERCHANT, "no_contact", "no merchant phone on the complaint", report=True)
    return Recipient(Audience.MERCHANT, Channel.SMS, phone, merchant.get("person_in_charge"))


def holds(member: StaffMember, queue: str, complaint: ComplaintFacts) -> bool:
    """Whether this staff member works `queue` for this complaint (scope included)."""
    if queue not in member.roles:
        return False
    if queue == FLOOR_SCOPED:
        return complaint.floor is not None and complaint.floor in member.floors
    if queue == DEPARTMENT_SCOPED:
        return complaint.department is not None and complaint.department in member.departments
    return True


def hook_keys(queue: str, complaint: ComplaintFacts) -> list[str]:
    """The keys a staff message is configured for: its queue, and for a scoped role the department or
    the floor the complaint is about (a department's or a floor's own system or group)."""
    keys = [queue]
    if queue == DEPARTMENT_SCOPED and complaint.department:
        keys.append(complaint.department)
    if queue == FLOOR_SCOPED and complaint.floor:
        keys.append(complaint.floor)
    return keys


def staff_recipients(
    queue: str,
    complaint: ComplaintFacts,
    staff: list[StaffMember],
    webhooks: dict[str, str],
    robots: frozenset[str] = frozenset(),
    where: str = "",
) -> list[Recipient] | NotSent:
    """The inbox of everyone holding the queue, the departments' systems and the group robots listening
    for it. `where`: the floor's or department's name, for the desk when nobody is found."""
    found = [
        Recipient(Audience.STAFF, Channel.INBOX, member.username, member.display_name)
        for member in staff
        if holds(member, queue, complaint)
    ]
    keys = hook_keys(queue, complaint)
    found += [
        Recipient(Audience.STAFF, Channel.WEBHOOK, webhooks[key], key) for key in keys if key in webhooks
    ]
    found += [Recipient(Audience.STAFF, Channel.WEBHOOK, ROBOT + key, key) for key in keys if key in robots]
    if not found:
        detail = f"nobody holds {queue} for {where}" if where else f"nobody holds {queue}"
        return NotSent(Audience.STAFF, "no_recipient", detail, report=True)
    return found
