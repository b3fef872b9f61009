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


def _env(env: dict | None = None) -> dict:
    # A throwaway data folder: the error log and default store never touch the real home.
    data_home = {"XDG_DATA_HOME": _DATA_HOME.name, "XDG_CONFIG_HOME": _DATA_HOME.name}
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **data_home, **(env or {})}
    full_env.pop("CHECKIN_CONFIG", None)
    return full_env


def run(
    *args: str, stdin: str | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "checkin", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(env),
        timeout=60,
        cwd=ROOT,
    )


def assert_one_line_exit_2(result: subprocess.CompletedProcess, *expected: str) -> None:
    """Bad input: exit 2, one line on stderr saying ``expected``, nothing on stdout."""
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("checkin: ") and "Traceback" not in result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


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


def test_intake_of_a_number_alone_creates_no_store(tmp_path):
    """Exit 2 writes nothing anywhere: not even an empty store in a new folder."""
    config = tmp_path / "c.toml"
    store = tmp_path / "new" / "n.db"
    config.write_text(f'[store]\npath = "{store}"\n', encoding="utf-8")
    result = run("--config", str(config), "intake", "DN4010123456789")
    assert result.returncode == 2 and "a number alone" in result.stderr
    assert not store.parent.exists()


def test_visits_on_a_store_not_yet_made_lists_none_and_creates_nothing(tmp_path):
    config = tmp_path / "c.toml"
    store = tmp_path / "new" / "n.db"
    config.write_text(f'[store]\npath = "{store}"\n', encoding="utf-8")
    result = run("--config", str(config), "visits", "--json")
    assert result.returncode == 0 and json.loads(result.stdout) == []
    assert not store.parent.exists()


def test_a_password_of_the_wrong_type_is_not_printed(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[gateway]\npassword = 98765432123\n", encoding="utf-8")
    result = run("--config", str(config), "visits")
    assert result.returncode == 2 and "gateway.password must be text" in result.stderr
    assert "98765432123" not in result.stderr + result.stdout


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
    import sqlite3
    from datetime import date

    from checkin.store import Store

    store_file = tmp_path / "damaged.db"  # a checkin store with a visit whose record is broken
    Store(store_file).close()
    with sqlite3.connect(store_file) as db:
        db.execute(
            "INSERT INTO visits (intake_key, visit_date, queue_number, patient_key, status,"
            " identity_json, decision_json) VALUES ('k', ?, 1, 'p', 'eligible', '{', '{')",
            [date.today().isoformat()],
        )
    db.close()
    config = tmp_path / "c.toml"
    config.write_text(f'[store]\npath = "{store_file}"\n', encoding="utf-8")
    result = run("--config", str(config), "visits", env={"XDG_DATA_HOME": str(tmp_path)})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    logged = Path(tmp_path / "checkin" / "checkin-errors.log").read_text()
    header, second = logged.splitlines()[:2]
    assert header.startswith("=== ") and header.endswith(" checkin visits")
    assert str(config) not in header  # the command's name, never its arguments
    assert second.startswith("Traceback")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "99999"], "--port must be 0-65535, got 99999"),
        (["--port", "-1"], "--port must be 0-65535, got -1"),
        (["--population", "{dir}/bad.json"], "bad.json: not valid UTF-8 JSON"),
        (["--population", "{dir}/list.json"], "list.json: top level must be a JSON object"),
        (["--population", "{dir}/people.json"], "people.json: "),
    ],
)
def test_sandbox_bad_port_or_population_is_exit_2(tmp_path, args, message):
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "list.json").write_text("[]", encoding="utf-8")
    (tmp_path / "people.json").write_text('{"people": []}', encoding="utf-8")
    result = run("sandbox", *(a.format(dir=tmp_path) for a in args))
    assert_one_line_exit_2(result, message)


def test_read_card_photo_that_is_a_folder_is_refused_before_reading(tmp_path):
    # Refused before PC/SC is touched: the same answer with or without a card on a reader.
    result = run("read-card", "--can", "123456", "--photo", str(tmp_path))
    assert_one_line_exit_2(result, f"--photo: {tmp_path} is a folder")


def _store_under_a_file(tmp_path: Path) -> Path:
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    return tmp_path / "plain" / "sub" / "x.db"


def _store_is_a_folder(tmp_path: Path) -> Path:
    (tmp_path / "folder").mkdir()
    return tmp_path / "folder"


def _store_not_sqlite(tmp_path: Path) -> Path:
    (tmp_path / "notes.txt").write_text("not a database\n", encoding="utf-8")
    return tmp_path / "notes.txt"


