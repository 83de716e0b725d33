"""deploy/compose.yaml: valid under the Compose Specification's JSON Schema (tests/data/
compose-spec), and describing the deployment README's operator section gives: PostgreSQL, a
release job that migrates, two API servers, one worker, a load balancer, object storage, with
settings the service knows and commands it has."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft201909Validator

from cmsreporting.cli import app as cli
from cmsreporting.config import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "deploy" / "compose.yaml"
SCHEMA = Path(__file__).parent / "data" / "compose-spec" / "compose_spec.json"
SCHEMA_SHA256 = "0dc04bd346dcfee1b1419628fff79937bbf076925f298f272a2b490e2b112bac"


@pytest.fixture(scope="module")
def validator() -> Draft201909Validator:
    raw = SCHEMA.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256  # the copy README names
    schema = json.loads(raw)
    Draft201909Validator.check_schema(schema)
    return Draft201909Validator(schema)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def test_compose_file_is_valid_under_the_compose_specification(
    validator: Draft201909Validator, compose: dict[str, Any]
) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("services", "api", "deploy", "replicas"), "two"),
        (("services", "worker", "depends_on", "postgres", "condition"), "service_ready"),
        (("services", "api", "restart_policy"), "always"),
        (("volumes", "exports"), ["not", "a", "volume"]),
    ],
)
def test_the_schema_refuses_a_broken_compose_file(
    validator: Draft201909Validator,
    compose: dict[str, Any],
    path: tuple[str, ...],
    value: Any,
) -> None:
    broken = copy.deepcopy(compose)
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert list(validator.iter_errors(broken)), f"{path} = {value!r} passed the schema"


def test_the_deployment_has_its_parts(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "migrate", "api", "worker", "proxy", "minio"} <= services.keys()
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 1
    assert services["api"]["command"][:2] == ["cmsreporting", "serve"]
    assert "--no-migrate" in services["api"]["command"]
    assert services["worker"]["command"] == ["cmsreporting", "worker"]
    assert services["migrate"]["command"] == ["cmsreporting", "db", "upgrade"]
    for name in ("api", "worker"):
        service = services[name]
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}
        # the worker writes export files that any server hands out: one shared volume
        assert "exports:/exports" in service["volumes"]
        assert service["environment"]["CMSREPORTING_EXPORT_FOLDER"] == "/exports"
        assert service["environment"]["CMSREPORTING_DATABASE_URL"].startswith(
            "postgresql+asyncpg://"
        )
    assert services["worker"]["healthcheck"] == {"disable": True}


def test_compose_uses_settings_and_commands_the_service_has(compose: dict[str, Any]) -> None:
    known = {f"CMSREPORTING_{name.upper()}" for name in Settings.model_fields}
    used = {
        variable
        for service in compose["services"].values()
        for variable in (service.get("environment") or {})
        if variable.startswith("CMSREPORTING_")
    }
    assert used
    assert used <= known, sorted(used - known)
    commands = {
        c.name or (c.callback.__name__ if c.callback else "") for c in cli.registered_commands
    }
    groups = {g.name for g in cli.registered_groups}
    for service in compose["services"].values():
        command = service.get("command") or []
        if command[:1] == ["cmsreporting"]:
            assert command[1] in commands | groups, command
    # nginx forwards to the api service's port
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert re.search(r"server api:8000;", nginx)
