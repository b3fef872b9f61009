"""Shared fixtures: the sandbox gateway on a real port, configs pointing at it, payloads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


def payload(key: str) -> str:
    """The recorded QR payload of one synthetic person (fixtures/payloads/<key>.txt)."""
    return (FIXTURES / "payloads" / f"{key}.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def sandbox():
    from checkin.sandbox import Sandbox

    with Sandbox() as sb:
        yield sb


@pytest.fixture
def healthy_sandbox(sandbox):
    """The shared sandbox with no fault switched on, before and after the test."""
    sandbox.faults.set("none")
    yield sandbox
    sandbox.faults.set("none")


@pytest.fixture
def desk_config(tmp_path, healthy_sandbox):
    """A config file for the sandbox with a fresh store; returns its path."""
    from checkin.config import Config, GatewayConfig, StoreConfig, write_config

    population = healthy_sandbox.population
    account, officer = population.accounts[0], population.officers[0]
    config = Config(
        gateway=GatewayConfig(
            url=healthy_sandbox.url,
            username=account.username,
            password=account.password,
            officer_name=officer.name,
            officer_id=officer.citizen_id,
            facility_code=population.facility_code,
            timeout_s=2.0,
            connect_timeout_s=1.0,
        ),
        store=StoreConfig(path=str(tmp_path / "desk.db")),
    )
    path = tmp_path / "checkin.toml"
    write_config(path, config)
    return path
