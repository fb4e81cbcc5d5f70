"""Signing in to the console with an identity provider: OpenID Connect, authorization code with
PKCE, against a real provider (panva/oidc-provider, tests/oidc) on loopback.

The provider issues the suite's access token (a JWT for audience "govit" naming role, agency and
jurisdiction); the console checks it as the services do and sends it to them, and intake, which
trusts only the provider's keys here, answers the person with it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from govit.devnats import free_ports
from tests.e2e.conftest import Suite, running_suite
from tests.servers import IN_CI

pytestmark = [pytest.mark.browser, pytest.mark.services("intake")]

IDP = Path(__file__).resolve().parents[1] / "oidc"
ACCOUNTS = {
    "clerk": {"name": "王经办", "role": "applicant", "agency": "区民政局", "jurisdiction": "xunyang"},
    "stranger": {"name": "无角色", "role": "nobody", "jurisdiction": "xunyang"},
}


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    idp, console = free_ports(2)
    return {"idp": idp, "console": console}


@pytest.fixture(scope="module")
def identity_provider(ports: dict[str, int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    node = shutil.which("node")
    if node is None or not (IDP / "node_modules" / "oidc-provider").is_dir():
        why = "Node.js and tests/oidc/node_modules (make test runs npm ci there) are needed"
        if IN_CI:
            pytest.fail(f"the OIDC provider cannot run under CI=true: {why}", pytrace=False)
        pytest.skip(why)
    redirect = f"http://127.0.0.1:{ports['console']}/signin/callback"
    log = tmp_path_factory.mktemp("idp") / "provider.log"  # its development-only warnings
    with log.open("w") as warnings:
        proc = subprocess.Popen(
            [node, "provider.mjs", str(ports["idp"]), redirect, "console-secret", json.dumps(ACCOUNTS)],
            cwd=IDP,
            stdout=subprocess.PIPE,
            stderr=warnings,
            text=True,
        )
    try:
        line = proc.stdout.readline() if proc.stdout else ""  # "ready <issuer>", or "" if it exited
        assert line.startswith("ready "), f"the provider did not start: {log.read_text()}"
        yield line.split()[1]
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
async def suite(
    nats_url: str, tmp_path_factory: pytest.TempPathFactory, identity_provider: str, ports: dict[str, int]
) -> AsyncIterator[Suite]:
    issuer = identity_provider
    trust_the_provider = {
        "GOVIT_JWKS_URL": f"{issuer}/jwks",
        "GOVIT_JWT_ISSUER": issuer,
        "GOVIT_JWT_AUDIENCE": "govit",
        "GOVIT_CONSOLE_OIDC_ISSUER": issuer,
        "GOVIT_CONSOLE_OIDC_CLIENT_ID": "govit-console",
        "GOVIT_CONSOLE_OIDC_CLIENT_SECRET": "console-secret",
        "GOVIT_CONSOLE_OIDC_RESOURCE": "urn:govit:api",
        "GOVIT_CONSOLE_SERVICES": "intake",
        "GOVIT_CONSOLE_PORT": str(ports["console"]),
    }
    async with running_suite(
        "sqlite",
        nats_url,
        None,
        tmp_path_factory,
        ("intake", "console"),
        extra_env=trust_the_provider,
    ) as s:
        yield s


async def test_a_person_signs_in_at_the_identity_provider_and_the_services_take_the_token(
    suite: Suite, page: Page
) -> None:
    console = suite.urls["console"]
    await page.goto(f"{console}/projects?q=平台")  # a page asked for before signing in
    await page.get_by_role("link", name="使用统一身份认证登录").click()
    await page.wait_for_url("**/interaction/**")  # the provider's own login page
    await page.locator("input[name=login]").fill("clerk")
    await page.locator("input[name=password]").fill("any")
    await page.locator("button[type=submit]").click()
    await page.wait_for_url(f"{console}/projects?q=*")  # back where the person was going
    await expect(page.get_by_text("王经办（建设单位 · 区民政局 · 九江市浔阳区）")).to_be_visible()
    # intake answered the provider's token: an empty list, not a refusal
    await expect(page.get_by_text("没有名称或编号含“平台”的项目。")).to_be_visible()


async def test_a_token_the_services_would_refuse_makes_no_session(suite: Suite, page: Page) -> None:
    console = suite.urls["console"]
    await page.goto(f"{console}/signin")
    await page.get_by_role("link", name="使用统一身份认证登录").click()
    await page.locator("input[name=login]").fill("stranger")  # a role the suite does not know
    await page.locator("input[name=password]").fill("any")
    await page.locator("button[type=submit]").click()
    await expect(page.get_by_role("heading", name="统一身份认证未能登录")).to_be_visible()
    await page.goto(f"{console}/projects")
    await page.wait_for_url("**/signin?after=**")  # not signed in
