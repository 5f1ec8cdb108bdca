"""Where a webhook may send: http(s) URLs whose host resolves only to public addresses (SSRF defence).

Checked when a webhook is created and again before every delivery attempt, since DNS answers change;
the attempt then connects to the very address that was checked (delivery.py), so a name that resolves
to a public address for the check and to an internal one a moment later still reaches only the first.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

# A resolver that does not answer within this is as good as one that says the name does not exist.
RESOLVE_TIMEOUT_SECONDS = 5.0


class TargetRefused(ValueError):
    """The URL is not a target webhooks may be sent to; the message says why, without echoing it."""


@dataclass(frozen=True)
class Target:
    url: SplitResult
    host: str
    port: int


def parse_target(url: str) -> Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("only http and https URLs can receive webhooks")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("credentials in the URL are not allowed: the signature authenticates deliveries")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.fragment:
        raise TargetRefused("a fragment (#...) is never sent: remove it")
    return Target(url=parts, host=parts.hostname, port=port or (443 if parts.scheme == "https" else 80))


def _internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global  # shared address space (100.64/10) and other special ranges
    )


async def resolve_target(target: Target, *, allow_private: bool) -> list[str]:
    """The addresses the target's host resolves to, all of which must be public unless `allow_private`."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError):
        raise TargetRefused("the host does not resolve") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise TargetRefused("the host does not resolve")
    if not allow_private and any(_internal(ipaddress.ip_address(a.split("%")[0])) for a in addresses):
        raise TargetRefused("the host resolves to a loopback, private, link-local or otherwise internal address")
    return addresses
