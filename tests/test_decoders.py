"""Choosing the QR decoder (zxing-cpp or ZBar), falling back when one is missing, and telling
images from videos by content (issue 3, item 1)."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys

import cv2
import pytest
from PySide6.QtWidgets import QComboBox

from checkin import qr
from checkin.config import CameraConfig, Config, StoreConfig, load_config, write_config
from checkin.formats import parse_payload
from checkin.qr import DecoderUnavailable, NoDecoder, make_decoder, scan_file
from drivers.camera import ReplayCamera
from tests.conftest import FIXTURES, ROOT, payload
from tests.test_cli import _env, run

STILLS = sorted(p for p in (FIXTURES / "images").glob("*.png") if not p.stem.startswith("empty"))

# Run the command line with some decoder libraries made unimportable, as on a machine
# without them: ``sys.modules[name] = None`` makes ``import name`` raise ImportError.
WITHOUT = """
import sys
for name in sys.argv[1].split(","):
    if name:
        sys.modules[name] = None
from checkin.cli import main
sys.exit(main(sys.argv[2:]))
"""


def run_without(modules: list[str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT, ",".join(modules), *args],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
        cwd=ROOT,
    )


# -- the backends ----------------------------------------------------------------------------


def test_zbar_reads_the_fixture_cards_byte_for_byte() -> None:
    """ZBar in binary mode: the raw bytes, UTF-8 decoded by us (no Shift-JIS guess). It reads
    fewer codes than zxing-cpp (the small, tilted eligible-cccd and wrong-dob-070 cards not at
    all), but what it reads is exact."""
    decoder = make_decoder("zbar")
    assert decoder.name == "zbar"
    read = 0
    for still in STILLS:
        expected = (FIXTURES / "payloads" / f"{still.stem}.txt").read_bytes()
        hits = list(scan_file(still, decoder))
        assert [h.raw for h in hits] in ([expected], []), still.name
        if hits:
            read += 1
            assert hits[0].payload == expected.decode("utf-8") and hits[0].frame is None
    assert read >= len(STILLS) - 2


@pytest.mark.parametrize(
    ("key", "name"), [("eligible-cccd", "Lê Thị Bình"), ("wrong-dob-070", "Dương Thị Thanh")]
)
def test_zbar_gives_utf8_vietnamese_names_ungarbled(key: str, name: str) -> None:
    """CCCD QR codes carry UTF-8 with no ECI header, which ZBar's own text output reads as
    Shift-JIS ("Hu盻ｳnh"); through our raw-bytes path the names come out right."""
    hits = list(scan_file(FIXTURES / "videos" / f"{key}.avi", make_decoder("zbar")))
    assert [h.payload for h in hits] == [payload(key)]
    assert parse_payload(hits[0].payload).full_name == name


def test_a_missing_backend_falls_back_to_the_other_with_one_warning(monkeypatch, caplog) -> None:
    monkeypatch.setitem(sys.modules, "zxingcpp", None)
    with caplog.at_level(logging.WARNING, logger="checkin.qr"):
        decoder = make_decoder("zxing")
    assert isinstance(decoder, qr.ZbarDecoder)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "using zbar instead" in warnings[0].getMessage()
    assert warnings[0].exc_info is None  # one line, no traceback
    hits = list(scan_file(FIXTURES / "images" / "eligible-old.png", decoder))
    assert [h.payload for h in hits] == [payload("eligible-old")]


def test_zbar_missing_falls_back_to_zxing(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pyzbar.wrapper", None)
    assert isinstance(make_decoder("zbar"), qr.ZxingDecoder)
    status = qr.available_decoders()  # doctor still sees ZBar as missing
    assert status["zxing"] is None and "ZBar is not available" in status["zbar"]


def test_neither_backend_is_one_clear_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "zxingcpp", None)
    monkeypatch.setitem(sys.modules, "pyzbar.wrapper", None)
    with pytest.raises(NoDecoder, match="no QR decoder: install zxing-cpp or pyzbar"):
        make_decoder()
    assert issubclass(NoDecoder, DecoderUnavailable)


def test_unknown_backend_name_is_still_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown QR decoder 'wechat'"):
        make_decoder("wechat", fallback=False)


# -- checkin scan ----------------------------------------------------------------------------


def test_scan_with_zbar_chosen() -> None:
    image = FIXTURES / "images" / "eligible-old.png"
    video = FIXTURES / "videos" / "eligible-cccd.avi"
    result = run("scan", "--json", "--decoder", "zbar", str(image), str(video))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    still, clip = (json.loads(line) for line in result.stdout.splitlines())
    assert still["frame"] is None and still["error"] is None
    assert still["payload"] == payload("eligible-old")
    assert still["parsed"]["full_name"] == "Trần Thị Mai"
    assert isinstance(clip["frame"], int) and clip["payload"] == payload("eligible-cccd")
    assert clip["parsed"]["full_name"] == "Lê Thị Bình"


def test_scan_decoder_comes_from_the_config(tmp_path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[camera]\ndecoder = "zbar"\n', encoding="utf-8")
    image = str(FIXTURES / "images" / "eligible-old.png")
    # Without zxing-cpp, a configured zbar is used silently: no fallback warning.
    result = run_without(["zxingcpp"], "--config", str(config), "scan", "--json", image)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert json.loads(result.stdout)["payload"] == payload("eligible-old")
    config.write_text('[camera]\ndecoder = "wechat"\n', encoding="utf-8")
    result = run("--config", str(config), "scan", image)
    assert result.returncode == 2 and "camera.decoder must be one of" in result.stderr


def test_scan_without_zxing_falls_back_to_zbar() -> None:
    image = FIXTURES / "images" / "eligible-old.png"
    result = run_without(["zxingcpp"], "scan", "--json", str(image))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["payload"] == payload("eligible-old")
    assert result.stderr.count("\n") == 1 and "using zbar instead" in result.stderr
    assert "Traceback" not in result.stderr


def test_scan_with_no_decoder_at_all_is_one_line_exit_1() -> None:
    image = FIXTURES / "images" / "eligible-old.png"
    result = run_without(["zxingcpp", "pyzbar.wrapper"], "scan", "--json", str(image))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("checkin: no QR decoder: install zxing-cpp or pyzbar")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_scan_rejects_an_unknown_decoder() -> None:
    result = run("scan", "--decoder", "wechat", str(FIXTURES / "images" / "eligible-old.png"))
    assert result.returncode == 2 and "invalid choice" in result.stderr


# -- images told from videos by content ------------------------------------------------------


@pytest.mark.parametrize("name", ["card", "card.bak", "card.jfif", "card.gif", "card.avi"])
def test_an_image_under_any_name_is_an_image(tmp_path, name) -> None:
    source = FIXTURES / "images" / "eligible-old.png"
    path = tmp_path / name
    if name.endswith(".gif"):
        assert cv2.imwrite(str(path), cv2.imread(str(source)))
    elif name.endswith(".jfif"):
        _, data = cv2.imencode(".jpg", cv2.imread(str(source)), [cv2.IMWRITE_JPEG_QUALITY, 95])
        path.write_bytes(data.tobytes())
    else:
        shutil.copyfile(source, path)
    hits = list(scan_file(path))
    assert [(h.frame, h.payload) for h in hits] == [(None, payload("eligible-old"))]


def test_a_video_under_any_name_is_a_video(tmp_path) -> None:
    path = tmp_path / "clip"
    shutil.copyfile(FIXTURES / "videos" / "eligible-old.avi", path)
    hits = list(scan_file(path))
    assert len(hits) == 1 and isinstance(hits[0].frame, int)


def test_scan_json_gives_frame_null_for_an_image_without_suffix(tmp_path) -> None:
    path = tmp_path / "noext"
    shutil.copyfile(FIXTURES / "images" / "eligible-old.png", path)
    result = run("scan", "--json", str(path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["frame"] is None


# -- the setting: config, settings dialog, desk camera ---------------------------------------


def test_the_decoder_setting_loads_and_validates(tmp_path) -> None:
    assert Config().camera.decoder == "zxing"
    path = tmp_path / "c.toml"
    write_config(path, Config(camera=CameraConfig(decoder="zbar")))
    assert load_config(path).camera.decoder == "zbar"


def test_the_settings_dialog_offers_the_decoder_and_saves_it(qtbot, tmp_path, monkeypatch):
    from ui.settings import SettingsDialog

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("CHECKIN_GATEWAY_PASSWORD", raising=False)
    path = tmp_path / "checkin.toml"
    write_config(path, Config(store=StoreConfig(path=str(tmp_path / "desk.db"))))
    dialog = SettingsDialog(path)
    qtbot.addWidget(dialog)
    editor = dialog.editors["camera.decoder"]
    assert isinstance(editor.widget, QComboBox) and not editor.widget.isEditable()
    assert [editor.widget.itemData(i) for i in range(editor.widget.count())] == ["zxing", "zbar"]
    assert editor.value() == "zxing"
    editor.set("zbar")
    assert dialog.save()
    assert load_config(path).camera.decoder == "zbar"


def test_the_desk_camera_uses_the_configured_decoder(qtbot) -> None:
    from ui.app import _decoder_name
    from ui.workers import CameraWorker

    assert _decoder_name(Config(camera=CameraConfig(decoder="zbar"))) == "zbar"
    assert _decoder_name(None) == "zxing"
    camera = ReplayCamera(FIXTURES / "videos" / "eligible-cccd.avi", realtime=False)
    worker = CameraWorker(camera, decoder_name="zbar")
    scanned: list[str] = []
    worker.scanned.connect(scanned.append)
    with qtbot.waitSignal(worker.ended, timeout=10_000):
        worker.start()
    worker.wait()
    assert worker.feed.decoder.name == "zbar"
    assert scanned == [payload("eligible-cccd")]  # "Lê Thị Bình", read by ZBar


def test_doctor_names_the_decoder_in_use(monkeypatch) -> None:
    from checkin.doctor import decoder_detail

    assert decoder_detail(Config()) == "QR decoder: zxing"
    assert decoder_detail(Config(camera=CameraConfig(decoder="zbar"))) == "QR decoder: zbar"
    monkeypatch.setitem(sys.modules, "zxingcpp", None)
    assert decoder_detail(Config()).startswith("QR decoder: zbar (zxing is not available")
    monkeypatch.setitem(sys.modules, "pyzbar.wrapper", None)
    assert decoder_detail(Config()).startswith("no QR decoder")
