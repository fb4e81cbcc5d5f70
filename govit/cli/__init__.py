"""The `govit` command: run the suite or one service, issue dev tokens, load holiday notices.

Each command group lives in its own module; they are registered here, in the order
`govit --help` lists them (the groups calendar, dlq, audit, export and policy come after the commands).
"""

from govit.cli import (
    asyncapi,
    audit,
    calendar,
    demo,
    dlq,
    export,
    natsconfig,
    policy,
    publish,
    serve,
    timeline,
    tokens,
    up,
)
from govit.cli.app import app, audit_app, calendar_app, dlq_app, export_app, main, policy_app

app.command()(serve.serve)
app.command()(up.up)
app.command()(tokens.token)
app.command()(demo.demo)
app.command()(timeline.timeline)
app.command()(publish.publish_command)
app.command("nats-config")(natsconfig.nats_config)
app.command()(asyncapi.asyncapi)
calendar_app.command("load")(calendar.calendar_load)
calendar_app.command("show")(calendar.calendar_show)
dlq_app.command("list")(dlq.dlq_list)
dlq_app.command("replay")(dlq.dlq_replay)
audit_app.command("verify")(audit.audit_verify_command)
export_app.command("projects")(export.export_projects)
export_app.command("ledger")(export.export_ledger)
export_app.command("ocds")(export.export_ocds)
policy_app.command("coverage")(policy.policy_coverage)
policy_app.command("article")(policy.policy_article)
policy_app.command("mutate")(policy.policy_mutate)

__all__ = ["app", "main"]
