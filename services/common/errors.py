"""The exceptions every service shares; adapters translate library errors into these."""


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""


class ConfigurationError(ServiceError):
    """A setting is missing or has a bad value; the message names it."""


class NotFound(ServiceError):
    """The thing asked for does not exist (or is outside the caller's scope)."""


class Conflict(ServiceError):
    """The request clashes with the current state of the thing it names."""


class InvalidInput(ServiceError):
    """Input failed a rule the schema cannot express; `fields` maps field name to messages.

    `location` says where the fields came from: the body (`json`) or the query string (`query`).
    `names` names the codes the messages quote (a task form's fields and options) in each language
    (code -> language -> name), for a reader of another language than the codes'.
    """

    def __init__(
        self,
        message: str,
        fields: dict[str, list[str]] | None = None,
        location: str = "json",
        names: dict[str, dict[str, str]] | None = None,
    ):
        super().__init__(message)
        self.fields = fields or {}
        self.location = location
        self.names = names or {}


class TooLarge(InvalidInput):
    """An uploaded file is larger than the limit; `fields` names it."""


class Unauthorized(ServiceError):
    """No valid credentials were presented."""


class Forbidden(ServiceError):
    """The caller is known but its roles or scopes do not allow the action."""


class Unavailable(ServiceError):
    """A backing server (database, broker) does not answer right now."""