def _store_other_sqlite(tmp_path: Path) -> Path:
    import sqlite3

    with sqlite3.connect(tmp_path / "other.db") as db:
        db.execute("CREATE TABLE patients (anything)")
    db.close()
    return tmp_path / "other.db"


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (_store_under_a_file, "which is a file, not a folder"),
        (_store_is_a_folder, "is a folder"),
        (_store_not_sqlite, "is not a checkin database"),
        (_store_other_sqlite, "is not a checkin database"),
    ],
)
@pytest.mark.parametrize(
    "command", [["visits"], ["purge"], ["intake", payload("eligible-old")], ["desk"]]
)
def test_bad_store_path_is_exit_2_naming_it(tmp_path, make, why, command):
    """The desk too: it says so before any window opens (a window would wait to be closed)."""
    store = make(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text(f'[store]\npath = "{store}"\n', encoding="utf-8")
    before = sorted(tmp_path.rglob("*"))
    data = store.read_bytes() if store.is_file() else None
    env = {"XDG_DATA_HOME": str(tmp_path / "x"), "QT_QPA_PLATFORM": "offscreen"}
    result = run("--config", str(config), *command, env=env)
    assert_one_line_exit_2(result, f"store path {store} ", why)
    assert "unexpected" not in result.stderr
    if command == ["desk"]:
        assert f"fix [store] path in the configuration file {config}" in result.stderr
    assert sorted(tmp_path.rglob("*")) == before  # nothing made
    assert (store.read_bytes() if store.is_file() else None) == data  # nor changed


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_desk_with_a_store_path_that_cannot_be_created_is_exit_2(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[store]\npath = "/proc/forbidden/x.db"\n', encoding="utf-8")
    env = {"XDG_DATA_HOME": str(tmp_path / "x"), "QT_QPA_PLATFORM": "offscreen"}
    result = run("--config", str(config), "desk", env=env)
    assert_one_line_exit_2(result, "store path /proc/forbidden/x.db cannot be created", "[store]")
    assert "unexpected" not in result.stderr


@pytest.mark.parametrize(
    "day",
    ["20261122", "2026W477", "2026-W47-7", "2026-11-22T00:00", "2026-02-30", "２０２６-11-22"],
)
def test_visits_date_must_be_yyyy_mm_dd(day):
    assert_one_line_exit_2(run("visits", "--date", day), f"--date must be YYYY-MM-DD, got {day!r}")


def test_scan_stderr_carries_only_our_lines(tmp_path):
    # Cut-off files, unless silenced: OpenCV warns "[ WARN:0@0.01] global grfmt_png.cpp …
    # PNG input buffer is incomplete" (cut early), libpng "libpng error: PNG input buffer is
    # incomplete" (cut later), FFmpeg "[mjpeg @ 0x…] overread 8".
    png = (FIXTURES / "images" / "eligible-old.png").read_bytes()
    for size in (3000, len(png) // 2):
        (tmp_path / "cut.png").write_bytes(png[:size])
        result = run("scan", "--json", str(tmp_path / "cut.png"))
        assert_one_line_exit_2(result, "cut.png: not an image")
    avi = (FIXTURES / "videos" / "bad-group-051.avi").read_bytes()
    (tmp_path / "cut.avi").write_bytes(avi[: len(avi) // 2])
    result = run("scan", "--json", str(tmp_path / "cut.avi"))
    assert result.returncode == 0 and result.stderr == ""
    assert json.loads(result.stdout)["parsed"]["full_name"] == "Mai Văn Long"


def test_scan_prints_nothing_when_any_file_is_unreadable(tmp_path):
    bad = tmp_path / "notimage.png"
    bad.write_text("hello", encoding="utf-8")
    good = FIXTURES / "images" / "eligible-old.png"
    for files in ([bad, good], [good, bad]):
        result = run("scan", "--json", *map(str, files))
        assert_one_line_exit_2(result, f"{bad}: not an image")


@pytest.mark.parametrize(
    "args", [["doctor", "--json"], ["parse", "--json", payload("eligible-old")]]
)
def test_stdout_closed_by_its_reader_is_quiet(tmp_path, args):
    # `checkin doctor --json | head -c 300`: the reader goes away before we are done writing.
    proc = subprocess.Popen(
        [sys.executable, "-m", "checkin", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env({"XDG_DATA_HOME": str(tmp_path)}),
        cwd=ROOT,
    )
    proc.stdout.close()
    stderr = proc.communicate(timeout=60)[1]
    assert (proc.returncode, stderr) == (141, b"")  # 128 + SIGPIPE, as `yes | head` gives
    assert not (tmp_path / "checkin" / "checkin-errors.log").exists()


def test_arguments_that_are_not_utf8_are_exit_2(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "x.db"}"\n', encoding="utf-8")
    # A terminal in a Latin-1 locale sends b"Tr\xffn"; Python keeps the byte as a surrogate.
    args = ["--card", "DN4010123456789", "--name", "Tr\udcffn", "--dob", "12/05/1985"]
    result = run("--config", str(config), "check", *args)
    assert_one_line_exit_2(result, "argument 'Tr\\xffn' is not valid UTF-8 text")
    result = run("--config", str(config), "intake", "DN40\udcff")
    assert_one_line_exit_2(result, "argument 'DN40\\xff' is not valid UTF-8 text")


def test_standard_input_that_is_not_utf8_is_exit_2(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "x.db"}"\n', encoding="utf-8")
    latin1 = payload("eligible-cccd").replace("Lê", "L\udcff").encode("utf-8", "surrogateescape")
    for args in (["parse", "-"], ["--config", str(config), "intake", "-"]):
        result = subprocess.run(
            [sys.executable, "-m", "checkin", *args],
            input=latin1,
            capture_output=True,
            env=_env(),
            timeout=60,
            cwd=ROOT,
        )
        result = subprocess.CompletedProcess(
            result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
        )
        assert_one_line_exit_2(result, "standard input is not valid UTF-8 text")
    assert not (tmp_path / "x.db").exists()  # no visit registered


def test_evidence_on_a_store_not_yet_made_creates_nothing(tmp_path):
    config = tmp_path / "c.toml"
    store = tmp_path / "new" / "n.db"
    config.write_text(f'[store]\npath = "{store}"\n', encoding="utf-8")
    result = run("--config", str(config), "evidence", "1")
    assert result.returncode == 2 and "no visit 1" in result.stderr
    assert not store.parent.exists()
