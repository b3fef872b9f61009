"""A newcomer's audit of the command line: --json everywhere, a readable error log, a doctor
that does not fail a serial-scanner desk for lacking a camera, clear lines for odd input."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests

from checkin import cli, doctor
from checkin.config import (
    CameraConfig,
    Config,
    SerialConfig,
    StoreConfig,
    config_file,
    gateway_settings_message,
    phrases,
)
from checkin.doctor import camera_required, check_errors, final_exception, run_checks
from tests.conftest import ROOT
from tests.test_cli import _env, assert_one_line_exit_2, run

# -- 1. --json for sandbox and demo ----------------------------------------------------------


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # what the gateway protocol wants


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sandbox_json_prints_one_line_once_listening():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "checkin", "sandbox", "--json", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=ROOT,
    )
    try:
        ready = json.loads(proc.stdout.readline())
        assert set(ready) == {
            "url",
            "username",
            "password",
            "officer_name",
            "officer_id",
            "facility_code",
            "admin",
        }
        assert ready["url"] == f"http://127.0.0.1:{port}"
        assert ready["admin"] == f"{ready['url']}/_sandbox/faults"
        token = requests.post(
            f"{ready['url']}/api/token/take",
            data={"username": ready["username"], "password": md5(ready["password"])},
            timeout=5,
        )
        assert token.status_code == 200  # the account it printed is the one it serves
        fault = requests.post(ready["admin"], json={"mode": "none"}, timeout=5)
        assert fault.status_code == 200
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert out == ""  # nothing after the one line


def _demo(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    shot = tmp_path / "demo.png"
    return subprocess.run(
        [sys.executable, "-m", "checkin", "demo", "--fast", "--screenshot", str(shot), *extra],
        capture_output=True,
        text=True,
        env=_env({"QT_QPA_PLATFORM": "offscreen"}),
        timeout=120,
        cwd=ROOT,
    )


def test_demo_json_is_one_document_and_plain_stays_lines(tmp_path):
    if not (ROOT / "fixtures" / "demo.txt").is_file():
        pytest.skip("no demo fixtures")
    result = _demo(tmp_path, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # the whole of stdout: one document
    assert set(data) == {"visits", "recordings", "screenshot", "seconds"}
    recordings = data["recordings"]
    assert recordings["serial_streams"] == 1 and recordings["keystroke_recordings"] == 1
    assert len(data["visits"]) == recordings["videos"] + 3  # 2 serial scans, 1 keystroke burst
    visit = data["visits"][0]
    assert {"visit_id", "queue_number", "status", "patient", "decision"} <= set(visit)
    assert sorted(v["queue_number"] for v in data["visits"]) == list(
        range(1, len(data["visits"]) + 1)
    )
    assert Path(data["screenshot"]).read_bytes()[:4] == b"\x89PNG"
    assert data["seconds"] >= 0

    plain = _demo(tmp_path)  # what `make run` shows
    assert plain.returncode == 0, plain.stderr
    lines = plain.stdout.splitlines()
    assert sum(line.startswith("#") for line in lines) == len(data["visits"])
    assert any(line.startswith("demo: ") for line in lines)
    assert any(line.startswith("screenshot: ") for line in lines)


# -- 2. the error log: entries with a time and a command -------------------------------------


def _stamp(ago: timedelta) -> str:
    return (datetime.now().astimezone() - ago).isoformat(timespec="seconds")


def test_unexpected_error_is_logged_with_time_and_command_only(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))

    def boom(args):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(cli, "cmd_parse", boom)
    secret = "DN4010123456789|Nguyen"
    assert cli.main(["parse", secret]) == 1
    entry = (tmp_path / "checkin" / "checkin-errors.log").read_text(encoding="utf-8")
    header = entry.splitlines()[0]
    assert header.startswith("=== ") and header.endswith(" checkin parse")
    assert datetime.fromisoformat(header.split()[1]).tzinfo is not None
    assert secret not in entry.splitlines()[0]
    check = check_errors(None, tmp_path / "checkin")
    assert check.values["count"] == 1
    error = check.values["error"]
    assert error == "checkin parse: RecursionError: maximum recursion depth exceeded"


def test_doctor_reads_entries_by_their_header_time(tmp_path):
    (tmp_path / "checkin-errors.log").write_text(
        f"=== {_stamp(timedelta(days=3))} checkin scan\n"
        "Traceback (most recent call last):\n"
        '  File "cli.py", line 1, in main\n'
        "ValueError: an old one\n"
        f"=== {_stamp(timedelta(hours=1))} checkin intake\n"
        "Traceback (most recent call last):\n"
        '  File "cli.py", line 2, in f\n'
        "    return f()\n"
        "           ^^^\n"
        "  [Previous line repeated 996 more times]\n"
        "RecursionError: maximum recursion depth exceeded\n"
        f"=== {_stamp(timedelta(minutes=5))} checkin visits\n"
        "Traceback (most recent call last):\n"
        '  File "store.py", line 9, in visit\n'
        "    row['x']\n"
        "    ^^^^^^^^\n"
        "ValueError: inner\n"
        "\n"
        "During handling of the above exception, another exception occurred:\n"
        "\n"
        "Traceback (most recent call last):\n"
        '  File "cli.py", line 5, in visits\n'
        "    store.visit(1)\n"
        "KeyError: '001090000001'\n",
        encoding="utf-8",
    )
    check = check_errors(None, tmp_path)
    assert check.ok is False and not check.required
    assert check.values["count"] == 2  # the 3-day-old one is not recent
    assert check.values["error"] == "checkin visits: KeyError: '********0001'"
    assert check.summary.startswith("2 error(s) in the last 24 hours; latest at ")
    assert "^^^" not in check.detail and "File " not in check.detail
    assert "checkin scan: ValueError: an old one" in check.detail  # listed, not counted
    assert "001090000001" not in check.detail + check.summary


def test_doctor_reads_an_old_log_without_headers_by_its_mtime(tmp_path):
    log = tmp_path / "checkin-errors.log"
    log.write_text(  # the tail of a file in the old format: partial lines first
        "    ^^^^^\nKeyError: 'x'\nTraceback (most recent call last):\n"
        '  File "a.py", line 1, in f\n    g()\n    ^^^\nOSError: [Errno 28] disk full\n',
        encoding="utf-8",
    )
    check = check_errors(None, tmp_path)
    assert check.values["count"] == 1
    assert check.values["error"] == "checkin: OSError: [Errno 28] disk full"
    old = (datetime.now() - timedelta(days=2)).timestamp()
    os.utime(log, (old, old))
    assert check_errors(None, tmp_path).ok is True


def test_doctor_counts_desk_errors_with_their_exception(tmp_path):
    now = datetime.now()
    at = (now - timedelta(minutes=2)).strftime("%Y-%m-%d %H:%M:%S")
    old = (now - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    (tmp_path / "desk.log").write_text(
        f"{old},001 ERROR ui.workers: intake failed\n"
        f"{at},100 INFO ui.app: desk ready\n"
        f"{at},200 ERROR ui.workers: intake failed\n"
        "Traceback (most recent call last):\n"
        '  File "workers.py", line 3, in run\n'
        "    intake.handle(text)\n"
        "    ^^^^^^^^^^^^^^^^^^^\n"
        "sqlite3.OperationalError: database is locked\n"
        f"{at},300 WARNING drivers.camera_feed: camera 0 gone\n",
        encoding="utf-8",
    )
    check = check_errors(None, tmp_path)
    assert check.values["count"] == 1
    assert check.values["error"] == (
        "desk ui.workers: intake failed: sqlite3.OperationalError: database is locked"
    )
    assert "desk ready" not in check.detail and "^^^" not in check.detail


def test_final_exception_line():
    assert final_exception(["Traceback (most recent call last):", "  x", "KeyError: 1"]) == (
        "KeyError: 1"
    )
    assert final_exception(["    ^^^^", "  [Previous line repeated 3 more times]"]) is None
    assert final_exception(["  File 'x'", "StopIteration"]) == "StopIteration"


# -- 3. the camera is optional on a serial-scanner desk --------------------------------------


def test_camera_is_required_only_when_the_desk_counts_on_it():
    serial = SerialConfig(url="loop://")
    assert camera_required(Config())
    assert not camera_required(Config(serial=serial))
    assert camera_required(Config(serial=serial, camera=CameraConfig(source="1")))
    assert camera_required(Config(serial=serial, camera=CameraConfig(source="rtsp://cam/1")))


def test_strict_doctor_does_not_fail_a_serial_desk_for_its_camera(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(doctor, "probe_cameras", lambda indexes=(): [])  # a camera-less machine
    config = Config(
        serial=SerialConfig(url="loop://"), store=StoreConfig(path=str(tmp_path / "s.db"))
    )
    checks = {c.name: c for c in run_checks(config)}
    camera = checks["camera"]
    assert camera.ok is False and not camera.required and not camera.failed
    assert "serial scanner" in camera.detail
    assert checks["serial"].ok is True and checks["serial"].required
    alone = {c.name: c for c in run_checks(replace_serial(config, ""))}["camera"]
    assert alone.ok is False and alone.failed  # no other scanner: the camera is needed


def replace_serial(config: Config, url: str) -> Config:
    from dataclasses import replace

    return replace(config, serial=SerialConfig(url=url))


def test_a_crashed_optional_check_stays_optional(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))

    def crash(config):
        raise RuntimeError("keyring exploded")

    monkeypatch.setattr(doctor, "check_keyring", crash)
    keyring = {c.name: c for c in run_checks(None, config_error="x")}["keyring"]
    assert keyring.ok is False and not keyring.required and not keyring.failed


# -- 4. odd input: a huge visit number, a folder to scan -------------------------------------


def test_evidence_of_a_visit_number_too_big_for_sqlite(tmp_path):
    store = tmp_path / "s.db"
    config = tmp_path / "c.toml"
    config.write_text(f'[store]\npath = "{store}"\n', encoding="utf-8")
    result = run("--config", str(config), "evidence", "99999999999999999999")
    assert_one_line_exit_2(result, "no visit 99999999999999999999")
    assert not store.exists()


def test_scan_of_a_folder_says_so():
    assert_one_line_exit_2(run("scan", "fixtures/"), "fixtures/ is a folder, not a file")


# -- 6. the desk keeps OpenCV's errors, not its warnings -------------------------------------


@pytest.mark.parametrize("command", ["desk", "demo"])
def test_desk_and_demo_quiet_opencv_warnings(monkeypatch, command):
    seen = {}

    def fake(args):
        seen.update({k: env.get(k) for k in ("OPENCV_LOG_LEVEL", "OPENCV_FFMPEG_LOGLEVEL")})
        return 0

    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")}
    monkeypatch.setattr(os, "environ", env)
    monkeypatch.setattr(cli, f"cmd_{command}", fake)
    assert cli.main([command]) == 0
    assert seen == {"OPENCV_LOG_LEVEL": "ERROR", "OPENCV_FFMPEG_LOGLEVEL": "16"}
    env["OPENCV_LOG_LEVEL"] = "DEBUG"  # still raised to debug on purpose
    assert cli.main([command]) == 0
    assert seen["OPENCV_LOG_LEVEL"] == "DEBUG"


# -- 7. where the gateway password goes ------------------------------------------------------


def test_missing_password_names_every_place_and_the_file(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(
        '[gateway]\nusername = "01001_BV"\nofficer_name = "A"\nofficer_id = "001090000001"\n'
        f'[store]\npath = "{tmp_path / "s.db"}"\n',
        encoding="utf-8",
    )
    result = run(
        "--config",
        str(config),
        "check",
        "--card",
        "0123456789",
        "--name",
        "A",
        "--dob",
        "1980",
        env={"CHECKIN_GATEWAY_PASSWORD": ""},
    )
    assert_one_line_exit_2(
        result,
        "no gateway password: set it in Settings → Gateway (kept in the system keyring), or"
        f" CHECKIN_GATEWAY_PASSWORD, or gateway.password in {config}",
    )


def test_gateway_settings_message_and_its_vietnamese_twin(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("CHECKIN_CONFIG", raising=False)
    text = gateway_settings_message(Config())
    assert text.startswith("gateway not configured: set gateway.username,")
    assert f"in {config_file()};" in text and "CHECKIN_GATEWAY_PASSWORD" in text
    ours = [p for p in phrases() if "gateway.password in {path}" in p.en]
    assert ours and all("CHECKIN_GATEWAY_PASSWORD" in p.vi and "{path}" in p.vi for p in ours)
