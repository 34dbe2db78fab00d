"""Which network addresses a webhook may reach (server-side request forgery guard).

By default only public unicast addresses: loopback, link-local (cloud metadata at
169.254.169.254), private, shared (100.64/10), multicast, reserved and unspecified ones
are refused, as are IPv4 addresses mapped into IPv6. A deployment (or a test) lists the
networks it does want reachable in ``CASEMGMT_WEBHOOK_ALLOWED_NETWORKS``.

The policy is applied twice: to a literal address in the URL when a subscription is
created (``refusal``), and, decisively, by the webhook sender to every address a host
name resolves to at connect time (the connection goes to the address checked, so a DNS
answer that changes between check and connect cannot slip through).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

__all__ = ["Address", "TargetPolicy"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetPolicy:
    """Public unicast addresses, plus the ``allowed`` networks."""

    def __init__(self, allowed: Iterable[Network] = ()) -> None:
        self.allowed = tuple(allowed)

    @classmethod
    def parse(cls, networks: str) -> TargetPolicy:
        """From comma-separated CIDRs (``ValueError`` naming a bad one); empty: none."""
        parsed: list[Network] = []
        for item in filter(None, (part.strip() for part in networks.split(","))):
            try:
                parsed.append(ipaddress.ip_network(item, strict=False))
            except ValueError as exc:
                raise ValueError(f"CASEMGMT_WEBHOOK_ALLOWED_NETWORKS: {item!r}: {exc}") from exc
        return cls(parsed)

    def allows(self, address: Address) -> bool:
        """Whether a webhook may connect to ``address``."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.allowed):
            return True
        return address.is_global and not (address.is_multicast or address.is_reserved)

    def refusal(self, host: str) -> str | None:
        """Why a URL naming ``host`` is refused outright (a literal address in any of its
        spellings, ``2130706433`` and ``0x7f.1`` included), or None. Names are resolved
        and checked at connect time, not here."""
        address = literal_address(host)
        if address is not None and not self.allows(address):
            return f"{host} is not a public address (see CASEMGMT_WEBHOOK_ALLOWED_NETWORKS)"
        return None


def literal_address(host: str) -> Address | None:
    """``host`` as an address if it spells one (no DNS lookup), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:  # the legacy IPv4 forms a resolver accepts: 2130706433, 0x7f000001, 127.1
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, UnicodeEncodeError):
        return None
