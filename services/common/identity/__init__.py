"""Staff identity: roles, scopes, signed bearer tokens and the users who hold them."""

from services.common.identity.model import ROLES, Identity, Role
from services.common.identity.tokens import TokenIssuer

__all__ = ["ROLES", "Identity", "Role", "TokenIssuer"]
