"""The five services as the console reaches them: over HTTP, with the signed-in person's token.

The console keeps no business data: every page is what the services answer to this person. A
service this region did not deploy, one that does not answer, and one that refuses are three
different things a page says plainly (`NotDeployed`, `Unavailable`, `Refused`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from services.console.settings import ConsoleSettings

LABELS = {
    "intake": "申报",
    "review": "评审",
    "procurement": "采购与建设",
    "acceptance": "验收",
    "funding": "资金",
}


class BackendError(Exception):
    def __init__(self, service: str, message: str) -> None:
        super().__init__(message)
        self.service = service
        self.message = message


class NotDeployed(BackendError):
    def __init__(self, service: str) -> None:
        super().__init__(service, f"本地区未部署{LABELS[service]}服务（{service}）")


class Unavailable(BackendError):
    def __init__(self, service: str, why: str) -> None:
        super().__init__(service, f"{LABELS[service]}服务（{service}）暂时无法访问：{why}。请稍后再试。")


class Refused(BackendError):
    """The service answered with a problem: its status, code, title, detail and reasons (articles)."""

    def __init__(self, service: str, status: int, problem: dict[str, Any]) -> None:
        super().__init__(service, problem.get("title") or f"请求被拒绝（{status}）")
        self.status = status
        self.problem = problem

    @property
    def reasons(self) -> list[dict[str, Any]]:
        return list(self.problem.get("reasons") or [])

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.problem.get("errors") or [])


class Backends:
    """One pooled HTTP client for the five services."""

    def __init__(
        self,
        settings: ConsoleSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        observe: Callable[[str, str, float], None] = lambda service, outcome, seconds: None,
    ) -> None:
        """`observe(service, outcome, seconds)` is told of every call (the console's metrics)."""
        self.settings = settings
        self.client = httpx.AsyncClient(timeout=settings.timeout_seconds, transport=transport)
        self.observe = observe

    def deployed(self, service: str) -> bool:
        return self.settings.url(service) is not None

    async def close(self) -> None:
        await self.client.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        token: str,
        **kwargs: Any,
    ) -> httpx.Response:
        request = self._request(service, method, path, token, **kwargs)
        response = await self._send(service, request, stream=False)
        return response

    async def open(self, service: str, path: str, token: str, headers: dict[str, str]) -> httpx.Response:
        """A GET whose body is read as it is passed on (a file): the caller closes the response."""
        return await self._send(
            service, self._request(service, "GET", path, token, headers=headers), stream=True
        )

    def _request(self, service: str, method: str, path: str, token: str, **kwargs: Any) -> httpx.Request:
        base = self.settings.url(service)
        if base is None:
            raise NotDeployed(service)
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return self.client.build_request(method, base + path, headers=headers, **kwargs)

    async def _send(self, service: str, request: httpx.Request, *, stream: bool) -> httpx.Response:
        start = time.perf_counter()
        outcome = "unavailable"
        try:
            response = await self._answer(service, request, stream=stream)
            outcome = "ok"
            return response
        except Refused:
            outcome = "refused"
            raise
        finally:
            self.observe(service, outcome, time.perf_counter() - start)

    async def _answer(self, service: str, request: httpx.Request, *, stream: bool) -> httpx.Response:
        try:
            response = await self.client.send(request, stream=stream)
        except httpx.TimeoutException:
            raise Unavailable(service, "等待应答超时") from None
        except httpx.HTTPError as exc:
            where = f"{request.url.scheme}://{request.url.netloc.decode()}"
            raise Unavailable(service, f"无法连接 {where}（{type(exc).__name__}）") from None
        if response.status_code < 400:
            return response
        if stream:
            await response.aread()
            await response.aclose()
        if response.status_code >= 500:
            raise Unavailable(service, f"服务出错（{response.status_code}）")
        is_json = "json" in response.headers.get("content-type", "")
        raise Refused(service, response.status_code, response.json() if is_json else {})

    async def get(self, service: str, path: str, token: str, **params: Any) -> Any:
        given = {k: v for k, v in params.items() if v not in (None, "")}
        return (await self.call(service, "GET", path, token, params=given)).json()
