"""``checkin doctor`` / ``checkin readers``: each check against real things (the sandbox on a
real port, SQLite files, pcscd when it runs, recorded videos), each bounded in time."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from checkin import doctor
from checkin.config import CameraConfig, Config, PcscConfig, SerialConfig, StoreConfig, write_config
from checkin.doctor import (
    all_passed,
    check_errors,
    check_gateway,
    check_outbox,
    check_pcsc,
    check_serial,
    check_store,
    mask_text,
    report_lines,
    run_checks,
)

ROOT = Path(__file__).resolve().parents[1]
VIDEO = ROOT / "fixtures" / "videos" / "eligible-new.avi"
PAYLOADS = ROOT / "fixtures" / "payloads"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pcscd_running() -> bool:
    from drivers.pcsc import pcscd_available

    try:
        return pcscd_available()
    except Exception:
        return False


@pytest.fixture(autouse=True)
def no_qt_garbage_in_worker_threads():
    """Earlier Qt tests in this process may leave widgets awaiting deletion: free them here, on
    the GUI thread, before the checks' threads allocate (and so garbage-collect)."""
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent

    if QCoreApplication.instance() is not None:
        QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    gc.collect()


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No user configuration, data folder or password leaks into the checks."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("CHECKIN_CONFIG", raising=False)
    monkeypatch.delenv("CHECKIN_GATEWAY_PASSWORD", raising=False)
    return tmp_path


@pytest.fixture
def good_config(isolated, healthy_sandbox) -> Config:
    """Everything this machine can have working: the sandbox, a replay camera, a new store."""
    return Config(
        gateway=healthy_sandbox.gateway_config(timeout_s=2.0, connect_timeout_s=1.0),
        store=StoreConfig(path=str(isolated / "desk.db")),
        camera=CameraConfig(source=f"replay:{VIDEO}"),
    )


def by_name(checks: list[doctor.Check]) -> dict[str, doctor.Check]:
    return {c.name: c for c in checks}


def make_visit(config: Config, *, online: bool = True, person: str = "eligible-new") -> None:
    """Register one real visit through the intake (online, or with the gateway unreachable so
    that it waits in the outbox)."""
    from checkin.gateway import GatewayClient
    from checkin.intake import Intake
    from checkin.store import Store

    gw = config.gateway
    url = gw.url if online else f"http://127.0.0.1:{closed_port()}"
    client = GatewayClient(
        url, gw.username, gw.password, gw.officer, timeout_s=2.0, connect_timeout_s=0.5
    )
    store = Store(config.store_path)
    try:
        intake = Intake(
            store,
            client,
            officer=gw.officer,
            facility_code=gw.facility_code,
            cache_max_age=timedelta(hours=72),
        )
        intake.handle((PAYLOADS / f"{person}.txt").read_text(encoding="utf-8"))
    finally:
        client.close()
        store.close()


# -- the whole run ---------------------------------------------------------------------------


def test_everything_up_passes_quickly(good_config):
    """GIVEN the sandbox, a replay camera and a fresh store WHEN the doctor runs
    THEN every required check passes, in a fixed order, well under the 5 s budget."""
    start = time.monotonic()
    checks = run_checks(good_config)
    elapsed = time.monotonic() - start
    assert elapsed < 5.0
    names = [c.name for c in checks]
    assert names == [
        "config",
        "camera",
        "pcscd",
        "chip_reader",
        "serial",
        "keyring",
        "gateway",
        "store",
        "outbox",
        "errors",
    ]
    found = by_name(checks)
    assert found["gateway"].ok is True and "token" in found["gateway"].summary
    assert found["camera"].ok is True and "640×480" in found["camera"].summary
    assert found["store"].ok is True and "created at the first check-in" in found["store"].summary
    assert found["serial"].ok is None and not found["serial"].required
    assert all_passed(checks), report_lines(checks)


def test_gateway_closed_port_fails_fast_with_a_fix(good_config):
    gw = replace(good_config.gateway, url=f"http://127.0.0.1:{closed_port()}")
    start = time.monotonic()
    check = check_gateway(gw, limit_s=4.0)
    assert time.monotonic() - start < 2.0
    assert check.ok is False and check.required
    assert "refused the connection" in check.summary
    assert "checkin sandbox" in check.fix


