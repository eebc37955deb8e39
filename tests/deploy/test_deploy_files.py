"""The deployment files, checked statically (no container engine here, and the docker CLI has no compose plugin):
the compose file's services, health checks, restart policies and secrets; every Kubernetes manifest against the
Kubernetes API schemas (kubernetes-validate, offline) and for probes, resources, scaling and security; the
Dockerfile's stages, user and health check. Every UPSWING_* name they set must be a real setting."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any, get_args

import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from upswing.cli import app as cli_app
from upswing.core.health import CheckName
from upswing.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
#: The Kubernetes version the manifests are validated against (the oldest still supported upstream we target).
KUBERNETES_VERSION = "1.30.0"
#: Names read by the deployment files themselves (the image's shell, compose's interpolation), not by Settings.
DEPLOYMENT_NAMES = {"UPSWING_SECRETS_DIR", "UPSWING_WEB_WORKERS", "UPSWING_WORKER_CONCURRENCY", "UPSWING_IMAGE",
                    "UPSWING_HTTP_BIND", "UPSWING_HTTP_PORT"}
SECRET_WORDS = re.compile(r"PASSWORD|SECRET(?!S_DIR)|TOKEN|_KEY|KEYS|DATABASE_URL|DSN", re.IGNORECASE)
LONG_RUNNING = ("api", "worker", "beat", "postgres", "redis", "rabbitmq")


def _setting_names() -> set[str]:
    return {f"UPSWING_{name.upper()}" for name in Settings.model_fields} | {"UPSWING_SECRETS_DIR"}


def _check_names(names: set[str], where: str) -> None:
    unknown = {name for name in names if name.startswith("UPSWING_")} - _setting_names() - DEPLOYMENT_NAMES
    assert not unknown, f"{where}: not settings of upswing.settings.Settings: {sorted(unknown)}"


def _command_words(command: list[str] | str) -> list[str]:
    """The words of a command, looking into ``sh -c "exec …"``."""
    words = shlex.split(command) if isinstance(command, str) else list(command)
    if words[:2] == ["sh", "-c"]:
        words = shlex.split(words[2])
    return words[1:] if words[:1] == ["exec"] else words


def _cli_path_exists(words: list[str]) -> None:
    """``upswing db upgrade …``: the command exists (its ``--help`` answers) and has each option used."""
    assert words[0] == "upswing", words
    path: list[str] = []
    for word in words[1:]:
        if word.startswith("-"):
            break
        path.append(word)
    shown = CliRunner().invoke(cli_app, [*path, "--help"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0 and "Usage: upswing " + " ".join(path) in shown.output, words
    used = {word.split("=")[0] for word in words if word.startswith("--")}
    assert all(option in shown.output for option in used), f"{words}: unknown options"


# --------------------------------------------------------------------------------------------------
# docker compose


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "docker-compose.yml").read_text()))


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): str(value) for key, value in env.items()}


def test_compose_runs_every_part(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= {"api", "worker", "beat", "migrate", "postgres", "redis", "rabbitmq"}
    assert services["rabbitmq"]["profiles"] == ["rabbitmq"]  # the alternative broker, by choice
    commands = {name: _command_words(services[name]["command"]) for name in ("api", "worker", "beat", "migrate")}
    assert commands["api"][:2] == ["upswing", "serve"] and "--workers" in commands["api"]
    assert "0.0.0.0" in commands["api"]  # noqa: S104 - inside its container
    assert commands["worker"][:2] == ["upswing", "worker"]
    assert commands["beat"] == ["upswing", "scheduler"]
    assert commands["migrate"] == ["upswing", "db", "upgrade"]
    for words in commands.values():
        _cli_path_exists(words)
    for name in ("api", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert _environment(services[name])["UPSWING_TASK_RUNNER"] == "celery"
    assert services["migrate"]["restart"] == "no"
    server = " ".join(services["postgres"]["command"])  # sized for a book, not the image's laptop defaults
    assert "shared_buffers=" in server and "max_wal_size=" in server


def test_compose_health_checks_and_restarts(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in LONG_RUNNING:
        assert services[name]["restart"] in ("unless-stopped", "always"), name
    for name in ("api", "worker", "postgres", "redis", "rabbitmq"):
        check = services[name]["healthcheck"]
        assert check.get("test") and not check.get("disable"), name
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["beat"]["healthcheck"] == {"disable": True}  # said why, in the file
    for volume in ("postgres-data", "redis-data"):
        assert volume in compose["volumes"]


def test_compose_keeps_secrets_out_of_the_file(compose: dict[str, Any]) -> None:
    declared = compose["secrets"]
    for name, service in compose["services"].items():
        for key, value in _environment(service).items():
            if SECRET_WORDS.search(key) and not key.endswith("_FILE"):
                assert value.startswith("${") or value == "", f"{name}: {key} is set inline"
            assert not re.search(r"://[^/@\s:]+:[^/@\s$]+@", value), f"{name}: {key} has a password inline"
        for secret in service.get("secrets", []):
            assert (secret if isinstance(secret, str) else secret["source"]) in declared
    for name, secret in declared.items():
        assert set(secret) == {"file"} and secret["file"].startswith("./secrets/"), name
    # Each app secret is a file named after a setting (read from UPSWING_SECRETS_DIR).
    app_secrets = {name.upper() for name in compose["services"]["api"]["secrets"]}
    _check_names(app_secrets, "compose secrets")
    assert {"UPSWING_DATABASE_URL", "UPSWING_SECRET_KEY", "UPSWING_ENCRYPTION_KEYS"} <= app_secrets
    ignored = (DEPLOY / "secrets" / ".gitignore").read_text().split()
    assert ignored[0] == "*"  # the secret files can never be committed


def test_compose_names_only_real_settings(compose: dict[str, Any]) -> None:
    names: set[str] = set()
    for service in compose["services"].values():
        names |= set(_environment(service))
    text = (DEPLOY / "docker-compose.yml").read_text()
    names |= set(re.findall(r"\$\{(UPSWING_[A-Z0-9_]+)", text))
    _check_names(names, "docker-compose.yml")
    example = {line.split("=", 1)[0].lstrip("# ") for line in (DEPLOY / "env.example").read_text().splitlines()
               if re.match(r"#? ?UPSWING_[A-Z0-9_]+=", line)}
    _check_names(example, "env.example")
    assert "UPSWING_CELERY_BROKER_URL" in example


# --------------------------------------------------------------------------------------------------
# Kubernetes


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = sorted(path.name for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")
    assert sorted(kustomization["resources"]) == files  # nothing left out of `kubectl apply -k`
    return [doc for name in files for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


def _named(manifests: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}"
    return found[0]


def _pod(manifest: dict[str, Any]) -> dict[str, Any]:
    return dict(manifest["spec"]["template"]["spec"])


def test_every_manifest_is_valid_against_the_kubernetes_schemas(manifests: list[dict[str, Any]]) -> None:
    for manifest in manifests:
        # strict: an unknown or misspelt field fails too
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        assert manifest["metadata"].get("namespace", "upswing") == "upswing"


def test_the_schema_check_catches_mistakes(manifests: list[dict[str, Any]]) -> None:
    broken = yaml.safe_load((K8S / "beat.yaml").read_text())
    broken["spec"]["template"]["spec"]["containers"][0]["resource"] = {}  # misspelt
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_api_and_worker_have_probes_resources_and_autoscaling(manifests: list[dict[str, Any]]) -> None:
    api = _named(manifests, "Deployment", "upswing-api")
    container = _pod(api)["containers"][0]
    readiness = container["readinessProbe"]["httpGet"]["path"]
    assert readiness.startswith("/readyz")
    excluded = re.findall(r"exclude=(\w+)", readiness)
    assert set(excluded) <= set(get_args(CheckName)) and "database" not in excluded and "migrations" not in excluded
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    words = _command_words(container["command"])
    assert words[:2] == ["upswing", "serve"] and "--workers" in words
    _cli_path_exists(words)
    worker = _named(manifests, "Deployment", "upswing-worker")
    worker_container = _pod(worker)["containers"][0]
    assert worker_container["readinessProbe"] and worker_container["livenessProbe"]
    _cli_path_exists(_command_words(worker_container["command"]))
    hpas = {m["spec"]["scaleTargetRef"]["name"]: m for m in manifests if m["kind"] == "HorizontalPodAutoscaler"}
    assert set(hpas) == {"upswing-api", "upswing-worker"}
    for hpa in hpas.values():
        assert hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    service = _named(manifests, "Service", "upswing-api")
    assert service["spec"]["selector"].items() <= api["spec"]["template"]["metadata"]["labels"].items()
    pdbs = {m["metadata"]["name"] for m in manifests if m["kind"] == "PodDisruptionBudget"}
    assert pdbs == {"upswing-api", "upswing-worker"}


def test_one_scheduler_and_a_migration_job(manifests: list[dict[str, Any]]) -> None:
    beat = _named(manifests, "Deployment", "upswing-beat")
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    assert not [m for m in manifests if m["kind"] == "HorizontalPodAutoscaler"
                and m["spec"]["scaleTargetRef"]["name"] == "upswing-beat"]
    assert _command_words(_pod(beat)["containers"][0]["command"]) == ["upswing", "scheduler"]
    job = _named(manifests, "Job", "upswing-migrate")
    assert _command_words(_pod(job)["containers"][0]["command"]) == ["upswing", "db", "upgrade"]


def test_pods_are_non_root_with_read_only_root_and_limits(manifests: list[dict[str, Any]]) -> None:
    workloads = [m for m in manifests if m["kind"] in ("Deployment", "Job")]
    assert len(workloads) == 4
    for workload in workloads:
        pod = _pod(workload)
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), workload["metadata"]["name"]
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), workload["metadata"]["name"]
            assert container["envFrom"] == [{"configMapRef": {"name": "upswing-config"}}]
            assert "env" not in container  # nothing set (or secret) inline
        secret_volumes = [v for v in pod["volumes"] if "secret" in v]
        assert [v["secret"]["secretName"] for v in secret_volumes] == ["upswing-secrets"]


def test_secrets_are_referenced_never_included(manifests: list[dict[str, Any]]) -> None:
    assert not [m for m in manifests if m["kind"] == "Secret"]
    config = _named(manifests, "ConfigMap", "upswing-config")["data"]
    _check_names(set(config), "configmap.yaml")
    assert not [key for key in config if SECRET_WORDS.search(key)]
    assert config["UPSWING_SECRETS_DIR"] == "/run/secrets/upswing"
    mounts = {mount["mountPath"] for mount in _pod(_named(manifests, "Deployment", "upswing-api"))["containers"][0]
              ["volumeMounts"]}
    assert config["UPSWING_SECRETS_DIR"] in mounts


def test_ingress_tls_and_network_policy(manifests: list[dict[str, Any]]) -> None:
    ingress = _named(manifests, "Ingress", "upswing")
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
    hosts = {host for tls in ingress["spec"]["tls"] for host in tls["hosts"]}
    assert {rule["host"] for rule in ingress["spec"]["rules"]} <= hosts
    policies = [m for m in manifests if m["kind"] == "NetworkPolicy"]
    deny = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert deny and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"} and "ingress" not in deny[0]["spec"]


# --------------------------------------------------------------------------------------------------
# Dockerfile


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
            for line in lines if line and not line.startswith("#")]


def test_dockerfile_is_multi_stage_non_root_with_a_health_check() -> None:
    instructions = _dockerfile()
    stages = [args for word, args in instructions if word == "FROM"]
    assert len(stages) >= 3 and all(" AS " in stage.upper() for stage in stages)
    final = instructions[max(i for i, (word, _) in enumerate(instructions) if word == "FROM"):]
    users = [args for word, args in final if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    checks = [args for word, args in final if word == "HEALTHCHECK"]
    assert len(checks) == 1 and "/healthz" in checks[0]
    command = [args for word, args in final if word == "CMD"]
    assert command and "upswing serve" in command[0] and "--workers" in command[0]
    assert "0.0.0.0" in command[0]  # noqa: S104 - inside its container
    runs = " ".join(args for word, args in instructions if word == "RUN")
    assert "npm ci" in runs and "vite build" in runs
    assert "[dev]" not in runs and "pip install" in runs
    # The dashboard lands where the settings look for it.
    env = " ".join(args for word, args in final if word == "ENV")
    dashboard_dir = re.search(r"UPSWING_DASHBOARD_DIR=(\S+)", env)
    assert dashboard_dir is not None
    copied = [args for word, args in final if word == "COPY" and "--from=dashboard" in args]
    assert copied and copied[0].split()[-1] == dashboard_dir.group(1)
    _check_names(set(re.findall(r"(UPSWING_[A-Z0-9_]+)=", env)), "Dockerfile")
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "dashboard/node_modules", "var"} <= set(ignored)


def test_secrets_are_read_from_files_in_the_secrets_dir(tmp_path: Path) -> None:
    """Docker secrets and mounted Kubernetes Secrets: one file per setting, named after it."""
    import os
    import subprocess
    import sys

    (tmp_path / "upswing_secret_key").write_text("k" * 40 + "\n")
    (tmp_path / "upswing_database_url").write_text("postgresql+psycopg://u:p@db:6543/upswing")
    env = {k: v for k, v in os.environ.items() if k not in ("UPSWING_SECRET_KEY", "UPSWING_DATABASE_URL")}
    env.update({"UPSWING_SECRETS_DIR": str(tmp_path), "UPSWING_ENVIRONMENT": "production",
                "UPSWING_DATA_DIR": str(tmp_path)})
    shown = subprocess.run([sys.executable, "-c", "from upswing.settings import Settings; s = Settings(); "
                            "print(len(s.secret_key.get_secret_value()), s.database_url)"],
                           env=env, capture_output=True, text=True, timeout=60, check=True, cwd=tmp_path)
    assert shown.stdout.split() == ["40", "postgresql+psycopg://u:p@db:6543/upswing"]


def test_the_deployment_guide_names_only_real_settings() -> None:
    text = (ROOT / "docs" / "deployment.md").read_text()
    named = set(re.findall(r"\b(UPSWING_[A-Z0-9_]+)", text))
    _check_names(named, "docs/deployment.md")
    for path in re.findall(r"`((?:deploy|tests)/[\w./-]+\.(?:ya?ml|py|example))`", text):
        assert (ROOT / path).exists(), path


def test_the_kustomization_renders_to_valid_manifests() -> None:
    """``kubectl kustomize`` (kustomize is built into kubectl) renders what ``kubectl apply -k`` would send."""
    import shutil
    import subprocess

    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed here (the manifests are still validated one by one above)")
    rendered = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=120,  # noqa: S603
                              check=True).stdout
    documents = [doc for doc in yaml.safe_load_all(rendered) if doc]
    assert len(documents) == 16
    for doc in documents:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "upswing"
    images = {container["image"] for doc in documents if doc["kind"] in ("Deployment", "Job")
              for container in doc["spec"]["template"]["spec"]["containers"]}
    assert len(images) == 1 and images.pop().startswith("registry.example.com/upswing:")
