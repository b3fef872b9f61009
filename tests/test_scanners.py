"""Scanners: byte framing, duplicate guard, pyserial (loop://, a real pty, socket://), replay,
and the keyboard wedge (detector timings, then real QKeyEvents through the app-wide filter)."""

from __future__ import annotations

import os
import queue
import random
import socket
import time
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton, QVBoxLayout, QWidget

from checkin.formats import ParseFailure, parse_payload
from checkin.formats.hexutf8 import TELEX, simulate_ime
from drivers.keystrokes import unikey_keys
from drivers.scan_framing import DuplicateGuard, Scan, ScanError, ScanEvent, ScanFramer
from drivers.serial_scanner import (
    ReplayScanner,
    SerialScanner,
    SerialSettings,
    list_serial_ports,
    make_scanner,
)
from drivers.wedge import Burst, Typed, WedgeDetector
from tests.conftest import FIXTURES, payload
from ui.wedge import WedgeFilter

STREAMS = FIXTURES / "streams"
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PAYLOAD_KEYS = ["eligible-old", "eligible-cccd", "eligible-new", "wrong-dob-070"]


def feed_in_chunks(framer: ScanFramer, data: bytes, cuts: list[int]) -> list[ScanEvent]:
    events: list[ScanEvent] = []
    bounds = [0, *sorted(set(cuts)), len(data)]
    for start, stop in pairwise(bounds):
        events += framer.feed(data[start:stop], 0.0)
    return events + framer.flush()


def texts(events: list[ScanEvent]) -> list[str]:
    return [e.text for e in events if isinstance(e, Scan)]


# --- framing ---------------------------------------------------------------------------------

scan_texts = st.lists(
    st.sampled_from([payload(k) for k in PAYLOAD_KEYS])
    | st.text(
        st.characters(exclude_characters="\r\n\x00\ufeff", exclude_categories=["Cs"]),
        min_size=1,
        max_size=40,
    ),
    min_size=1,
    max_size=5,
)


@FAST
@given(scan_texts, st.data())
def test_any_split_of_a_valid_stream_gives_the_same_scans(scans, data):
    """GIVEN scans ended by CR, LF or CRLF, some led by a BOM or NUL
    WHEN the stream arrives cut into arbitrary chunks
    THEN the framer yields exactly the scanned texts, in order."""
    stream = b""
    for text in scans:
        lead = data.draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\x00"]))
        end = data.draw(st.sampled_from([b"\r", b"\n", b"\r\n"]))
        stream += lead + text.encode() + end
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))
    assert texts(feed_in_chunks(ScanFramer("\r"), stream, cuts)) == scans


@FAST
@given(
    st.binary(max_size=600),
    st.lists(st.integers(0, 600), max_size=12),
    st.sampled_from(["\r", "\r\n", "\x03", "\x03\x04", None]),
)
def test_any_split_of_random_bytes_gives_the_same_events(stream, cuts, terminator):
    """Oversize frames (64-byte cap here) and bad UTF-8 are reported the same way however the
    bytes are chunked; nothing raises."""

    def framer() -> ScanFramer:
        return ScanFramer(terminator, max_bytes=64, idle_complete_ms=None)

    one_go = framer()
    whole = one_go.feed(stream, 0.0) + one_go.flush()
    cuts = [c for c in cuts if c <= len(stream)]
    assert feed_in_chunks(framer(), stream, cuts) == whole
    assert all(len(event.raw) <= 64 for event in whole)


@FAST
@given(st.lists(st.tuples(st.binary(max_size=80), st.floats(0, 500)), max_size=30))
def test_random_bytes_and_timings_never_raise(chunks):
    framer = ScanFramer("\r", prefix="]Q1", suffix="$", idle_complete_ms=150, max_bytes=100)
    now = 0.0
    for data, gap in chunks:
        now += gap
        for event in framer.feed(data, now) + framer.poll(now + gap / 2):
            assert isinstance(event, Scan | ScanError)
            if isinstance(event, Scan):
                assert event.text and "\r" not in event.text
                assert event.text.encode() in event.raw  # exact bytes: nothing replaced
    framer.flush()


