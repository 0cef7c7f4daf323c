"""The outbound HTTP helper against a real server on loopback: the address guard, caps and timeouts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from aiohttp import web

from apps.core.exceptions import InvalidInput
from apps.core.outbound import BlockedAddress, OutboundError, fetch, validate_url


@pytest.fixture
def loopback_server() -> Iterator[str]:
    """A small aiohttp server on 127.0.0.1 with a few behaviours."""

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="héllo", content_type="text/plain", charset="utf-8")

    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(64):
            await response.write(b"x" * 1024)
        return response

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.add_routes([web.get("/hello", hello), web.get("/big", big), web.get("/slow", slow), web.get("/go", redirect)])
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.run_until_complete(runner.cleanup())
    loop.close()


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "file:///etc/passwd", "http://", "not a url", "http://user:pw@example.com/"],
)
def test_only_http_urls_with_a_host(url):
    with pytest.raises(InvalidInput):
        validate_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.0.0.8/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ],
)
def test_private_literal_addresses_are_refused(settings, url):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(BlockedAddress):
        validate_url(url)


def test_names_that_resolve_to_loopback_are_refused_at_connect_time(settings, loopback_server):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    port = loopback_server.rsplit(":", 1)[1]
    with pytest.raises(BlockedAddress):
        fetch(f"http://localhost:{port}/hello")


def test_allowed_when_the_setting_says_so(settings, loopback_server):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    result = fetch(f"{loopback_server}/hello")
    assert result.status == 200
    assert result.text() == "héllo"


def test_allowed_hosts_list(settings, loopback_server):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    settings.OUTBOUND_ALLOWED_HOSTS = ["localhost"]
    port = loopback_server.rsplit(":", 1)[1]
    assert fetch(f"http://localhost:{port}/hello").status == 200


def test_a_redirect_to_a_private_address_is_refused(settings, loopback_server):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    settings.OUTBOUND_ALLOWED_HOSTS = ["localhost"]
    port = loopback_server.rsplit(":", 1)[1]
    # localhost is allowed, 127.0.0.1 (where it redirects) is not.
    with pytest.raises(BlockedAddress):
        fetch(f"http://localhost:{port}/go?to=http://127.0.0.1:{port}/hello")


def test_size_cap(settings, loopback_server):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    with pytest.raises(OutboundError, match="larger than the limit"):
        fetch(f"{loopback_server}/big", max_bytes=10_000)
    assert len(fetch(f"{loopback_server}/big", max_bytes=100_000).body) == 64 * 1024


def test_timeout(settings, loopback_server):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    with pytest.raises(OutboundError, match="in time"):
        fetch(f"{loopback_server}/slow", timeout=0.5)


def test_connection_refused(settings):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    with pytest.raises(OutboundError, match="Could not connect"):
        fetch("http://127.0.0.1:1/")


def test_redirects_within_allowed_hosts_are_followed(settings, loopback_server):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    result = fetch(f"{loopback_server}/go?to=/hello")
    assert (result.status, result.text()) == (200, "héllo")
    assert result.url.endswith("/hello")
