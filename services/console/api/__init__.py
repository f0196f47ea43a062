"""The console's HTTP API (bearer tokens, OpenAPI): staff users, roles, scopes; service tokens."""