def test_a_gateway_that_never_answers_keeps_the_run_bounded(good_config, healthy_sandbox):
    """GIVEN a gateway that accepts connections and then says nothing for 30 s, and an answer
    timeout of 60 s in the configuration WHEN the doctor runs THEN it is over within ~5 s and
    the gateway line says no token came."""
    healthy_sandbox.faults.set("slow", delay_s=30.0)
    config = replace(good_config, gateway=replace(good_config.gateway, timeout_s=60.0))
    start = time.monotonic()
    checks = run_checks(config)
    assert time.monotonic() - start < 5.5
    gateway = by_name(checks)["gateway"]
    assert gateway.ok is False
    assert "no token" in gateway.summary or "no answer" in gateway.summary
    assert not all_passed(checks)


def test_gateway_down_and_wrong_password(good_config, healthy_sandbox):
    healthy_sandbox.faults.set("down")
    down = check_gateway(good_config.gateway, limit_s=3.0)
    assert down.ok is False and down.fix
    healthy_sandbox.faults.set("none")
    refused = check_gateway(replace(good_config.gateway, password="wrong"), limit_s=3.0)
    assert refused.ok is False
    assert "refused the account" in refused.summary and "password" in refused.fix


def test_gateway_not_configured_names_the_missing_settings(good_config):
    check = check_gateway(replace(good_config.gateway, password=""), limit_s=1.0)
    assert check.ok is False and "gateway.password" in check.summary


def test_gateway_without_a_default_officer_still_passes(good_config):
    gw = replace(good_config.gateway, officer_name="", officer_id="")
    check = check_gateway(gw, limit_s=3.0)
    assert check.ok is True and "signs in at the desk" in check.summary


def test_invalid_configuration_still_checks_the_devices(isolated):
    checks = run_checks(None, config_error="gateway.officer_id must be ...")
    found = by_name(checks)
    assert found["config"].ok is False and "officer_id" in found["config"].summary
    assert found["gateway"].ok is None and found["store"].ok is None
    assert "pcscd" in found and "camera" in found
    assert not all_passed(checks)


def test_a_camera_that_does_not_exist(isolated):
    missing = run_checks(Config(camera=CameraConfig(source=str(isolated / "no.avi"))))
    camera = by_name(missing)["camera"]
    assert camera.ok is False and "Settings → Camera" in camera.fix


# -- the store, the outbox, recent errors ----------------------------------------------------


def test_store_with_a_visit_today(good_config):
    make_visit(good_config)
    check = check_store(good_config.store_path)
    assert check.ok is True
    assert "WAL" in check.summary and "integrity ok" in check.summary
    assert "1 visit(s) today" in check.summary


def test_store_that_is_not_a_database(isolated):
    path = isolated / "junk.db"
    path.write_bytes(b"this is not sqlite" * 200)
    check = check_store(path)
    assert check.ok is False and "not a checkin database" in check.summary
    assert "Settings" in check.fix


def test_store_path_that_is_a_folder_or_under_a_file(isolated):
    """GIVEN a store path naming a folder, or a file under a regular file WHEN the doctor checks
    it THEN it says which, and the fix names a file to choose (not 'disk I/O error')."""
    folder = isolated / "data"
    folder.mkdir()
    check = check_store(folder)
    assert check.ok is False and "is a folder" in check.summary
    assert str(folder / "checkin.db") in check.fix and "Settings" in check.fix
    blocker = isolated / "notes.txt"
    blocker.write_text("x")
    check = check_store(blocker / "desk" / "checkin.db")
    assert check.ok is False and f"{blocker} is a file" in check.summary
    assert not blocker.is_dir() and blocker.read_text() == "x"


