"""A system subscribing to govit's lifecycle events, as another government system would.

A durable JetStream pull consumer filtered to one jurisdiction (or one project), explicit
acks, and deduplication by the CloudEvent `id` (redeliveries and republished copies carry
the same id). Needs only nats-py; the events are CloudEvents 1.0 in structured JSON.

    python examples/subscriber.py --jurisdiction shexian --durable my-system
    python examples/subscriber.py --project <project-id> --max 20 --idle 5

Without --url it uses the broker every govit command uses (govit.broker.resolve_broker):
GOVIT_NATS_URL, else the running `govit up`'s record in the var dir, else nats://127.0.0.1:4222;
it says which on stderr. Where govit is not installed: --url, else GOVIT_NATS_URL, else that default.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import nats
from nats.js.errors import NotFoundError


def broker_url(given: str | None) -> str:
    """--url, else the suite's broker as the govit commands find it (said on stderr)."""
    try:
        from govit.broker import Broker, announce, resolve_broker
    except ImportError:  # a copy of this file on a system without govit
        url = given or os.environ.get("GOVIT_NATS_URL") or "nats://127.0.0.1:4222"
        print(f"NATS {url}  (--url, GOVIT_NATS_URL or the default)", file=sys.stderr)
        return url
    return announce(Broker(given, "option") if given else resolve_broker()).url


async def run(args: argparse.Namespace) -> int:
    # A NATS user of its own (`govit nats-config --subscriber NAME`) receives only on its inbox.
    url = broker_url(args.url)
    user = urlsplit(url).username
    connected = False

    async def on_error(exc: Exception) -> None:  # a failed first connect is reported once, by main()
        if connected:
            print(f"NATS error: {exc}", file=sys.stderr)

    nc = await nats.connect(
        url,
        connect_timeout=5,
        max_reconnect_attempts=2,  # the first connect: give up after a few tries, and say so
        reconnect_time_wait=1,
        inbox_prefix=f"_INBOX.{user or 'subscriber'}",
        error_cb=on_error,
    )
    nc.options["max_reconnect_attempts"] = -1  # once connected, reconnect for as long as it runs
    connected = True
    js = nc.jetstream(timeout=15)  # a busy server may take a while to create the durable
    region = args.jurisdiction or "*"
    project = args.project or "*"
    subject = f"{args.prefix}.events.{region}.{project}.>"
    sub = await js.pull_subscribe(subject, durable=args.durable, stream=args.stream)
    seen_path = Path(args.seen) if args.seen else None
    seen: set[str] = set(seen_path.read_text().split()) if seen_path and seen_path.exists() else set()
    printed, idle = 0, 0.0
    try:
        while args.max is None or printed < args.max:
            try:
                messages = await sub.fetch(batch=10, timeout=1)
            except TimeoutError:  # nats-py's own timeout, or asyncio's from a request under way
                idle += 1
                if args.idle is not None and idle >= args.idle:
                    break
                continue
            idle = 0.0
            for message in messages:
                event = json.loads(message.data)
                if event["id"] not in seen:  # at-least-once delivery: handle each event id once
                    seen.add(event["id"])
                    if seen_path:
                        with seen_path.open("a") as f:
                            f.write(event["id"] + "\n")
                    data = event.get("data", {})
                    print(
                        json.dumps(
                            {
                                "id": event["id"],
                                "type": event["type"],
                                "time": event["time"],
                                "jurisdiction": event.get("jurisdiction"),
                                "project": event.get("subject"),
                                "articles": data.get("articles", []),
                            },
                            ensure_ascii=False,
                        ),
                        flush=True,
                    )
                    printed += 1
                await message.ack()  # ack after handling: a crash before it means redelivery
    finally:
        await sub.unsubscribe()  # the durable consumer stays on the server, with our position
        await nc.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="NATS (default: GOVIT_NATS_URL, else the running `govit up`'s)")
    parser.add_argument("--stream", default="GOVIT")
    parser.add_argument("--prefix", default="govit", help="subject prefix (GOVIT_SUBJECT_PREFIX)")
    parser.add_argument("--durable", default="example-subscriber", help="durable consumer name")
    parser.add_argument("--jurisdiction", help="only this jurisdiction, e.g. shexian")
    parser.add_argument("--project", help="only this project")
    parser.add_argument("--seen", help="file keeping handled event ids across restarts")
    parser.add_argument("--max", type=int, help="stop after this many events")
    parser.add_argument("--idle", type=float, help="stop after this many seconds without events")
    args = parser.parse_args()
    try:
        return asyncio.run(run(args))
    except NotFoundError:
        print(
            f"this NATS holds no {args.stream} stream: is it the suite's? (GOVIT_NATS_URL, --url)",
            file=sys.stderr,
        )
    except TimeoutError:  # an OSError too: before it (the server answered no request in time)
        print("NATS did not answer in time (busy, or JetStream unavailable); try again", file=sys.stderr)
    except (OSError, nats.errors.NoServersError) as exc:
        print(f"NATS is unreachable: {exc}; start the suite (make up) or set GOVIT_NATS_URL", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
