"""API documentation pages that work without the internet (政务外网, offline): Swagger UI at /docs
and ReDoc at /redoc, their scripts, style sheet and icon served by the service itself.

The assets are those the fastapi-offline package ships (swagger-ui-dist's bundle and CSS,
redoc's standalone bundle, a favicon); they are served from its directory as static files,
read from disk per request, nothing loaded at start. The package itself is not imported.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS = "/docs"
REDOC = "/redoc"
ASSETS = "/docs-assets"


def assets_dir() -> Path:
    """The directory of fastapi-offline's static files, found without importing the package."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("fastapi-offline is not installed: the API documentation has no assets")
    return Path(spec.origin).parent / "static"


def install(app: FastAPI) -> None:
    """Serve /docs, /redoc and their assets in place of FastAPI's own pages (which load a CDN's)."""
    theirs = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) not in theirs]
    app.docs_url = app.redoc_url = app.swagger_ui_oauth2_redirect_url = None
    app.mount(ASSETS, StaticFiles(directory=assets_dir()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    # Plain routes, as FastAPI adds its own pages: public, outside the OpenAPI and the API routes.
    async def get_swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} — 接口文档",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            oauth2_redirect_url=None,
            # No call to the public validator (validator.swagger.io) from the browser.
            swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
        )

    async def get_redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} — 接口文档",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    app.add_route(DOCS, get_swagger_ui, include_in_schema=False)
    app.add_route(REDOC, get_redoc, include_in_schema=False)
