"""The rules for the customer's contact details at intake: what each channel and reply channel
needs, and what an anonymous note keeps."""

from __future__ import annotations

from services.intake.domain.field_errors import FieldErrors, any_unread, merged
from services.intake.domain.model import Channel, Complaint, Customer, ReplyChannel

# Channels where the desk talks to the customer and must be able to call back.
PHONE_REQUIRED_CHANNELS = {Channel.PHONE, Channel.ON_SITE, Channel.WEB}
ANONYMOUS_CHANNELS = {Channel.SUGGESTION_BOX}


def default_reply_channel(channel: Channel, phone: str | None, email: str | None) -> ReplyChannel:
    """Reply the way the complaint came in (PROCESS.md step 6) when the customer did not choose."""
    if channel is Channel.EMAIL:
        return ReplyChannel.EMAIL
    if channel is Channel.LETTER:
        return ReplyChannel.LETTER
    if phone:
        return ReplyChannel.PHONE
    return ReplyChannel.EMAIL if email else ReplyChannel.NONE


def check_customer(complaint: Complaint, unread: frozenset[str] = frozenset()) -> FieldErrors:
    """Per-channel completeness of the customer's contact details.

    `unread` names the fields the request gave but could not be read (the schema refused them):
    what they hold is unknown, so no rule that depends on them is judged.
    """
    customer = complaint.customer
    if any_unread(unread, "customer.anonymous"):
        return {}
    if customer.anonymous:
        if any_unread(unread, "channel") or complaint.channel in ANONYMOUS_CHANNELS:
            return {}
        return {"customer.anonymous": ["only a suggestion-box complaint can be anonymous"]}
    errors: FieldErrors = {}
    if not any_unread(unread, "channel"):
        errors = _channel_contact(complaint)
    if not any_unread(unread, "customer.preferred_reply_channel"):
        errors = merged(errors, _reply_contact(customer))
    return errors


# An anonymous note keeps no one's name and no number to call back; an e-mail or address left for a
# written reply is kept, and the reply goes there (the diagram's reply_written).
ANONYMOUS_LACKS = ("name", "phone")


def check_anonymous(complaint: Complaint, unread: frozenset[str] = frozenset()) -> FieldErrors:
    """A name or a phone ticked anonymous is a slip one way or the other: a name makes the note not
    anonymous, and a phone would be answered and called back, which an anonymous note is not (the
    monthly callback list leaves it out). Refused, so the desk clears one of them, not kept both.

    Judged when a complaint is recorded only: a correction may later add the contact of a note's
    author who came forward, and the case then answers them (routing's corrections).
    """
    customer = complaint.customer
    if not customer.anonymous or any_unread(unread, "customer.anonymous"):
        return {}
    if complaint.channel not in ANONYMOUS_CHANNELS:
        return {}  # check_customer refuses the tick itself
    return {
        f"customer.{name}": ["an anonymous complaint keeps no name or phone: clear it, or untick anonymous"]
        for name in ANONYMOUS_LACKS
        if getattr(customer, name)
    }


def _channel_contact(complaint: Complaint) -> FieldErrors:
    """The contact the complaint's channel needs for the desk to answer at all."""
    customer = complaint.customer
    if complaint.channel in PHONE_REQUIRED_CHANNELS and not customer.phone:
        return {"customer.phone": [f"a phone number is required for a {complaint.channel} complaint"]}
    if complaint.channel is Channel.EMAIL and not customer.email:
        return {"customer.email": ["an email address is required for an email complaint"]}
    return {}


def _reply_contact(customer: Customer) -> FieldErrors:
    """The contact the reply channel the customer chose needs."""
    reply = customer.preferred_reply_channel
    needed = {
        ReplyChannel.EMAIL: ("email", customer.email),
        ReplyChannel.LETTER: ("address", customer.address),
        ReplyChannel.PHONE: ("phone", customer.phone),
        ReplyChannel.SMS: ("phone", customer.phone),
    }
    if reply in needed and not needed[reply][1]:
        return {f"customer.{needed[reply][0]}": [f"required to reply by {reply}"]}
    return {}