def test_idle_gap_completes_a_scan_without_terminator():
    framer = ScanFramer(None, idle_complete_ms=150)
    cccd = payload("eligible-cccd").encode()
    assert framer.feed(cccd[:50], 0) == []
    assert framer.feed(cccd[50:], 40) == []  # a 40 ms USB hiccup is not the end
    assert framer.poll(150) == []
    assert framer.poll(190) == [Scan(cccd.decode(), cccd)]
    assert not framer.pending


def test_next_chunk_after_a_gap_starts_a_new_scan():
    framer = ScanFramer(None, idle_complete_ms=150)
    assert framer.feed(b"first", 0) == []
    assert framer.feed(b"second", 500) == [Scan("first", b"first")]
    assert framer.flush() == [Scan("second", b"second")]


def test_prefix_suffix_bom_and_nul_are_stripped_raw_is_kept():
    framer = ScanFramer("\r\n", prefix="]Q1", suffix="#")
    raw = b"\x00\xef\xbb\xbf]Q1" + "Lê Thị Bình".encode() + b"#"
    assert framer.feed(raw + b"\r\n", 0) == [Scan("Lê Thị Bình", raw)]


def test_custom_terminator_is_matched_exactly_across_chunks():
    framer = ScanFramer("\x03\x04")
    assert framer.feed(b"abc\r\ndef\x03", 0) == []
    assert framer.feed(b"\x04", 0) == [Scan("abc\r\ndef", b"abc\r\ndef")]


def test_undecodable_bytes_are_an_error_with_the_raw_bytes_not_garbled_text():
    raw = "Nguyễn".encode("cp1258", errors="replace") + b"\xff"
    events = ScanFramer("\r").feed(raw + b"\r", 0)
    assert events == [ScanError(events[0].reason, raw)]
    assert "utf-8" in events[0].reason


def test_oversize_scan_is_one_error_and_the_rest_of_it_is_dropped():
    framer = ScanFramer("\r")
    events = framer.feed(b"x" * 3000, 0) + framer.feed(b"y" * 3000, 0)
    assert events == [ScanError(events[0].reason, b"x" * 3000 + b"y" * 1096)]
    assert framer.feed(b"tail\rnext\r", 0) == [Scan("next", b"next")]


def test_empty_frames_from_crlf_and_blank_lines_are_not_scans():
    assert texts(ScanFramer("\r").feed(b"\r\n\r\n\xef\xbb\xbf\r\x00\nabc\r\n", 0)) == ["abc"]


# --- duplicate guard -------------------------------------------------------------------------


def test_duplicate_window_is_fixed_from_the_first_scan():
    guard = DuplicateGuard(3.0, clock=lambda: 0.0)
    assert not guard.is_duplicate("A", now=0.0)
    assert guard.is_duplicate("A", now=1.0)
    assert guard.is_duplicate("A", now=2.9)  # repeats do not extend the window...
    assert not guard.is_duplicate("A", now=3.0)  # ...so it ends 3 s after the first scan
    assert not guard.is_duplicate("B", now=3.1)


def test_duplicate_guard_prunes_and_takes_a_new_window_at_run_time():
    guard = DuplicateGuard(10.0)
    for n in range(50):
        guard.is_duplicate(f"scan {n}", now=float(n) / 10)
    assert len(guard) == 50
    guard.window_s = 1.0
    assert not guard.is_duplicate("late", now=6.0)
    assert len(guard) == 1  # everything older than the new window is gone
    guard.window_s = 0
    assert not guard.is_duplicate("late", now=6.0)
    assert not guard.is_duplicate("late", now=6.0)
    with pytest.raises(ValueError):
        guard.window_s = -1


