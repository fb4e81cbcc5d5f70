"""The API documentation of every service works offline: /docs and /redoc load nothing from
outside the service, and every asset they name is served by it."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from services.acceptance.main import create_app as create_acceptance
from services.funding.main import create_app as create_funding
from services.intake.main import create_app as create_intake
from services.procurement.main import create_app as create_procurement
from services.review.main import create_app as create_review

SERVICES: dict[str, Callable[[], FastAPI]] = {
    "intake": create_intake,
    "review": create_review,
    "procurement": create_procurement,
    "acceptance": create_acceptance,
    "funding": create_funding,
}
CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
}
URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")


class _References(HTMLParser):
    """The URLs an HTML page loads: src and href of its elements."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in ("src", "href") and value]


def _references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("service", sorted(SERVICES))
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_nothing_from_outside_the_service(service: str, page: str) -> None:
    app = SERVICES[service]()
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        # No absolute URL anywhere in the page, in an attribute or in the inline script.
        assert URL.findall(html) == [], URL.findall(html)
        assets = _references(html)
        assert len(assets) >= 2, html  # the script and the icon at least
        for asset in assets:
            assert asset.startswith("/"), asset
            served = await client.get(asset)
            assert served.status_code == 200, asset
            suffix = asset[asset.rfind(".") :]
            assert served.headers["content-type"].split(";")[0] in CONTENT_TYPES[suffix], served.headers
            assert len(served.content) > 1000, asset
        # The page names the service's own OpenAPI document, which is served.
        assert "/openapi.json" in html
        assert (await client.get("/openapi.json")).status_code == 200


async def test_docs_script_of_swagger_ui_is_the_bundle_and_redoc_the_standalone() -> None:
    app = create_funding()
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        swagger = _references((await client.get("/docs")).text)
        redoc = _references((await client.get("/redoc")).text)
        assert any(a.endswith("swagger-ui-bundle.js") for a in swagger)
        assert any(a.endswith("swagger-ui.css") for a in swagger)
        assert any(a.endswith("redoc.standalone.js") for a in redoc)
        body = (await client.get(next(a for a in swagger if a.endswith(".js")))).text
        assert "SwaggerUIBundle" in body
