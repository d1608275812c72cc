"""Which storage endpoints a shared server lets datastores point at.

A datastore's custom endpoint is a URL the server will connect to with the workspace's credentials, so on
a shared server it must not reach the cloud metadata service (169.254.169.254) or other internal
services. Every address the endpoint's host resolves to must be public, or be allowed by the
``allowed`` list (host names, addresses or CIDR networks, e.g. ``127.0.0.1``, ``10.0.0.0/8``,
``minio.internal``). Link-local addresses (the metadata service) are refused unless listed exactly.
An embedded workspace has no policy: its user can already reach whatever their own machine can.

The check resolves the name when the datastore is registered and again whenever access to it is
built; a DNS answer that changes between that check and the connection is not caught.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from ember.errors import InvalidInput

__all__ = ["EndpointPolicy"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class EndpointPolicy:
    """Refuses endpoints whose host resolves to non-public addresses not on the allow-list."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.hosts: set[str] = set()
        self.networks: list[Network] = []
        for raw in allowed:
            item = raw.strip().lower()
            if not item:
                continue
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self.hosts.add(item)

    @classmethod
    def from_setting(cls, setting: str | None) -> EndpointPolicy:
        """A policy from a comma-separated setting such as ``$EMBER_DATASTORE_ALLOWED_HOSTS``."""
        return cls((setting or "").split(","))

    def check(self, endpoint: str) -> None:
        """Raise ``InvalidInput`` unless the endpoint URL may be used."""
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(f"a datastore endpoint is an http(s) URL with a host, not {endpoint!r}")
        host = parts.hostname.lower()
        if host in self.hosts:
            return
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            raise InvalidInput(f"the datastore endpoint's host {host!r} does not resolve: {exc}") from exc
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if any(address in net for net in self.networks):
                continue
            if address.is_global and not address.is_link_local:
                continue
            raise InvalidInput(
                f"the datastore endpoint {host!r} resolves to {address}, which this server does not allow "
                "(internal, loopback or link-local addresses, such as the cloud metadata service, are "
                "refused); an administrator can allow it with $EMBER_DATASTORE_ALLOWED_HOSTS"
            )