def test_damaged_store_is_reported(isolated):
    path = isolated / "broken.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE visits (id INTEGER PRIMARY KEY, visit_date TEXT, note TEXT)")
    conn.executemany(
        "INSERT INTO visits (visit_date, note) VALUES (?, ?)", [("2024-01-01", "x" * 500)] * 400
    )
    conn.execute("CREATE INDEX i ON visits (note)")
    conn.commit()
    conn.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page * 3, min(len(data), page * 40), page):
        data[offset + 8 : offset + 400] = os.urandom(392)
    path.write_bytes(bytes(data))
    check = check_store(path)
    assert check.ok is False
    assert "damaged" in check.summary or "not a checkin database" in check.summary


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_store_folder(isolated):
    folder = isolated / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        check = check_store(folder / "sub" / "desk.db")
    finally:
        folder.chmod(0o700)
    assert check.ok is False and "write access" in check.fix


def test_outbox_reports_what_waits(good_config):
    assert check_outbox(good_config.store_path).ok is None  # no store yet
    make_visit(good_config)
    assert check_outbox(good_config.store_path).summary == "nothing waits for a re-check"
    make_visit(good_config, online=False, person="eligible-old")
    waiting = check_outbox(good_config.store_path)
    assert waiting.ok is True and not waiting.required
    assert waiting.summary.startswith("1 visit(s) wait for a re-check")


@pytest.mark.parametrize("kind", ["folder", "under a file", "not sqlite", "other sqlite"])
def test_outbox_of_a_bad_store_path_points_at_the_database_line(isolated, kind):
    """GIVEN a store path that cannot be the store WHEN the re-check queue is checked THEN it
    is not checked, pointing at the Database line (not 'disk I/O error … developers')."""
    path = isolated / "store"
    if kind == "folder":
        path.mkdir()
    elif kind == "under a file":
        path.write_text("x")
        path = path / "desk" / "checkin.db"
    elif kind == "not sqlite":
        path.write_bytes(b"this is not sqlite" * 50)
    else:
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE patients (anything)")
        conn.close()
    check = check_outbox(path)
    assert check.ok is None and not check.required and not check.failed
    assert check.summary == "not checked: see the Database line"
    assert "developers" not in check.fix and "I/O" not in check.summary
    assert check_store(path).ok is False  # the Database line says what is wrong


def test_recent_errors_are_shown_masked(good_config):
    """GIVEN a lookup that failed and an error log naming a card and a citizen ID
    WHEN the errors are checked THEN both show up, with the numbers masked."""
    make_visit(good_config, online=False)
    data = Path(os.environ["XDG_DATA_HOME"]) / "checkin"
    data.mkdir(parents=True, exist_ok=True)
    (data / "checkin-errors.log").write_text(
        "Traceback (most recent call last):\nValueError: card DN4010123456789 of 001090000001\n",
        encoding="utf-8",
    )
    check = check_errors(good_config.store_path, data)
    assert check.ok is False and not check.required
    assert "DN4010123456789" not in check.detail and "001090000001" not in check.detail
    assert "DN*********6789" in check.detail and "********0001" in check.detail
    assert "lookup" in check.detail  # the audit row of the failed lookup
    quiet = check_errors(None, data / "empty")
    assert quiet.ok is True


def test_mask_text():
    assert mask_text("id 001090000001, CAN 123456, code 01001") == (
        "id ********0001, CAN ******, code 01001"
    )


# -- devices ---------------------------------------------------------------------------------


def test_pcsc_checks(isolated):
    """pcscd runs during ``make test``; whether readers exist is not assumed."""
    if not pcscd_running():
        service, reader = check_pcsc(Config(pcsc=PcscConfig(reader="x")))
        assert service.ok is False and "pcscd" in service.summary and service.fix
        assert reader.ok is None
        return
    service, reader = check_pcsc(Config())
    assert service.ok is True and not service.required
    assert reader.ok in (True, None) and not reader.required
    service, reader = check_pcsc(Config(pcsc=PcscConfig(reader="No Such Reader 9")))
    assert service.ok is True and service.required
    assert reader.ok is False and "Settings → Chip reader" in reader.fix


