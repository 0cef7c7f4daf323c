"""Outgoing HTTP to addresses users give us: timeouts, size caps, and no private addresses.

A URL is refused when its host resolves to a private, loopback, link-local, multicast or reserved
address, unless `OUTBOUND_ALLOW_PRIVATE` is on or the host is in `OUTBOUND_ALLOWED_HOSTS`. The check
happens in the connector's resolver, on the addresses actually connected to, so a name that
resolves to a public address when checked and a private one when used (DNS rebinding) is refused too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from django.conf import settings
from yarl import URL

from apps.core.exceptions import ApplicationError, InvalidInput


class OutboundError(ApplicationError):
    """An outgoing request failed: refused address, timeout, too large, or the peer misbehaved."""

    status_code = 502
    default_message = "The remote server could not be reached."


class BlockedAddress(InvalidInput):
    """The URL points at an address we do not fetch from."""

    default_message = "That URL points to a private or local address, which is not allowed."


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def host_allowed(host: str) -> bool:
    """True when private addresses are allowed for this host (by setting)."""
    return settings.OUTBOUND_ALLOW_PRIVATE or host.lower() in settings.OUTBOUND_ALLOWED_HOSTS


def validate_url(url: str) -> str:
    """Refuse URLs that are not http(s) with a host, before any connection is made."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("The URL must be an http:// or https:// address with a host name.")
    if parts.username or parts.password:
        raise InvalidInput("URLs with credentials in them are not accepted.")
    host = parts.hostname
    try:  # a literal address can be refused at once
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not host_allowed(host) and not _is_public(str(literal)):
        raise BlockedAddress()
    return url


class GuardedResolver(AbstractResolver):
    """Resolves like the system does, then refuses non-public addresses for hosts not allowed."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        infos = await self._loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, family=family)
        results: list[ResolveResult] = []
        for fam, _, proto, _, sockaddr in infos:
            address = str(sockaddr[0])
            if not host_allowed(host) and not _is_public(address):
                raise BlockedAddress()
            results.append(
                ResolveResult(hostname=host, host=address, port=int(sockaddr[1]), family=fam, proto=proto, flags=0)
            )
        if not results:
            raise OutboundError(f"The host {host} could not be resolved.")
        return results

    async def close(self) -> None:
        return None


def guarded_session(*, timeout: float | None = None, **kwargs: Any) -> aiohttp.ClientSession:
    """An aiohttp session whose name lookups obey the address guard; call inside a running loop.

    aiohttp does not resolve literal IPs, so callers check each URL with `validate_url` first and
    do not let the session follow redirects on its own (`fetch_async` shows how).
    """
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(), limit=kwargs.pop("limit", 100))
    client_timeout = aiohttp.ClientTimeout(
        total=timeout or settings.OUTBOUND_TIMEOUT_SECONDS, connect=settings.OUTBOUND_CONNECT_TIMEOUT_SECONDS
    )
    return aiohttp.ClientSession(connector=connector, timeout=client_timeout, **kwargs)


@dataclass
class FetchResult:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str
    content_type: str = field(default="")

    def text(self) -> str:
        charset = "utf-8"
        if "charset=" in self.content_type:
            charset = self.content_type.split("charset=", 1)[1].split(";")[0].strip() or "utf-8"
        return self.body.decode(charset, errors="replace")


MAX_REDIRECTS = 5


async def _read_limited(resp: aiohttp.ClientResponse, limit: int) -> FetchResult:
    declared = resp.content_length
    if declared is not None and declared > limit:
        raise OutboundError(f"The response is larger than the limit of {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise OutboundError(f"The response is larger than the limit of {limit} bytes.")
        chunks.append(chunk)
    return FetchResult(
        status=resp.status,
        headers=dict(resp.headers),
        body=b"".join(chunks),
        url=str(resp.url),
        content_type=resp.headers.get("Content-Type", ""),
    )


async def fetch_async(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> FetchResult:
    """One guarded request (redirects followed and checked); the body is read up to `max_bytes`."""
    limit = max_bytes or settings.OUTBOUND_MAX_BYTES
    try:
        async with guarded_session(timeout=timeout) as session:
            # Redirects are followed here, each target checked: aiohttp skips the resolver for literal IPs.
            for _ in range(MAX_REDIRECTS + 1):
                validate_url(url)
                async with session.request(method, url, headers=headers, data=body, allow_redirects=False) as resp:
                    if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                        url = str(resp.url.join(URL(resp.headers["Location"])))
                        if resp.status == 303 or (resp.status in (301, 302) and method == "POST"):
                            method, body = "GET", None
                        continue
                    return await _read_limited(resp, limit)
            raise OutboundError("Too many redirects.")
    except ApplicationError:
        raise
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.__cause__, BlockedAddress) or isinstance(getattr(exc, "os_error", None), BlockedAddress):
            raise BlockedAddress() from exc
        raise OutboundError(f"Could not connect to {urlsplit(url).hostname}.") from exc
    except TimeoutError as exc:
        raise OutboundError("The remote server did not answer in time.") from exc
    except aiohttp.ClientError as exc:
        raise OutboundError(f"The request failed: {exc.__class__.__name__}.") from exc


def fetch(url: str, **kwargs: Any) -> FetchResult:
    """`fetch_async` for synchronous code (views run in threads, Celery tasks)."""
    return asyncio.run(fetch_async(url, **kwargs))
