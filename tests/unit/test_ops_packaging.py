"""The image is reproducible: the lock pins every runtime dependency, and the Dockerfile uses it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_lock_pins_every_runtime_dependency_exactly() -> None:
    """Every dependency in pyproject.toml has one `name==version` line in requirements.lock."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = [line for line in (ROOT / "requirements.lock").read_text().splitlines()
             if line and not line.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", line) for line in lines)
    pinned = {_name(line) for line in lines}
    assert {_name(d) for d in project["dependencies"]} <= pinned
    assert {"tzdata", "prometheus-client"} <= pinned
    assert not {"pytest", "ruff"} & pinned  # dev tools stay out of the image


def test_the_dockerfile_installs_from_the_lock_and_declares_the_data_volume() -> None:
    """pip install -r requirements.lock, then --no-deps; VOLUME /data; health in both modes."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install -r requirements.lock" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    assert "\nVOLUME /data\n" in dockerfile
    assert 'CMD ["amends", "health", "--port", "3000"]' in dockerfile


def test_compose_runs_two_replicas_behind_one_proxy_on_postgres() -> None:
    """Two amends services in HTTP mode on PostgreSQL, nginx in front naming both."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    replicas = [name for name, s in services.items() if "--http" in (s.get("command") or [])]
    assert replicas == ["amends-1", "amends-2"]
    for name in replicas:
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgresql://")
    nginx = (ROOT / ".deploy/nginx.conf").read_text()
    assert all(f"server {name}:3000" in nginx for name in replicas)