def test_serial_check_opens_the_configured_port(isolated):
    assert check_serial(Config(serial=SerialConfig(url="loop://"))).ok is True
    bad = check_serial(Config(serial=SerialConfig(url=str(isolated / "ttyNOPE"))))
    assert bad.ok is False and bad.required and "cable" in bad.fix


def test_list_devices_shape():
    devices = doctor.list_devices(2.0)
    assert set(devices) == {"cameras", "pcsc", "serial", "errors"}
    assert all({"device", "description", "hwid"} <= set(p) for p in devices["serial"])


def test_every_phrase_has_both_languages_and_the_same_fields():
    import string

    for phrase in doctor.phrases():
        names = {f[1] for f in string.Formatter().parse(phrase.en) if f[1]}
        assert names == {f[1] for f in string.Formatter().parse(phrase.vi) if f[1]}, phrase


# -- the command line ------------------------------------------------------------------------


def _entry() -> list[str]:
    return [sys.executable, "-m", "checkin"]


def _run(args: list[str], env_dir: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(env_dir / "config"),
        "XDG_DATA_HOME": str(env_dir / "data"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    env.pop("CHECKIN_CONFIG", None)
    env.pop("CHECKIN_GATEWAY_PASSWORD", None)
    return subprocess.run(
        [*_entry(), *args], capture_output=True, text=True, env=env, timeout=30, cwd=ROOT
    )


def test_doctor_and_readers_commands(good_config, isolated):
    """GIVEN a good configuration file WHEN ``checkin doctor --json`` runs THEN it exits 0 with
    every check; with the gateway on a closed port it still exits 0 (it ran; contract: 0 done)
    and reports ✗, and exits 1 only under ``--strict``; a missing file is usage (2);
    ``checkin readers --json`` lists the three kinds of device."""
    path = isolated / "checkin.toml"
    write_config(path, good_config)
    done = _run(["doctor", "--json", "--config", str(path)], isolated)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert data["ok"] is True
    assert {c["name"] for c in data["checks"]} >= {"gateway", "store", "pcscd", "camera"}
    assert all({"ok", "summary", "fix", "required", "detail"} <= set(c) for c in data["checks"])

    down = replace(
        good_config, gateway=replace(good_config.gateway, url=f"http://127.0.0.1:{closed_port()}")
    )
    write_config(path, down)
    failed = _run(["doctor", "--config", str(path)], isolated)
    assert failed.returncode == 0, failed.stderr
    line = next(x for x in failed.stdout.splitlines() if "Gateway" in x)
    assert line.startswith("✗") and "refused" in line and "fix:" in line
    as_json = _run(["doctor", "--json", "--config", str(path)], isolated)
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["ok"] is False
    strict = _run(["doctor", "--strict", "--config", str(path)], isolated)
    assert strict.returncode == 1
    assert any(x.startswith("✗") and "Gateway" in x for x in strict.stdout.splitlines())
    write_config(isolated / "good.toml", good_config)
    healthy = _run(["doctor", "--strict", "--config", str(isolated / "good.toml")], isolated)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr

    missing = _run(["doctor", "--config", str(isolated / "nope.toml")], isolated)
    assert missing.returncode == 2 and "not found" in missing.stderr

    readers = _run(["readers", "--json"], isolated)
    assert readers.returncode == 0
    assert {"cameras", "pcsc", "serial"} <= set(json.loads(readers.stdout))


def test_a_hung_check_costs_its_limit_and_keeps_every_line(isolated, monkeypatch):
    """GIVEN the PC/SC service hanging (a stuck pcscd) WHEN the doctor runs with a 1.5 s budget
    THEN it returns on time, says so on the pcscd line, and still lists the chip reader."""
    import threading

    hang = threading.Event()
    monkeypatch.setattr(doctor, "pcsc_readers", lambda: hang.wait(30) and ([], None))
    start = time.monotonic()
    checks = run_checks(Config(), time_limit_s=1.5)
    hang.set()
    assert time.monotonic() - start < 2.0
    found = by_name(checks)
    assert found["pcscd"].ok is False and "no answer within" in found["pcscd"].summary
    assert found["chip_reader"].ok is None
    assert len(checks) == 10
