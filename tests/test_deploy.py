"""`deploy/` on paper, checked: every variable the manifests give the product's containers is a
setting of `bot/settings.py`, every reference resolves, every service has its readiness check."""
from __future__ import annotations

import re
from typing import Any, Iterator

import yaml

from bot.settings import ROOT, from_environment

DEPLOY = ROOT / "deploy"
IMAGE = "bolt-support"
# Read by Rasa itself, not by the project (set in the Dockerfile, listed here with the reason).
THIRD_PARTY = {"RASA_TELEMETRY_ENABLED": "Rasa's telemetry switch; off, there is no internet"}


def settings_variables() -> set[str]:
    source = (ROOT / "bot" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r'env\.get\("([A-Z0-9_]+)"', source))


def k8s_documents() -> list[dict[str, Any]]:
    documents = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        documents += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return documents


def pod_specs(documents: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for document in documents:
        if document["kind"] in ("Deployment", "Job"):
            yield document["metadata"]["name"], document["spec"]["template"]["spec"]


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yml").read_text(encoding="utf-8"))


def test_every_variable_the_manifests_set_is_a_setting():
    known = settings_variables() | set(THIRD_PARTY)
    documents = k8s_documents()
    given: dict[str, set[str]] = {}
    for document in documents:
        if document["kind"] == "ConfigMap" and document["metadata"]["name"] == "bolt-config":
            given.setdefault("k8s ConfigMap bolt-config", set()).update(document["data"])
        if document["kind"] == "Secret":
            given.setdefault("k8s Secret " + document["metadata"]["name"], set()).update(document["stringData"])
    for name, spec in pod_specs(documents):
        for container in spec["containers"]:
            given.setdefault(f"k8s {name}", set()).update(item["name"] for item in container.get("env") or [])
    for name, service in compose()["services"].items():
        if IMAGE in str(service.get("image", "")):
            given[f"compose {name}"] = set(service.get("environment") or {})
    assert {"DATABASE_URL", "REDIS_URL", "RASA_URLS"} <= given["compose handoff"]
    assert {"HANDOFF_INSTANCE", "HANDOFF_PORT"} <= given["k8s handoff"]
    unknown = {where: sorted(names - known) for where, names in given.items() if names - known}
    assert unknown == {}, "not read by bot/settings.py"


def test_the_settings_read_what_the_manifests_give():
    """The same values through bot.settings: URLs lists, pool sizes, production mode."""
    documents = k8s_documents()
    config = next(d["data"] for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "bolt-config")
    secret = next(d["stringData"] for d in documents if d["kind"] == "Secret")
    settings = from_environment({**config, **secret, "HANDOFF_PORT": "8080"})
    assert settings.production and settings.redis_url.startswith("redis://")
    assert settings.rasa_urls == ("http://rasa-1:5005", "http://rasa-2:5005")
    assert "sslmode=require" in settings.database_url  # the tracker store keeps the query (bot/tracker_store.py)


def test_every_reference_resolves_and_every_service_is_probed():
    documents = k8s_documents()
    names = {(d["kind"], d["metadata"]["name"]) for d in documents}
    services = {name for kind, name in names if kind == "Service"}
    deployments = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Deployment"}
    assert {"rasa-1", "rasa-2", "actions", "handoff"} <= set(deployments)
    assert {"postgres", "redis"} <= services  # external
    assert all(d["spec"]["type"] == "ExternalName" for d in documents
               if d["kind"] == "Service" and d["metadata"]["name"] in ("postgres", "redis"))
    for name, spec in pod_specs(documents):
        for container in spec["containers"]:
            assert container["image"].startswith(IMAGE), name
            for source in container.get("envFrom") or []:
                ref = source.get("configMapRef") or source.get("secretRef")
                kind = "ConfigMap" if "configMapRef" in source else "Secret"
                assert (kind, ref["name"]) in names, (name, ref)
        for volume in spec.get("volumes") or []:
            assert ("ConfigMap", volume["configMap"]["name"]) in names
    for name, deployment in deployments.items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        probe = container["readinessProbe"]["httpGet"]
        assert probe["path"] == ("/" if name.startswith("rasa") else "/health"), name
    # Each Rasa process has its own Service, and RASA_URLS lists exactly those.
    config = next(d["data"] for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "bolt-config")
    listed = {re.match(r"http://([^:]+):", url).group(1) for url in config["RASA_URLS"].split(",")}
    assert listed == {n for n in deployments if n.startswith("rasa")} and listed <= services


def test_the_ingress_carries_websockets_to_the_live_agent_service():
    ingress = next(d for d in k8s_documents() if d["kind"] == "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) > 30  # the heartbeat
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "handoff"


def test_rasa_endpoints_name_classes_that_exist():
    from importlib import import_module

    documents = k8s_documents()
    endpoints = yaml.safe_load(next(
        d["data"]["endpoints.yml"] for d in documents if d["metadata"]["name"] == "bolt-rasa-endpoints"))
    assert endpoints == yaml.safe_load((DEPLOY / "endpoints.yml").read_text(encoding="utf-8"))
    for key in ("nlg", "tracker_store", "lock_store"):
        module, _, name = endpoints[key]["type"].rpartition(".")
        assert hasattr(import_module(module), name), endpoints[key]["type"]


def test_compose_runs_two_of_each_behind_the_balancer():
    services = compose()["services"]
    assert {"rasa-1", "rasa-2", "postgres", "redis", "balancer", "migrate"} <= set(services)
    assert services["handoff"]["deploy"]["replicas"] >= 2 and services["action-server"]["deploy"]["replicas"] >= 2
    haproxy = (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8")
    assert "timeout tunnel" in haproxy and "option httpchk GET /health" in haproxy
    assert "actions" in services["balancer"]["networks"]["default"]["aliases"]


def test_no_module_reads_the_environment_but_bot_settings():
    readers = []
    for folder in ("bot", "handoff", "actions"):
        for path in (ROOT / folder).rglob("*.py"):
            if path != ROOT / "bot" / "settings.py" and re.search(r"os\.environ|getenv\(", path.read_text()):
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []
