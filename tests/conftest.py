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
    from checkin.config import Config, StoreConfig, write_config

    config = Config(
        gateway=healthy_sandbox.gateway_config(timeout_s=2.0, connect_timeout_s=1.0),
        store=StoreConfig(path=str(tmp_path / "desk.db")),
    )
    path = tmp_path / "checkin.toml"
    write_config(path, config)
    return path


@pytest.fixture
def make_intake(tmp_path, healthy_sandbox):
    """Build an Intake over a fresh store file and a real client of the sandbox; closed after
    the test. Keyword arguments go to the gateway settings (timeouts) or to Intake."""
    from datetime import timedelta

    from checkin.gateway import GatewayClient
    from checkin.intake import Intake
    from checkin.store import Store

    opened = []

    def make(*, timeout_s: float = 1.0, connect_timeout_s: float = 0.5, **intake_options):
        settings = healthy_sandbox.gateway_config(
            timeout_s=timeout_s, connect_timeout_s=connect_timeout_s
        )
        client = GatewayClient.from_config(settings)
        store = Store(tmp_path / f"desk{len(opened)}.db")
        opened.append((client, store))
        intake_options.setdefault("facility_code", settings.facility_code)
        intake_options.setdefault("cache_max_age", timedelta(hours=72))
        return Intake(store, client, **intake_options)

    yield make
    for client, store in opened:
        client.close()
        store.close()
