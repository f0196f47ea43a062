"""Behind the gateway (and perhaps a load balancer in front of it): who the client is, and where.

TRUSTED_PROXIES counts the proxies that append to X-Forwarded-For, -Proto and -Host (the gateway,
plus a TLS-terminating load balancer or Ingress when there is one), so the client's address, scheme
and host name are read that many entries from the right, and what a client wrote there itself is
never believed. X-Forwarded-Prefix is different: only the gateway sets it (`/intake`, `/console`:
the part of the path it took off), and it replaces whatever came in, so exactly one value is
trusted whatever the count.

waitress, left to itself, deletes every X-Forwarded-* header before the app sees it (it trusts no
proxy unless told which): `server_options` tells it to leave them to ProxyFix when proxies are
trusted, so the per-client rate limits (the public form's, the console's login) count clients,
not the gateway.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def behind_proxies(app: Flask, count: int) -> None:
    """Read the client's address, scheme, host and the gateway's prefix from `count` proxies."""
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_prefix=1)


def server_options(trusted_proxies: int) -> dict:
    """waitress's settings for the proxy headers: kept for ProxyFix behind proxies, deleted otherwise."""
    return {"clear_untrusted_proxy_headers": not trusted_proxies}