def test_duplicate_guard_is_thread_safe():
    import threading

    guard = DuplicateGuard(60.0)
    accepted: list[str] = []

    def scan() -> None:
        for n in range(200):
            if not guard.is_duplicate(f"p{n}"):
                accepted.append(f"p{n}")

    threads = [threading.Thread(target=scan) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(accepted) == sorted(f"p{n}" for n in range(200))  # each accepted exactly once


# --- serial through pyserial -----------------------------------------------------------------


class Collector:
    """Callbacks for a scanner thread, read back with timeouts."""

    def __init__(self) -> None:
        self.scans: queue.Queue[ScanEvent] = queue.Queue()
        self.statuses: queue.Queue[str] = queue.Queue()

    def on_scan(self, event: ScanEvent) -> None:
        self.scans.put(event)

    def on_status(self, status: str) -> None:
        self.statuses.put(status)

    def next_scan(self, timeout: float = 5.0) -> ScanEvent:
        return self.scans.get(timeout=timeout)

    def wait_status(self, prefix: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            status = self.statuses.get(timeout=max(deadline - time.monotonic(), 0.01))
            if status.startswith(prefix):
                return status


@pytest.fixture
def collector() -> Collector:
    return Collector()


def run_scanner(settings_: SerialSettings, collector: Collector) -> SerialScanner:
    scanner = SerialScanner(settings_, collector.on_scan, collector.on_status)
    scanner.start()
    return scanner


def test_loop_url_frames_and_idle_completes(collector):
    cccd = payload("eligible-cccd")
    scanner = run_scanner(SerialSettings("loop://", idle_complete_ms=60), collector)
    try:
        collector.wait_status("connected")
        scanner.send(cccd.encode() + b"\r\n")
        assert collector.next_scan() == Scan(cccd, cccd.encode())
        scanner.send(cccd.encode())  # no terminator: the idle gap ends it
        assert collector.next_scan() == Scan(cccd, cccd.encode())
    finally:
        scanner.stop()
    assert collector.wait_status("stopped") == "stopped"
    assert scanner.status == "stopped"


class PtyPort:
    """A pseudo-terminal behind a stable symlink, like a scanner's /dev/serial/by-id/ name."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master = self.slave = -1
        self.plug()

    def plug(self) -> None:
        self.master, self.slave = os.openpty()
        self.link.unlink(missing_ok=True)
        self.link.symlink_to(os.ttyname(self.slave))

    def unplug(self) -> None:
        os.close(self.master)
        os.close(self.slave)
        self.master = self.slave = -1
        self.link.unlink()

    def write(self, data: bytes, pieces: int = 1) -> None:
        step = -(-len(data) // pieces)
        for start in range(0, len(data), step):
            os.write(self.master, data[start : start + step])
            time.sleep(0.005)

    def close(self) -> None:
        if self.master >= 0:
            self.unplug()


@pytest.fixture
def pty_port(tmp_path):
    port = PtyPort(tmp_path / "ttyScanner")
    yield port
    port.close()


def test_pty_reads_crlf_lf_and_bad_bytes_written_in_pieces(pty_port, collector):
    """GIVEN a real pseudo-terminal opened by path through pyserial
    WHEN a scanner writes payloads in pieces with CRLF or LF, and then invalid UTF-8
    THEN each payload arrives whole and exact, and the bad bytes as an error event."""
    old, cccd = payload("eligible-old"), payload("eligible-cccd")
    scanner = run_scanner(SerialSettings(str(pty_port.link), baudrate=115200), collector)
    try:
        collector.wait_status("connected")
        pty_port.write(old.encode() + b"\r\n", pieces=5)
        pty_port.write(cccd.encode() + b"\n", pieces=7)
        pty_port.write(b"\xc3\x28\r")
        assert collector.next_scan() == Scan(old, old.encode())
        assert collector.next_scan() == Scan(cccd, cccd.encode())
        assert collector.next_scan() == ScanError(
            "not valid utf-8 at byte 0; scan ignored", b"\xc3\x28"
        )
    finally:
        scanner.stop()


def test_pty_unplug_then_replug_reconnects(pty_port, collector):
    first, second = payload("eligible-new"), payload("retiree-ht3")
    settings_ = SerialSettings(str(pty_port.link), reconnect_s=0.05)
    scanner = run_scanner(settings_, collector)
    try:
        collector.wait_status("connected")
        pty_port.write(first.encode() + b"\r")
        assert collector.next_scan().text == first
        pty_port.unplug()
        collector.wait_status("disconnected")
        time.sleep(0.2)  # a few failed reopen attempts while the port is gone
        assert scanner.status.startswith("disconnected")
        pty_port.plug()
        collector.wait_status("connected")
        pty_port.write(second.encode() + b"\r")
        assert collector.next_scan().text == second
    finally:
        scanner.stop()


def listen(port: int = 0) -> socket.socket:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(1)
    server.settimeout(5)
    return server


def test_socket_url_reconnects_after_the_server_goes_away(collector):
    server = listen()
    tcp_port = server.getsockname()[1]
    settings_ = SerialSettings(f"socket://127.0.0.1:{tcp_port}", reconnect_s=0.05)
    scanner = run_scanner(settings_, collector)
    try:
        conn, _ = server.accept()
        collector.wait_status("connected")
        conn.sendall(payload("eligible-cccd").encode() + b"\r\n")
        assert collector.next_scan().text == payload("eligible-cccd")
        conn.close()
        server.close()
        assert "socket disconnected" in collector.wait_status("disconnected")
        server = listen(tcp_port)
        conn, _ = server.accept()
        collector.wait_status("connected")
        conn.sendall(payload("eligible-old").encode() + b"\r\n")
        assert collector.next_scan().text == payload("eligible-old")
        conn.close()
    finally:
        scanner.stop()
        server.close()


def test_bad_url_reports_disconnected_and_keeps_trying(collector):
    scanner = run_scanner(SerialSettings("/dev/does-not-exist", reconnect_s=0.05), collector)
    try:
        assert "could not open port" in collector.wait_status("disconnected")
    finally:
        scanner.stop()


def test_list_serial_ports_returns_port_infos():
    for port in list_serial_ports():
        assert port.device


# --- replay ----------------------------------------------------------------------------------


def replay(path: Path, **kwargs) -> list[ScanEvent]:
    events: list[ScanEvent] = []
    ReplayScanner(path, events.append, **kwargs).play()
    return events


def test_replay_crlf_stream_gives_three_exact_payloads_that_parse():
    events = replay(STREAMS / "crlf-three.bin")
    keys = ["eligible-old", "eligible-cccd", "eligible-new"]
    assert texts(events) == [payload(k) for k in keys]
    assert not any(isinstance(parse_payload(text), ParseFailure) for text in texts(events))


def test_replay_uses_recorded_pauses_to_split_unterminated_scans():
    events = replay(STREAMS / "gaps-two.bin")
    assert texts(events) == [payload("wrong-dob-070"), payload("retiree-ht3")]
    assert events[0].raw.startswith(b"\xef\xbb\xbf")
    merged = ScanFramer(None).feed((STREAMS / "gaps-two.bin").read_bytes(), 0)
    assert merged == []  # without the sidecar's pauses there is no scan boundary at all


def test_replay_with_a_guard_flags_the_second_pass_as_duplicates():
    guard = DuplicateGuard(60.0)
    first = replay(STREAMS / "crlf-three.bin", guard=guard)
    second = replay(STREAMS / "crlf-three.bin", guard=guard)
    assert [e.duplicate for e in first + second] == [False] * 3 + [True] * 3


def test_replay_in_real_time_through_make_scanner(collector):
    scanner = make_scanner(
        f"replay:{STREAMS / 'gaps-two.bin'}", collector.on_scan, collector.on_status
    )
    started = time.monotonic()
    scanner.start()
    try:
        assert collector.next_scan().text == payload("wrong-dob-070")
        assert collector.next_scan().text == payload("retiree-ht3")
        assert time.monotonic() - started >= 0.4  # the recorded 400 ms pause was waited out
        assert collector.wait_status("stopped") == "stopped"
    finally:
        scanner.stop()


# --- wedge detector --------------------------------------------------------------------------


def type_into(detector: WedgeDetector, text: str, gaps: list[float], start: float = 0.0):
    """Feed one key per character at the given gaps; then let the gap end."""
    events, now = [], start
    for char, gap in zip(text, gaps, strict=True):
        now += gap
        events += detector.feed(char, now)
    return events + detector.poll(now + 1000)


def scanner_gaps(n: int, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(2, 10) for _ in range(n)]


def human_gaps(n: int, seed: int = 2) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(80, 300) for _ in range(n)]


def test_200_char_burst_at_2_to_10_ms_is_one_burst():
    text = ("DN4010123456789|" * 13)[:200] + "\r"
    events = type_into(WedgeDetector(), text, scanner_gaps(len(text)), start=5000)
    assert events == [Burst(text[:-1], 201)]


def test_vietnamese_cccd_burst_without_suffix_ends_on_the_gap():
    cccd = payload("eligible-cccd")
    detector = WedgeDetector(suffix="")
    events = type_into(detector, cccd, scanner_gaps(len(cccd)))
    assert events == [Burst(cccd, len(cccd))]


def test_person_typing_nguyen_is_given_back_key_by_key():
    events = type_into(WedgeDetector(), "Nguyễn", human_gaps(6))
    assert events == [Typed(c, 1) for c in "Nguyễn"]


def test_fast_rollover_and_short_fast_runs_are_typing():
    events = type_into(WedgeDetector(), "Ng" + "uyễn", [100, 12, 150, 20, 20, 20])
    assert events == [Typed("Ng", 2), Typed("uyễn", 4)]  # 4 < min_length


def test_enter_alone_is_given_back_at_once():
    detector = WedgeDetector()
    assert detector.feed("A", 0) == []
    assert detector.feed("n", 150) == [Typed("A", 1)]
    assert detector.feed("\r", 300) == [Typed("n", 1), Typed("\r", 1)]
    assert detector.pending == 0


def test_prefix_is_required_and_stripped():
    detector = WedgeDetector(prefix="]Q1")
    assert type_into(detector, "]Q1ABCDEF\r", scanner_gaps(10)) == [Burst("ABCDEF", 10)]
    assert type_into(detector, "ABCDEFGH\r", scanner_gaps(9)) == [Typed("ABCDEFGH\r", 9)]


def test_typing_then_a_scan_then_typing():
    gaps = [0, 200, 200, *scanner_gaps(7), 200, 200]
    events = type_into(WedgeDetector(), "Ng" + "ABCDEFG\r" + "uy", gaps)
    assert events == [
        Typed("N", 1),
        Typed("g", 1),
        Burst("ABCDEFG", 8),
        Typed("u", 1),
        Typed("y", 1),
    ]


@FAST
@given(st.lists(st.tuples(st.sampled_from(list("aăâđêơư0|$ \r")), st.floats(0, 400)), max_size=80))
def test_every_key_is_accounted_for_in_order(keys):
    """Whatever the timing, each key fed ends up in exactly one event."""
    detector = WedgeDetector()
    events, now = [], 0.0
    for char, gap in keys:
        now += gap
        events += detector.feed(char, now)
    events += detector.flush()
    assert sum(e.keys for e in events) == len(keys)


@FAST
@given(st.text(min_size=1, max_size=40), st.data())
def test_keys_slower_than_the_gap_are_never_swallowed(text, data):
    gaps = data.draw(st.lists(st.floats(30.5, 2000), min_size=len(text), max_size=len(text)))
    events = type_into(WedgeDetector(), text, gaps)
    assert all(isinstance(e, Typed) for e in events)
    assert "".join(e.text for e in events) == text


# --- wedge in Qt: real QKeyEvents through the application-wide filter -------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, ms: float) -> None:
        self.now += ms


_SHIFTED = set('~!@#$%^&*()_+{}|:"<>?')


def key_pair(char: str) -> tuple[QKeyEvent, QKeyEvent]:
    """Press and release for one character: Key_unknown + text for non-ASCII (platform.md §5)."""
    modifiers = Qt.KeyboardModifier.NoModifier
    if char == "\r":
        key = Qt.Key.Key_Return
    elif char.isascii():
        key = Qt.Key(ord(char.upper()))
        if char.isupper() or char in _SHIFTED:
            modifiers = Qt.KeyboardModifier.ShiftModifier
    else:
        key = Qt.Key.Key_unknown
    return (
        QKeyEvent(QEvent.Type.KeyPress, key, modifiers, char),
        QKeyEvent(QEvent.Type.KeyRelease, key, modifiers, char),
    )


def shift(kind: QEvent.Type) -> QKeyEvent:
    return QKeyEvent(kind, Qt.Key.Key_Shift, Qt.KeyboardModifier.ShiftModifier, "")


def send_keys(
    clock: FakeClock,
    text: str,
    gaps: list[float],
    stamps: list[int] | None = None,
    with_shift: bool = False,
) -> None:
    """Type into whichever widget has focus, as the keyboard would."""
    for n, (char, gap) in enumerate(zip(text, gaps, strict=True)):
        clock.advance(gap)
        target = QApplication.focusWidget()
        press, release = key_pair(char)
        shifted = with_shift and press.modifiers() & Qt.KeyboardModifier.ShiftModifier
        events = [shift(QEvent.Type.KeyPress), press, release, shift(QEvent.Type.KeyRelease)]
        for event in events if shifted else [press, release]:
            if stamps is not None:
                event.setTimestamp(stamps[n])
            QApplication.sendEvent(target, event)


@pytest.fixture
def desk(qtbot):
    window = QWidget()
    layout = QVBoxLayout(window)
    name, password, button = QLineEdit(), QLineEdit(), QPushButton("OK")
    password.setEchoMode(QLineEdit.EchoMode.Password)
    for widget in (name, password, button):
        layout.addWidget(widget)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    clock = FakeClock()
    wedge = WedgeFilter(clock=clock)
    wedge.install()
    d = SimpleNamespace(
        window=window,
        name=name,
        password=password,
        button=button,
        clock=clock,
        wedge=wedge,
        scanned=[],
        raw=[],
        returns=[],
        clicks=[],
    )
    wedge.scanned.connect(d.scanned.append)
    wedge.raw_key.connect(lambda text, ms: d.raw.append((text, ms)))
    name.returnPressed.connect(lambda: d.returns.append(name.text()))
    button.clicked.connect(lambda: d.clicks.append(True))
    d.focus = lambda widget: (
        widget.setFocus(),
        qtbot.waitUntil(lambda: QApplication.focusWidget() is widget),
    )
    d.focus(name)
    yield d
    wedge.uninstall()


def settle(desk) -> None:
    desk.clock.advance(100)
    desk.wedge.poll()


def test_cccd_burst_into_focused_field_is_one_scan_and_field_stays_empty(desk):
    cccd = payload("eligible-cccd")
    send_keys(desk.clock, cccd + "\r", scanner_gaps(len(cccd) + 1), with_shift=True)
    settle(desk)
    assert desk.scanned == [cccd]
    assert desk.name.text() == ""
    assert desk.returns == []  # the scanner's Enter did not reach the field


def test_burst_is_captured_whichever_widget_has_focus(desk):
    bhyt = payload("eligible-new")  # has spaces: each would click a focused button
    desk.wedge.detector.suffix = ""  # a scanner configured without a suffix
    desk.focus(desk.button)
    send_keys(desk.clock, bhyt, scanner_gaps(len(bhyt)), with_shift=True)
    assert desk.scanned == []  # not yet: the gap has not ended
    settle(desk)
    assert desk.scanned == [bhyt]
    assert desk.clicks == []


def test_slow_typing_of_a_vietnamese_name_lands_in_the_field(desk):
    name = "Nguyễn Văn An"
    send_keys(desk.clock, name, human_gaps(len(name)))
    assert desk.name.text() == name[:-1]  # the last key waits at most for the gap
    settle(desk)
    assert desk.name.text() == name
    assert desk.scanned == []
    assert [text for text, _ in desk.raw] == list(name)


def test_fast_rollover_and_enter_reach_the_field_in_order(desk):
    send_keys(desk.clock, "An\r", [150, 12, 150])
    settle(desk)
    assert desk.name.text() == "An"
    assert desk.returns == ["An"]  # the re-sent Key_Return is a real Enter


def test_typing_around_a_scan_keeps_the_typing(desk):
    old = payload("eligible-old")
    send_keys(desk.clock, "Ng", [150, 150])
    send_keys(desk.clock, old + "\r", [150, *scanner_gaps(len(old))], with_shift=True)
    send_keys(desk.clock, "uyễn", [150] * 4)
    settle(desk)
    assert desk.name.text() == "Nguyễn"
    assert desk.scanned == [old]


def test_password_field_is_never_captured(desk):
    desk.focus(desk.password)
    send_keys(desk.clock, "Secret1234\r", scanner_gaps(11))
    settle(desk)
    assert desk.password.text() == "Secret1234"
    assert desk.scanned == [] and desk.raw == []


def test_disabled_filter_passes_a_burst_through(desk):
    desk.wedge.setEnabled(False)
    send_keys(desk.clock, "7912345678", scanner_gaps(10))
    settle(desk)
    assert desk.name.text() == "7912345678"
    assert desk.scanned == []


def test_event_timestamps_beat_a_busy_gui_thread(desk):
    """Keys queued behind a stalled GUI thread arrive back to back on the clock; their window-
    system timestamps still tell typing (150 ms apart) from a scan (5 ms apart)."""
    typed_stamps = [500_000 + 150 * n for n in range(6)]
    send_keys(desk.clock, "Nguyễn", [0] * 6, stamps=typed_stamps)
    scan_stamps = [501_000 + 5 * n for n in range(11)]
    send_keys(desk.clock, "7912345678\r", [0] * 11, stamps=scan_stamps)
    settle(desk)
    assert desk.name.text() == "Nguyễn"
    assert desk.scanned == ["7912345678"]
    send_keys(desk.clock, "ab", [0, 0], stamps=[502_000, 9_000_000])  # the time base jumps
    assert desk.name.text() == "Nguyễna"  # "a" is released, not merged with what follows


def test_auto_repeat_and_shortcuts_pass_straight_through(desk):
    repeat = QKeyEvent(
        QEvent.Type.KeyPress, Qt.Key.Key_A, Qt.KeyboardModifier.NoModifier, "a", True
    )
    QApplication.sendEvent(desk.name, repeat)
    assert desk.name.text() == "a"  # not held at all
    send_keys(desk.clock, "b", [150])
    assert desk.name.text() == "a"  # held...
    backspace = QKeyEvent(
        QEvent.Type.KeyPress, Qt.Key.Key_Backspace, Qt.KeyboardModifier.NoModifier, "\b"
    )
    QApplication.sendEvent(desk.name, backspace)
    assert desk.name.text() == "a"  # the Backspace is held with "b" (it may be Unikey's)...
    settle(desk)
    assert desk.name.text() == "a"  # ...and both reach the field in order: "b" is deleted
    backspace = QKeyEvent(
        QEvent.Type.KeyPress, Qt.Key.Key_Backspace, Qt.KeyboardModifier.NoModifier, "\b"
    )
    QApplication.sendEvent(desk.name, backspace)
    assert desk.name.text() == ""  # nothing held: a Backspace goes straight through


def test_a_burst_rewritten_by_unikey_telex_is_one_scan_that_parses(desk):
    """Unikey turns hex pairs of the name into Vietnamese letters with Backspaces: the
    Backspaces edit the burst (not release it into the field), and the parser repairs it."""
    old = payload("eligible-old")
    keys = [*unikey_keys(old), "\r"]
    assert "\b" in keys
    for key, gap in zip(keys, scanner_gaps(len(keys)), strict=True):
        desk.clock.advance(gap)
        if key == "\b":
            press, release = (
                QKeyEvent(kind, Qt.Key.Key_Backspace, Qt.KeyboardModifier.NoModifier, "\b")
                for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
            )
        else:
            press, release = key_pair(key)
        QApplication.sendEvent(QApplication.focusWidget(), press)
        QApplication.sendEvent(QApplication.focusWidget(), release)
    settle(desk)
    assert desk.scanned == [simulate_ime(old, TELEX)]
    assert desk.name.text() == "" and desk.returns == []
    identity = parse_payload(desk.scanned[0])
    assert identity.full_name == parse_payload(old).full_name == "Trần Thị Mai"
    assert any("IME corruption (Telex)" in w for w in identity.warnings)


def test_backspace_inside_a_run_edits_it():
    detector = WedgeDetector(min_length=3)
    events = type_into(detector, "12a\bb34\r", [5] * 8)
    assert events == [Burst("12b34", 8)]
    events = type_into(detector, "\b\bab\r", [5] * 5, start=1000)
    assert events == [Typed("\b\bab\r", 5)]  # too short once edited: given back, all keys


def test_timer_releases_typing_on_the_real_clock(qtbot, desk):
    desk.wedge.uninstall()
    wedge = WedgeFilter()
    wedge.install()
    try:
        press, release = key_pair("ễ")
        QApplication.sendEvent(desk.name, press)
        QApplication.sendEvent(desk.name, release)
        assert desk.name.text() == ""
        qtbot.waitUntil(lambda: desk.name.text() == "ễ", timeout=1000)
    finally:
        wedge.uninstall()
