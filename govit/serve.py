"""`python -m govit.serve SERVICE`: one service in this process (what `govit serve` and a container
run), importing only what the service runs: no CLI, demo or test libraries in its memory.

`govit serve` hands its process over to this module (exec), so a service started either way is
the same process with the same PID.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from shared.settings import ServiceSettings

SERVICES: tuple[str, ...] = ("intake", "review", "procurement", "acceptance", "funding")
#: what `govit serve` runs: the five, and the console (web pages over them; no database, no stream)
RUNNABLE: tuple[str, ...] = (*SERVICES, "console")


def service_module(name: str) -> Any:
    """A service's main module, imported by name (govit is the one package that imports services)."""
    if name not in RUNNABLE:
        raise ValueError(f"unknown service {name!r}; choose from {', '.join(RUNNABLE)}")
    return importlib.import_module(f"services.{name}.main")


def service_settings(name: str) -> ServiceSettings:
    module = importlib.import_module(f"services.{name}.settings")
    cls = next(v for k, v in vars(module).items() if k.endswith("Settings") and k != "ServiceSettings")
    settings: ServiceSettings = cls()
    return settings


def without_unused_crypto(settings: ServiceSettings) -> None:
    """A service that verifies its tokens with the shared secret (HS256, GOVIT_JWKS_URL unset) never
    needs asymmetric keys: PyJWT is imported here with `cryptography` out of its sight, so that it
    does not load it (8 MiB of every process) to offer RS256 and ES256. What imports `cryptography`
    later (SM3 audit entries, through snowland-smx) gets it. Call before anything imports jwt."""
    if settings.jwks_url is not None or "jwt" in sys.modules or "cryptography" in sys.modules:
        return
    sys.modules["cryptography"] = None  # type: ignore[assignment]  # import: not found
    try:
        import jwt  # noqa: F401  # HS256 only
    finally:
        del sys.modules["cryptography"]


def run(service: str, host: str | None = None, port: int | None = None) -> None:
    """Run one service until it is stopped (SIGTERM or SIGINT: a graceful shutdown)."""
    settings = service_settings(service)
    without_unused_crypto(settings)

    import uvicorn

    from shared.clock import file_clock

    module = service_module(service)
    if settings.nats_url is None:
        settings = settings.model_copy(update={"nats_url": "nats://127.0.0.1:4222"})
    clock = {"clock": file_clock(settings.clock_file)} if settings.clock_file else {}
    application = module.create_app(settings, **clock)
    logging: dict[str, Any] = {}
    if settings.log_format == "json":
        from shared.logs import uvicorn_config

        logging["log_config"] = uvicorn_config(service, settings.log_level, settings.log_format)
    uvicorn.run(
        application,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=15,
        proxy_headers=True,
        **logging,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="govit serve", description="Run one service (what a container runs)."
    )
    parser.add_argument("service", choices=RUNNABLE)
    parser.add_argument("--host", help="listen address (default GOVIT_HOST)")
    parser.add_argument("--port", type=int, help="listen port (default the service's)")
    args = parser.parse_args(argv)
    run(args.service, args.host, args.port)


if __name__ == "__main__":
    main()
