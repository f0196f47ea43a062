"""Behind the Ingress and the gateway: which forwarded values an app believes."""

from __future__ import annotations

from flask import Flask, request, url_for

from services.common.web.proxies import behind_proxies, server_options


def app_behind(count: int) -> Flask:
    app = Flask(__name__)

    @app.get("/seen")
    def seen():
        return {
            "client": request.remote_addr,
            "scheme": request.scheme,
            "host": request.host,
            "link": url_for("seen"),
        }

    behind_proxies(app, count)
    return app


# What the gateway passes on behind an Ingress: each chain with the Ingress's entry, then its own.
BEHIND_INGRESS = {
    "X-Forwarded-For": "198.51.100.7, 10.0.0.5",  # the client (as the Ingress saw it), the Ingress pod
    "X-Forwarded-Proto": "https, http",
    "X-Forwarded-Host": "complaints.mall.example, gateway",
    "X-Forwarded-Prefix": "/console",  # the gateway's alone
}


def test_behind_an_ingress_and_the_gateway_the_app_sees_the_client_its_tls_and_the_gateways_prefix():
    seen = app_behind(2).test_client().get("/seen", headers=BEHIND_INGRESS).json

    assert seen == {
        "client": "198.51.100.7",
        "scheme": "https",
        "host": "complaints.mall.example",
        "link": "/console/seen",
    }


def test_a_client_cannot_pass_itself_off_as_another_through_the_headers_it_sends():
    forged = {**BEHIND_INGRESS, "X-Forwarded-For": "203.0.113.1, 198.51.100.7, 10.0.0.5"}

    assert app_behind(2).test_client().get("/seen", headers=forged).json["client"] == "198.51.100.7"


def test_without_trusted_proxies_no_forwarded_header_is_believed():
    seen = app_behind(0).test_client().get("/seen", headers=BEHIND_INGRESS).json

    assert seen["client"] == "127.0.0.1" and seen["scheme"] == "http" and seen["link"] == "/seen"


def test_waitress_leaves_the_forwarded_headers_to_the_app_only_when_proxies_are_trusted():
    assert server_options(2) == {"clear_untrusted_proxy_headers": False}
    assert server_options(0) == {"clear_untrusted_proxy_headers": True}
