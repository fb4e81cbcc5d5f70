"""`govit up` on a bare machine: embedded NATS, five services and the console ready, the slice works
(the console shows it to the agency), Ctrl-C stops all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from govit.devnats import free_ports
from shared.auth import Role
from shared.workdays import today_in_shanghai
from tests.conftest import bearer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.services("intake", "review", "procurement", "acceptance", "funding"),
]

SERVICES = ("intake", "review", "procurement", "acceptance", "funding")
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_sees(console: str, agency: str, title: str) -> bool:
    """The agency signs in to the console (its development page) and finds the project listed."""
    with httpx.Client(base_url=console, follow_redirects=True) as browser:
        form = browser.get("/signin")
        token = FORM_TOKEN.search(form.text)
        assert token is not None, form.text
        person = {"role": "applicant", "name": "经办人", "agency": agency, "jurisdiction": "xunyang"}
        listed = browser.post("/signin", data={**person, "csrf_token": token.group(1), "after": "/projects"})
        assert listed.status_code == 200 and "/projects" in str(listed.url), listed.text
        return title in listed.text


def wait_for(check, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.parametrize("mode", ["one-server", "cluster", "postgres"])
def test_govit_up_runs_the_suite_with_embedded_nats_and_stops_cleanly(tmp_path: Path, mode: str) -> None:
    cluster = mode == "cluster"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVIT_")}
    *chosen, nats_port = free_ports(len(SERVICES) + 2)
    ports = dict(zip((*SERVICES, "console"), chosen, strict=True))
    env |= {f"GOVIT_{name.upper()}_PORT": str(port) for name, port in ports.items()}
    env |= {"GOVIT_VAR_DIR": str(tmp_path / "var"), "GOVIT_EMBEDDED_NATS_PORT": str(nats_port)}
    log = (tmp_path / "up.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "govit.cli", "up", *([f"--{mode}"] if mode != "one-server" else [])],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: "govit is up" in (tmp_path / "up.log").read_text() or proc.poll() is not None,
            timeout=120,
            what="govit up",
        )
        output = (tmp_path / "up.log").read_text()
        assert proc.poll() is None, output
        for name, port in ports.items():
            assert f"ready  {name}" in output and f":{port}" in output
        assert "fsync always" in output
        _started_as_asked(tmp_path, output, mode)

        intake, funding = f"http://127.0.0.1:{ports['intake']}", f"http://127.0.0.1:{ports['funding']}"
        # xunyang: no expert review before approval (xunyang §8), so intake alone takes it there.
        agency, authority = "区卫健委", bearer(Role.AUTHORITY)
        applicant = bearer(Role.APPLICANT, agency)
        plan_year = today_in_shanghai().year + 2  # always before that year's Sep 30 deadline
        httpx.post(
            f"{intake}/agencies",
            headers=authority,
            json={"jurisdiction": "xunyang", "name": agency, "level": "district"},
        ).raise_for_status()
        project = httpx.post(
            f"{intake}/projects",
            headers=applicant,
            json={
                "jurisdiction": "xunyang",
                "title": "互联网医院",
                "kind": "construction",
                "amount_fen": 2_000_000_00,
                "requested_plan_year": plan_year,
            },
        ).json()
        for material in ("declaration_form", "project_proposal"):
            httpx.post(
                f"{intake}/projects/{project['id']}/materials",
                headers=applicant,
                data={"material": material},
                files={"file": (f"{material}.pdf", b"%PDF-1.7", "application/pdf")},
            ).raise_for_status()
        httpx.post(f"{intake}/projects/{project['id']}/submission", headers=applicant).raise_for_status()
        wait_for(
            lambda: httpx.get(f"{funding}/projects/{project['id']}", headers=applicant).status_code == 200,
            timeout=30,
            what="funding to record the project",
        )
        held = httpx.post(
            f"{funding}/projects/{project['id']}/disbursements",
            headers=applicant,
            json={"amount_fen": 1_000_000, "purpose": "可研编制", "kind": "preparatory"},
        )
        assert held.status_code == 202 and held.json()["closed_gates"][0]["rule"] == "xunyang §8"
        assert console_sees(f"http://127.0.0.1:{ports['console']}", agency, "互联网医院")
        steps = [
            ("post", f"/projects/{project['id']}/screening", None),
            ("put", f"/plans/xunyang/{plan_year}", {"ranking": [project["id"]]}),
            ("post", f"/plans/xunyang/{plan_year}/publication", {"document": "浔信〔2026〕1号"}),
            (
                "post",
                f"/projects/{project['id']}/approval",
                {"approval_number": "浔信批〔2026〕1号", "approved_amount_fen": 2_000_000_00},
            ),
        ]
        for method, path, body in steps:
            httpx.request(method, f"{intake}{path}", headers=authority, json=body).raise_for_status()
        wait_for(
            lambda: (
                httpx.get(f"{funding}/disbursements/{held.json()['id']}", headers=applicant).json()["status"]
                == "released"
            ),
            timeout=30,
            what="release after approval",
        )
        if cluster:  # the stream the services made keeps a copy on each server
            _three_copies(output)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    output = (tmp_path / "up.log").read_text()
    assert code == 0, output
    assert "已停止 / stopped" in output
    if mode == "postgres":  # the embedded server stopped with the suite
        assert not (tmp_path / "var" / "postgres" / "postmaster.pid").exists()
    for port in ports.values():
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)


def _started_as_asked(tmp_path: Path, output: str, mode: str) -> None:
    """One nats-server, or three with routes; with --postgres a database each on one embedded
    PostgreSQL and no SQLite file."""
    var = tmp_path / "var"
    if mode == "cluster":
        confs = sorted((var / "nats-cluster").glob("govit-*/nats-server.conf"))
        assert len(confs) == 3 and all("sync_interval: always" in c.read_text() for c in confs)
        assert all("routes: [" in c.read_text() for c in confs)
        return
    assert (var / "nats" / "nats-server.conf").read_text().count("sync_interval: always") == 1
    if mode == "postgres":
        assert re.search(r"PostgreSQL 1[6-9]\.\d+ \(embedded\)", output), output
        for name in SERVICES:
            assert re.search(rf"  {name} +postgresql\+asyncpg://\S+/govit_{name}\?host=", output), output
        assert (var / "postgres" / "PG_VERSION").is_file()
        assert not list(var.glob("*.db"))  # no SQLite file: PostgreSQL holds the data


def _three_copies(output: str) -> None:
    watch = re.findall(r"watch: (http://\S+)", output)
    assert len(watch) == 3
    streams = httpx.get(watch[0] + "&config=true").json()["account_details"][0]["stream_detail"]
    assert [s["config"]["num_replicas"] for s in streams] == [3]


def test_an_embedded_server_whose_port_was_taken_meanwhile_starts_on_another(tmp_path: Path) -> None:
    import socket

    from govit.devnats import EmbeddedNats

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))  # bound, not listening: as a client's ephemeral port is
        busy = taken.getsockname()[1]
        server = EmbeddedNats(tmp_path / "picked")
        server.port = busy  # as if a connection took it between the pick and the start
        with server:
            assert server.port != busy
            socket.create_connection((server.host, server.port), timeout=2).close()
        # A port the caller chose is not changed behind its back: the reason is reported.
        with pytest.raises(RuntimeError, match="exited with"):
            EmbeddedNats(tmp_path / "chosen", port=busy).start()
