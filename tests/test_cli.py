"""The `checkin` command line, run as a user runs it: a subprocess, real sandbox, real file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests

from tests.conftest import FIXTURES, ROOT, payload

_DATA_HOME = tempfile.TemporaryDirectory(prefix="checkin-cli-test-")

CONTRACT_PARSE_KEYS = {
    "kind",
    "template",
    "card_number",
    "social_insurance_number",
    "citizen_id",
    "old_id_number",
    "full_name",
    "date_of_birth",
    "gender",
    "address",
    "registered_facility",
    "valid_from",
    "valid_to",
    "issue_date",
    "five_year_date",
    "area_code",
}
CONTRACT_DECISION_KEYS = {
    "status",
    "result_code",
    "message",
    "source",
    "card_number",
    "valid_from",
    "valid_to",
    "registered_facility",
    "checked_at",
}


def run(
    *args: str, stdin: str | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    # A throwaway data folder: the error log and default store never touch the real home.
    data_home = {"XDG_DATA_HOME": _DATA_HOME.name, "XDG_CONFIG_HOME": _DATA_HOME.name}
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **data_home, **(env or {})}
    full_env.pop("CHECKIN_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "checkin", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        cwd=ROOT,
    )


def test_parse_prints_the_contract_json():
    result = run("parse", "--json", payload("eligible-old"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= CONTRACT_PARSE_KEYS
    assert data["kind"] == "bhyt" and data["template"] == "old"
    assert data["full_name"] == "Trần Thị Mai"


def test_parse_reads_stdin_and_prints_text_by_default():
    result = run("parse", "-", stdin=payload("eligible-cccd") + "\r\n")
    assert result.returncode == 0, result.stderr
    assert "citizen ID" in result.stdout


@pytest.mark.parametrize("garbage", ["hello", "DN4|x|$", "1" * 12 + "|||", "\x00\x01", ""])
def test_parse_garbage_exits_2_with_one_line(garbage):
    result = run("parse", "--json", "-", stdin=garbage)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_usage_errors_are_one_line():
    for args in (["frobnicate"], ["check", "--name", "A"], ["visits", "--date", "yesterday"]):
        result = run(*args)
        assert result.returncode == 2, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_check_by_card_and_by_id(desk_config):
    result = run(
        "--config",
        str(desk_config),
        "check",
        "--json",
        "--card",
        "DN4010123456789",
        "--name",
        "Trần Thị Mai",
        "--dob",
        "12/05/1985",
    )
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert set(decision) >= CONTRACT_DECISION_KEYS
    assert (decision["status"], decision["result_code"], decision["source"]) == (
        "eligible",
        "000",
        "online",
    )
    result = run(
        "--config",
        str(desk_config),
        "check",
        "--json",
        "--id",
        "001185012345",
        "--name",
        "Trần Thị Mai",
        "--dob",
        "1985-05-12",
    )
    assert json.loads(result.stdout)["card_number"] == "DN4010123456789"


def test_check_rejects_bad_input_before_any_lookup(desk_config):
    for extra in (["--card", "XX"], ["--id", "123"]):
        result = run("--config", str(desk_config), "check", *extra, "--name", "A", "--dob", "1980")
        assert result.returncode == 2
    result = run(
        "--config",
        str(desk_config),
        "check",
        "--card",
        "0123456789",
        "--name",
        "A",
        "--dob",
        "31/02/1980",
    )
    assert result.returncode == 2 and "--dob" in result.stderr


def test_check_without_gateway_settings_says_which(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[store]\npath = "x.db"\n', encoding="utf-8")
    result = run(
        "--config", str(config), "check", "--card", "0123456789", "--name", "A", "--dob", "1980"
    )
    assert result.returncode == 2 and "gateway.username" in result.stderr


def test_intake_then_visits(desk_config):
    first = run("--config", str(desk_config), "intake", "--json", payload("eligible-old"))
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert {"visit_id", "queue_number", "patient", "decision"} <= set(data)
    assert data["queue_number"] == 1 and data["decision"]["status"] == "eligible"
    second = json.loads(
        run("--config", str(desk_config), "intake", "--json", payload("expired-010")).stdout
    )
    assert second["queue_number"] == 2 and second["decision"]["status"] == "not_eligible"
    visits = json.loads(run("--config", str(desk_config), "visits", "--json").stdout)
    assert [v["queue_number"] for v in visits] == [1, 2]
    assert (
        run("--config", str(desk_config), "visits", "--date", "2001-01-01", "--json").stdout.strip()
        == "[]"
    )


def test_intake_with_gateway_down_still_admits_then_sync_rechecks(desk_config, healthy_sandbox):
    healthy_sandbox.faults.set("down")
    result = run("--config", str(desk_config), "intake", "--json", payload("eligible-new"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["decision"]["status"] == "unverified" and data["decision"]["source"] == "none"
    healthy_sandbox.faults.set("none")
    counts = json.loads(run("--config", str(desk_config), "sync", "--json").stdout)
    assert counts == {"sent": 1, "rechecked": 1, "failed": 0, "pending": 0}
    visits = json.loads(run("--config", str(desk_config), "visits", "--json").stdout)
    assert visits[0]["status"] == "eligible"


def test_intake_of_garbage_writes_nothing(desk_config):
    result = run("--config", str(desk_config), "intake", "not a qr")
    assert result.returncode == 2
    visits = json.loads(run("--config", str(desk_config), "visits", "--json").stdout)
    assert visits == []


def test_bad_config_is_exit_2(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[gateway]\nurl = "ftp://x"\n', encoding="utf-8")
    result = run("--config", str(config), "visits")
    assert result.returncode == 2 and "gateway.url" in result.stderr


def test_scan_images_and_videos():
    image = FIXTURES / "images" / "eligible-old.png"
    video = FIXTURES / "videos" / "eligible-cccd.avi"
    result = run("scan", "--json", str(image), str(video))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {line["file"] for line in lines} == {str(image), str(video)}
    by_file = {line["file"]: line for line in lines}
    assert by_file[str(image)]["frame"] is None
    assert isinstance(by_file[str(video)]["frame"], int)
    assert by_file[str(image)]["payload"] == payload("eligible-old")
    assert by_file[str(video)]["parsed"]["kind"] == "cccd"
    assert all(line["error"] is None for line in lines)


def test_scan_missing_file_is_exit_2():
    result = run("scan", "/nonexistent.png")
    assert result.returncode == 2


def test_sandbox_command_serves_the_protocol():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "checkin", "sandbox", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        line = proc.stdout.readline()
        assert f"127.0.0.1:{port}" in line
        reply = requests.post(
            f"http://127.0.0.1:{port}/api/token/take",
            data={"username": "01001_BV", "password": "bad"},
            timeout=5,
        )
        assert reply.status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_no_traceback_on_unexpected_errors(tmp_path):
    store_dir = tmp_path / "store-is-a-file"
    store_dir.write_text("x")
    config = tmp_path / "c.toml"
    config.write_text(f'[store]\npath = "{store_dir}/sub/x.db"\n', encoding="utf-8")
    result = run("--config", str(config), "visits", env={"XDG_DATA_HOME": str(tmp_path)})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert Path(tmp_path / "checkin" / "checkin-errors.log").read_text().startswith("Traceback")
