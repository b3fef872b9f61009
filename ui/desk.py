"""The desk's main window: camera, verdict banner, queue number, patient and today's visits.

The window owns the background workers it is given and wires their signals to widgets. It
never writes SQLite and never waits on the network: intakes run on :class:`IntakeRunner`,
list and counter reads on a :class:`TaskRunner`, camera decoding on a :class:`CameraWorker`,
chip reads on a :class:`ChipWorker`. Scans come from the camera, a keyboard-wedge scanner
(``ui.wedge.WedgeFilter``, installed application-wide while the desk runs), a serial scanner
(:class:`~ui.workers.SerialBridge`), a paste, or :meth:`DeskWindow.submit` for any other
source.

Keyboard first: every action has a shortcut, listed in the menus and in the footer; after a
scan or a dialog the focus goes back to today's list (or to the sign-in form when locked).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QGuiApplication,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from checkin.formats import parse_payload
from checkin.intake import Intake, IntakeResult
from checkin.model import Identity, Officer, Source, Status, mask_number
from checkin.store import Visit
from ui import i18n, text
from ui.manual_entry import ManualEntryDialog
from ui.signin import IdleWatcher, SignInPage, idle_lock_minutes
from ui.sounds import Sounds
from ui.ticket import TicketError, print_ticket, printer_available
from ui.widgets import (
    CameraView,
    PatientPanel,
    QueueNumber,
    StatusStrip,
    VerdictBanner,
    VisitsFilter,
    VisitsTable,
)
from ui.workers import CameraWorker, Checked, IntakeRunner, TaskRunner

log = logging.getLogger(__name__)

COUNTS_INTERVAL_MS = 5_000  # pending re-checks and visits needing attention
OFFLINE_INTERVAL_MS = 1_000  # the breaker is read in memory: cheap
CAMERA_STATS_INTERVAL_MS = 1_000

SOUND_OF_STATUS = {
    Status.ELIGIBLE: "eligible",
    Status.WARNING: "warning",
    Status.NOT_ELIGIBLE: "not_eligible",
    Status.UNVERIFIED: "warning",
}


class DeskWindow(QMainWindow):
    """Signals: ``checked_in(IntakeResult)`` after each intake is shown; ``settled`` when the
    camera has ended and no intake or read is in flight; ``closed`` when the window closes;
    ``visits_loaded(count)`` after each list load and ``ready`` after the first;
    ``locked_changed(bool)``; ``ticket_printed(Visit, path or None)``.

    ``officer``: who is signed in; without one the window opens on the sign-in form, filled
    with ``default_officer`` (the configuration's). ``config``: read for the idle lock
    (``desk.idle_lock_min``) and the facility code; optional."""

    checked_in = Signal(object)
    settled = Signal()
    closed = Signal()
    visits_loaded = Signal(int)
    ready = Signal()
    locked_changed = Signal(bool)
    ticket_printed = Signal(object, object)

    def __init__(
        self,
        intake: Intake,
        camera: CameraWorker | None = None,
        parent: QWidget | None = None,
        *,
        officer: Officer | None = None,
        default_officer: Officer | None = None,
        config: Any = None,
        chip: Any = None,
        wedge: Any = None,
        serial: Any = None,
        sounds: Sounds | None = None,
        ticket_folder: Path | None = None,
        printer: Any = None,
    ) -> None:
        super().__init__(parent)
        self.intake = intake
        self.camera = camera
        self.chip = chip
        self.wedge = wedge
        self.serial = serial
        self.config = config
        self.sounds = sounds or Sounds()
        self.ticket_folder = ticket_folder
        self.printer = printer
        self.runner = IntakeRunner(intake, self)
        self.reads = TaskRunner(max_threads=1, parent=self)
        self.last_result: IntakeResult | None = None
        self.last_checked: Checked | None = None
        self.current_visit: Visit | None = None
        self.officer: Officer | None = None
        self.default_officer = default_officer or _configured_officer(config, intake)
        self.scan_latencies: list[float] = []  # seconds, scan text → verdict on screen
        self.manual_dialog: ManualEntryDialog | None = None
        self.can_dialog: QWidget | None = None
        self.tool_dialogs: dict[str, QWidget] = {}  # "settings", "diagnostics" while open
        self._status_words: Callable[[], str] | None = None  # the status line, re-rendered
        self._user_selected = False  # a row picked in the list since the last check-in
        self._serial_lost = False  # the serial scanner's port failed; the driver retries
        self._camera_done = camera is None
        self._camera_state = "none" if camera is None else "waiting"
        self._camera_name = ""
        self._camera_paused = False  # stopped while the settings dialog uses the camera
        self._shut_down = False
        self._loaded_once = False
        self._started: dict[int, float] = {}  # submission number -> perf_counter at submit
        self._shown_seq = 0  # the submission whose verdict is on screen
        self._printed: set[int] = set()
        self._select_after_load: int | None = None
        self.pending = 0
        self.attention = 0
        self._unsubscribe = i18n.on_language_changed(lambda code: self.retranslate())
        self.idle = IdleWatcher(idle_lock_minutes(config), self)
        self.idle.idle.connect(self.lock)
        self._build()
        self._add_actions()
        self._connect()
        self.retranslate()
        if officer is not None:
            self._unlock(officer)
        else:
            self._show_sign_in(locked_by=None)
        self.say(text.ready)

    # -- construction ------------------------------------------------------------------------

    def _build(self) -> None:
        self.camera_view = CameraView()
        self.camera_caption = QLabel()
        self.offline = StatusStrip("#37474f", "#ffffff")
        self.banner = VerdictBanner()
        self.queue = QueueNumber()
        self.patient = PatientPanel()
        self.visits_title = QLabel()
        self.visits_title.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.visits_title.setWordWrap(True)  # wraps rather than widen a 1024-pixel window
        self.pending_label = QLabel()
        self.pending_label.setWordWrap(True)
        self.pending_label.setStyleSheet("font-size: 15px; font-weight: bold; color: #37474f;")
        self.attention_label = QLabel()
        self.attention_label.setStyleSheet(
            "font-size: 15px; font-weight: bold; color: #ffffff; background: #c62828;"
            " border-radius: 4px; padding: 2px 8px;"
        )
        self.attention_label.hide()
        self.filter = VisitsFilter()
        self.visits = VisitsTable()
        self.hint = QLabel()
        self.hint.setWordWrap(True)  # two lines on a 1024-pixel screen rather than a wider window
        self.hint.setStyleSheet(
            "font-size: 14px; color: #263238; background: #cfd8dc; padding: 4px 8px;"
        )
        self.officer_label = QLabel()
        self.officer_label.setStyleSheet("font-size: 13px; font-weight: bold; padding: 0 6px;")
        self.statusBar().addPermanentWidget(self.officer_label)

        left = QVBoxLayout()
        left.addWidget(self.camera_view, 1)
        left.addWidget(self.camera_caption)
        details = QHBoxLayout()
        details.addWidget(self.queue)
        details.addWidget(self.patient, 1)
        right = QVBoxLayout()
        right.addWidget(self.banner)
        right.addLayout(details, 1)
        right.addWidget(self.patient.chip)
        right.addWidget(self.patient.warning)
        top = QHBoxLayout()
        top.addLayout(left, 4)
        top.addLayout(right, 7)
        header = QHBoxLayout()
        header.addWidget(self.visits_title)
        header.addSpacing(12)
        header.addWidget(self.pending_label)
        header.addWidget(self.attention_label)
        header.addStretch(1)
        header.addWidget(self.filter, 3)
        root = QVBoxLayout()
        root.setContentsMargins(8, 6, 8, 4)
        root.setSpacing(6)
        root.addWidget(self.offline)
        root.addLayout(top, 3)
        root.addLayout(header)
        root.addWidget(self.visits, 2)
        root.addWidget(self.hint)
        self.desk_page = QWidget()
        self.desk_page.setLayout(root)
        self.sign_in = SignInPage()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.desk_page)
        self.stack.addWidget(self.sign_in)
        self.setCentralWidget(self.stack)

    def _add_actions(self) -> None:
        key = QKeySequence
        ctrl = Qt.Modifier.CTRL
        specs: list[tuple[str, str, QKeySequence, Callable[[], None]]] = [
            ("manual", "desk", key(Qt.Key.Key_F2), self.open_manual_entry),
            ("print", "desk", key(Qt.Key.Key_F8), self.print_current_ticket),
            ("handled", "desk", key(Qt.Key.Key_F7), self.mark_handled),
            ("paste", "desk", key(ctrl | Qt.Key.Key_V), self.paste_payload),
            ("lock", "desk", key(ctrl | Qt.Key.Key_L), self.lock),
            ("quit", "desk", key(ctrl | Qt.Key.Key_Q), self.close),
            ("search", "view", key(Qt.Key.Key_F3), self.focus_search),
            ("refresh", "view", key(Qt.Key.Key_F5), self.refresh_visits),
            ("filter", "view", key(Qt.Key.Key_F6), self.cycle_filter),
            ("focus_list", "view", key(Qt.Key.Key_Escape), self.escape),
            ("settings", "tools", key(ctrl | Qt.Key.Key_Comma), self.open_settings),
            ("diagnostics", "tools", key(Qt.Key.Key_F9), self.open_diagnostics),
        ]
        self.actions_by_key: dict[str, QAction] = {}
        self.menus = {
            name: self.menuBar().addMenu("") for name in ("desk", "view", "tools", "language")
        }
        for name, menu, keys, slot in specs:
            action = QAction(self)
            action.setShortcut(keys)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda _checked=False, slot=slot: slot())
            self.addAction(action)
            self.menus[menu].addAction(action)
            self.actions_by_key[name] = action
        self.language_group = QActionGroup(self)
        self.language_actions: dict[str, QAction] = {}
        for code, label in i18n.LANGUAGES.items():
            action = QAction(label, self)
            action.setCheckable(True)
            action.setChecked(code == i18n.language())
            action.triggered.connect(lambda _=False, code=code: i18n.set_language(code))
            self.language_group.addAction(action)
            self.menus["language"].addAction(action)
            self.language_actions[code] = action
        toggle = QAction(self)
        toggle.setShortcut(QKeySequence(ctrl | Qt.Modifier.SHIFT | Qt.Key.Key_L))
        toggle.triggered.connect(lambda _checked=False: self.toggle_language())
        self.addAction(toggle)
        self.menus["language"].addSeparator()
        self.menus["language"].addAction(toggle)
        self.actions_by_key["language"] = toggle

    def open_settings(self) -> None:
        """IT settings (Ctrl+,): saved to the configuration file. The language and the idle
        lock apply at once; devices, the gateway and the store when the desk restarts."""
        from checkin.config import default_config_path
        from ui.settings import open_settings

        if self.locked or self.tool_dialogs:
            return
        source = getattr(self.config, "source_path", None) or default_config_path()
        dialog = open_settings(source, self, self._settings_saved)
        self._track_tool_dialog("settings", dialog)

    def _settings_saved(self, config: Any) -> None:
        self.idle.set_minutes(idle_lock_minutes(config))
        if not self.locked:
            self.idle.start()
        code = getattr(getattr(config, "desk", None), "language", None)
        if code in i18n.LANGUAGES and code != i18n.language():
            i18n.set_language(code)
        self.say(text.settings_saved)

    def _track_tool_dialog(self, name: str, dialog: QWidget) -> None:
        """Settings and diagnostics: closed by the lock, the focus back home after them, and
        a live camera lent to them meanwhile (a webcam opens once: the preview, the test and
        the doctor's camera check need it)."""
        self.tool_dialogs[name] = dialog
        dialog.finished.connect(lambda _result: self._tool_dialog_closed(name))
        if self.camera is not None and self.camera.live and self.camera.isRunning():
            self._camera_paused = True
            self.camera.stop()

    def _tool_dialog_closed(self, name: str) -> None:
        self.tool_dialogs.pop(name, None)
        self._resume_camera()
        if self.isVisible():
            self.activateWindow()
        self.focus_home()

    def _resume_camera(self, *_: object) -> None:
        if self._camera_paused and not self._shut_down and self.camera is not None:
            self._camera_paused = False
            self.camera.resume()

    def open_diagnostics(self) -> None:
        """Devices, pcscd, the gateway, the store and the outbox, in words IT can act on (F9)."""
        from PySide6.QtWidgets import QDialog, QVBoxLayout

        from ui.diagnostics import DiagnosticsPanel

        if self.locked or self.tool_dialogs:
            return
        dialog = QDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowTitle(text.action_label("diagnostics").rstrip("…"))
        layout = QVBoxLayout(dialog)
        panel = DiagnosticsPanel(self.config, dialog)
        layout.addWidget(panel)
        dialog.resize(1000, 600)
        self._track_tool_dialog("diagnostics", dialog)
        dialog.open()
        panel.refresh()  # F9 means "what is wrong?": the answer, not an empty table

    def _connect(self) -> None:
        self.runner.done.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        self.visits.visit_chosen.connect(self.show_visit)
        self.visits.moved_by_user.connect(self._list_moved)
        self.filter.search.returnPressed.connect(self._search_enter)
        self._paste_guard = _PasteToCheckIn(self)
        self.filter.search.installEventFilter(self._paste_guard)
        down = QShortcut(QKeySequence(Qt.Key.Key_Down), self.filter.search)
        down.setContext(Qt.ShortcutContext.WidgetShortcut)
        down.activated.connect(self._search_down)
        self.filter.changed.connect(self._on_filter)
        self.sign_in.signed_in.connect(self._unlock)
        self.counts_timer = QTimer(self)
        self.counts_timer.setInterval(COUNTS_INTERVAL_MS)
        self.counts_timer.timeout.connect(lambda: self.refresh_counts(follow=True))
        self.offline_timer = QTimer(self)
        self.offline_timer.setInterval(OFFLINE_INTERVAL_MS)
        self.offline_timer.timeout.connect(self.update_offline)
        self.camera_timer = QTimer(self)  # frames/s and decode time under the preview
        self.camera_timer.setInterval(CAMERA_STATS_INTERVAL_MS)
        self.camera_timer.timeout.connect(self._show_camera_caption)
        if self.wedge is not None:
            self.wedge.scanned.connect(self.submit)
        if self.serial is not None:
            self.serial.scanned.connect(self.submit)
            self.serial.error.connect(self.show_error)
            self.serial.status.connect(self._on_serial_status)
        if self.chip is not None:
            self.chip.card_placed.connect(self._on_card_placed)
            self.chip.card_removed.connect(self._on_card_removed)
            self.chip.can_needed.connect(self._on_can_needed)
            self.chip.identity_read.connect(self._on_chip_identity)
            self.chip.photo_read.connect(self._on_chip_photo)
            self.chip.auth_checked.connect(self._on_chip_auth)
            self.chip.failed.connect(self._on_chip_failed)
            self.chip.unavailable.connect(self.show_error)
        if self.camera is None:
            return
        self.camera.frame.connect(self.camera_view.show_frame)
        self.camera.scanned.connect(self.submit)
        self.camera.camera_opened.connect(self._on_camera_opened)
        self.camera.camera_lost.connect(self._on_camera_lost)
        self.camera.error.connect(self.show_error)
        self.camera.ended.connect(self._on_camera_ended)

    # -- public ------------------------------------------------------------------------------

    def start(self) -> None:
        """Load today's list and counters, start the camera, the chip reader, the wedge."""
        self.refresh_visits()
        self.refresh_counts()
        self.update_offline()
        self.counts_timer.start()
        self.offline_timer.start()
        if self.wedge is not None:
            self.wedge.install()
        if self.serial is not None:
            self.serial.start()
        if self.chip is not None:
            self.chip.start()
        if self.camera is not None:
            self.camera.start()

    @property
    def locked(self) -> bool:
        return self.stack.currentWidget() is self.sign_in

    def submit(self, payload: str) -> None:
        """Check in the patient whose QR text this is (camera, wedge scanner, paste, or any
        other source: the hook for new scanners). A number alone opens manual entry."""
        if self.locked:
            parsed = parse_payload(payload)
            if isinstance(parsed, Identity) and self.sign_in.fill_from_identity(parsed):
                return
            self.say(text.locked_scan_ignored)
            self.sounds.play("error")
            return
        parsed = parse_payload(payload)
        if isinstance(parsed, Identity) and not parsed.full_name:
            self.say(text.number_only)
            self.sounds.play("warning")
            self.open_manual_entry(number=parsed.lookup_number)
            return
        started = time.perf_counter()
        self.banner.show_busy()
        self._started[self.runner.submit(payload)] = started

    def admit(self, identity: Identity) -> None:
        """Check in a patient from manual entry or a chip read (no QR text)."""
        if self.locked:
            self.say(text.locked_scan_ignored)
            self.sounds.play("error")
            return
        started = time.perf_counter()
        self.banner.show_busy()
        self._started[self.runner.admit(identity)] = started

    def paste_payload(self) -> None:
        payload = QGuiApplication.clipboard().text().strip()
        if payload:
            self.submit(payload)
        else:
            self.say(text.empty_paste)

    def mark_handled(self) -> None:
        """F7: the visit needing attention (found not eligible at its re-check) has been dealt
        with: the selected row, else the visit on screen. Clears its flag and the counter."""
        if self.locked:
            return
        picked = self.visits.selected_visit() if self._user_selected else None
        visit = picked or self.current_visit or self.visits.selected_visit()
        if visit is None or not visit.needs_attention:
            self.say(text.nothing_to_handle)
            return
        visit_id, number = visit.id, visit.queue_number
        self.reads.run(
            lambda: self.intake.store.acknowledge(visit_id),
            lambda _done: self._handled(number),
            lambda exc: self._handle_failed(exc),
        )

    def _handle_failed(self, exc: BaseException) -> None:
        log.warning("cannot clear the attention flag: %s", exc)
        self.say(text.handle_failed)
        self.sounds.play("error")

    def _handled(self, number: int) -> None:
        self.say(lambda: text.handled(number))
        self.refresh_visits()
        self.refresh_counts()

    def show_error(self, message: str) -> None:
        """A status line already in words (a device's or a worker's message)."""
        self._status_words = None
        self.statusBar().showMessage(message)

    def say(self, words: Callable[[], str]) -> None:
        """A status line from the catalog, said again in the new language on a switch."""
        self._status_words = words
        self.statusBar().showMessage(words())

    def refresh_visits(self, select: int | None = None) -> None:
        if select is not None:
            self._select_after_load = select
        day = self.intake.clock().date().isoformat()
        self.reads.run(
            lambda: self.intake.store.visits_on(day), self._on_visits, self._on_visits_failed
        )

    def refresh_counts(self, *, follow: bool = False) -> None:
        """Pending re-checks and visits needing attention, read off the GUI thread.
        ``follow`` (the timer's): when they changed, re-checks landed in the background, so
        the list is reloaded too; callers that just reloaded it leave it False."""
        store, day = self.intake.store, self.intake.clock().date().isoformat()
        self.reads.run(
            lambda: (store.pending_count(), store.attention_count(day)),
            lambda counts: self._on_counts(counts, follow=follow),
            lambda exc: log.warning("cannot count re-checks: %s", exc),
        )

    def update_offline(self) -> None:
        """Show the offline strip when the gateway is unreachable (or not configured)."""
        if self.intake.gateway is None:
            self.offline.show_text("", text.no_gateway())
            return
        status = self.intake.breaker.status
        if self.intake.breaker.online:
            self.offline.hide()
            return
        minutes = max(0, int((time.monotonic() - status.since) // 60))
        parts = [text.offline_message(), text.offline_since(minutes)]
        decision = self.last_result.decision if self.last_result else None
        if decision is not None and decision.source is Source.CACHE:
            parts.append(text.offline_cached(text.cached_age(decision.checked_at)))
        self.offline.show_text(text.offline_title(), text.DETAIL_SEPARATOR.join(parts))

    def open_manual_entry(self, number: str = "") -> None:
        if self.locked or self.manual_dialog is not None:
            return
        dialog = ManualEntryDialog(self, number=number)
        self.manual_dialog = dialog
        dialog.accepted.connect(lambda: self._manual_accepted(dialog))
        dialog.finished.connect(lambda _result: self._dialog_closed("manual"))
        dialog.open()

    def focus_search(self) -> None:
        self.filter.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter.search.selectAll()

    def cycle_filter(self) -> None:
        self.filter.cycle()
        key = self.filter.key
        self.say(lambda: text.filter_names()[key])

    def escape(self) -> None:
        """Esc: clear the search when in it, then back to today's list."""
        if self.filter.search.hasFocus() and self.filter.search.text():
            self.filter.search.clear()
        self.focus_home()

    def focus_home(self) -> None:
        """Where the focus rests: the sign-in form when locked, else today's list."""
        if self.locked:
            self.sign_in.focus_first_empty()
            return
        self.visits.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_visit(self, visit: Visit) -> None:
        """Show a visit from today's list (Enter on a row): banner, number, patient."""
        self.current_visit = visit
        self.banner.show_decision(visit.decision)
        self.queue.show_number(visit.queue_number)
        self.patient.show_patient(visit.identity, visit.decision)
        self.patient.show_duplicates(self.visits.duplicates_of(visit.id))

    def print_current_ticket(self) -> None:
        """F8: the ticket of the row picked in the list since the last check-in, else of the
        patient on screen (the list may not show the newest check-in yet)."""
        if self.locked:
            return
        picked = self.visits.selected_visit() if self._user_selected else None
        visit = picked or self.current_visit or self.visits.selected_visit()
        if visit is None:
            self.say(text.nothing_to_print)
            self.sounds.play("error")
            return
        reprint = visit.id in self._printed
        facility = self.intake.facility_code
        path: Path | None = None
        try:
            if self.printer is not None:
                print_ticket(visit, self.printer, facility_code=facility, reprint=reprint)
            elif self.ticket_folder is None and printer_available():
                print_ticket(visit, facility_code=facility, reprint=reprint)
            else:
                folder = self.ticket_folder or _default_ticket_folder()
                name = f"ticket-{visit.visit_date}-{visit.queue_number:03d}.pdf"
                path = print_ticket(
                    visit, pdf_path=folder / name, facility_code=facility, reprint=reprint
                )
        except (TicketError, OSError) as exc:
            log.warning("ticket not printed: %s", exc)
            self.show_error(text.ticket_failed(str(exc)))
            self.sounds.play("error")
            return
        self._printed.add(visit.id)
        number = visit.queue_number
        if path is None:
            self.say(lambda: text.ticket_printed(number))
        else:
            self.say(lambda: text.ticket_saved(number, str(path)))
        self.ticket_printed.emit(visit, path)

    def lock(self) -> None:
        """Ctrl+L or the idle timer: hide the desk behind the sign-in form."""
        if self.locked:
            return
        self._close_dialogs()
        self._show_sign_in(locked_by=self.officer)

    def set_officer(self, officer: Officer) -> None:
        """Every lookup from now on carries this officer (intake audit and gateway body)."""
        self.officer = officer
        self.intake.officer = officer
        if self.intake.gateway is not None:
            self.intake.gateway.officer = officer
        name, masked = officer.name, mask_number(officer.citizen_id)
        self.officer_label.setText(text.officer_label(name, masked))

    def end_feedback(self) -> None:
        """End the banner and number flashes at once (before a screenshot)."""
        self.banner.end_flash()
        self.queue.end_flash()

    def toggle_language(self) -> None:
        i18n.set_language(i18n.ENGLISH if i18n.language() == i18n.VIETNAMESE else i18n.VIETNAMESE)

    def is_settled(self) -> bool:
        return self._camera_done and self.runner.pending == 0 and self.reads.pending == 0

    def shutdown(self) -> None:
        """Stop the camera, chip reader, timers and background work; safe to call twice."""
        if self._shut_down:
            return
        self._shut_down = True
        self._unsubscribe()
        self.idle.stop()
        self.counts_timer.stop()
        self.offline_timer.stop()
        self.camera_timer.stop()
        if self.wedge is not None:
            try:
                self.wedge.uninstall()
            except Exception:
                log.debug("wedge filter not installed", exc_info=True)
        if self.serial is not None:
            self.serial.stop()
        if self.chip is not None:
            self.chip.stop()
        if self.camera is not None:
            self.camera.stop()
        self.runner.wait()
        self.reads.wait()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
        self.closed.emit()

    # -- language ----------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.setWindowTitle(text.window_title())
        for name, menu in self.menus.items():
            menu.setTitle(text.menu_title(name))
        for name, action in self.actions_by_key.items():
            action.setText(text.action_label(name))
        for code, action in self.language_actions.items():
            action.setChecked(code == i18n.language())
        self.hint.setText(text.shortcuts_hint())
        self._show_camera_caption()
        self.banner.retranslate()
        self.queue.retranslate()
        self.patient.retranslate()
        self.filter.retranslate()
        self.visits.retranslate()
        self._update_visits_title()
        self._show_counts()
        self.sign_in.retranslate()
        if self.officer is not None:
            self.set_officer(self.officer)
        if self.camera_view.image is None:
            self.camera_view.setText(
                text.camera_none() if self.camera is None else text.camera_waiting()
            )
        self.update_offline()
        if self._status_words is not None:
            self.statusBar().showMessage(self._status_words())
        else:
            self.statusBar().clearMessage()  # a device's words in the other language

    def _show_camera_caption(self) -> None:
        state, name = self._camera_state, self._camera_name
        if state == "running":
            stats = self.camera.stats() if self.camera is not None else None
            if stats is not None and stats.capture_fps > 0:
                words = text.camera_running(name, stats.capture_fps, stats.decode_ms_median)
            else:
                words = name
        else:
            words = {
                "none": text.camera_none(),
                "ended": text.camera_ended(),
                "lost": text.camera_lost(name),
                "paused": text.camera_paused(),
            }.get(state, "")
        if self._serial_lost:
            words = text.DETAIL_SEPARATOR.join(filter(None, [words, text.serial_caption()]))
        self.camera_caption.setText(words)

    # -- handlers ----------------------------------------------------------------------------

    def _on_done(self, checked: Checked) -> None:
        result = checked.result
        started = self._started.pop(checked.seq, None)
        if checked.seq < self._shown_seq:
            self._on_late(checked)
            return
        self._shown_seq = checked.seq
        self.last_result = result
        if self.chip is not None:
            self.chip.offer_identity(result.identity)  # their card opens without typing a CAN
        self.last_checked = checked
        self.current_visit = result.visit
        self._user_selected = False
        self.banner.show_decision(result.decision, result.reopened)
        self.queue.show_number(result.visit.queue_number, result.reopened)
        self.patient.show_patient(result.identity, result.decision)
        self.patient.show_duplicates(list(checked.duplicates))
        self._feedback(result, bool(checked.duplicates))
        name, number = result.identity.full_name, result.visit.queue_number
        if self.locked:
            pass  # a lookup that finished after the lock: nothing of the patient on the lock
        elif result.reopened:
            self.say(lambda: text.reopened(name, number))
        else:
            self.say(lambda: text.checked_in(name, number))
        if started is not None:
            self.scan_latencies.append(time.perf_counter() - started)
        self.update_offline()
        self.checked_in.emit(result)
        self.refresh_visits(select=result.visit.id)
        self.refresh_counts()
        if not self._dialog_open() and not self._typing_somewhere():
            self.focus_home()
        self._check_settled()

    def _typing_somewhere(self) -> bool:
        """The officer is typing (the sign-in form of a locked desk, the search box): a verdict
        arriving must not take the keyboard away or change what is being typed."""
        return self.locked or self.filter.search.hasFocus()

    def _feedback(self, result: IntakeResult, duplicate: bool) -> None:
        """A distinct sound per outcome and a flash of the banner (and number on repeats)."""
        if result.reopened or duplicate:
            self.sounds.play("duplicate")
            self.queue.flash()
        else:
            self.sounds.play(SOUND_OF_STATUS[result.decision.status])
        self.banner.flash()

    def _on_late(self, checked: Checked) -> None:
        """A lookup that finished after a later patient's verdict went on screen (a slow
        gateway, then a cached answer): the screen stays on the later patient; this one is
        registered, announced in the status bar with its verdict, and marked in the list."""
        result = checked.result
        self.sounds.play(SOUND_OF_STATUS[result.decision.status])
        name, number, status = (
            result.identity.full_name,
            result.visit.queue_number,
            result.decision.status,
        )
        if not self.locked:
            self.say(lambda: text.late_result(name, number, text.status_short(status)))
        self.checked_in.emit(result)
        self.refresh_visits()
        self.refresh_counts()
        self._check_settled()

    def _on_failed(self, message: str, seq: int = 0) -> None:
        self._started.pop(seq, None)
        self.show_error(message)
        self.sounds.play("error")
        self.banner.flash()
        if self.runner.pending == 0:
            self._restore_banner()
        self._check_settled()

    def _restore_banner(self) -> None:
        """After a failed scan or chip read: the verdict that was on screen before it."""
        last, current = self.last_result, self.current_visit
        if last is not None and current is not None and current.id == last.visit.id:
            self.banner.show_decision(last.decision, last.reopened)
        elif current is not None:
            self.banner.show_decision(current.decision)
        else:
            self.banner.show_idle()

    def _on_visits(self, visits: list[Visit]) -> None:
        self.visits.set_visits(visits)
        if self._select_after_load is not None:
            hidden = not self.visits.select_visit(self._select_after_load)
            if hidden and not self.filter.search.hasFocus():  # not while typing in it
                self._show_all()  # the new check-in is hidden by a search or filter
                self.visits.select_visit(self._select_after_load)
            self._select_after_load = None
        self._follow_current(visits)
        self._update_visits_title()
        self.visits_loaded.emit(len(visits))
        if not self._loaded_once:
            self._loaded_once = True
            self.ready.emit()
        self._check_settled()

    def _follow_current(self, visits: list[Visit]) -> None:
        """The visit on screen was re-checked in the background (or handled): show its new
        verdict, so a banner never says 'unverified' of someone the gateway has since
        confirmed. A fresher check-in on screen is left alone."""
        current = self.current_visit
        if current is None or self.locked:
            return
        fresh = next((v for v in visits if v.id == current.id), None)
        if fresh is None or (fresh.status, fresh.needs_attention) == (
            current.status,
            current.needs_attention,
        ):
            return
        self.current_visit = fresh
        chip_reading = self.chip is not None and getattr(self.chip, "busy", False)
        if self.runner.pending == 0 and not chip_reading:  # not over a "reading…" banner
            self.banner.show_decision(fresh.decision)
            self.patient.show_patient(fresh.identity, fresh.decision)

    def _update_visits_title(self) -> None:
        shown, total = len(self.visits.shown_visits()), len(self.visits.visits)
        self.visits_title.setText(text.visits_title(shown, total))

    def _on_visits_failed(self, exc: BaseException) -> None:
        log.error("cannot read today's visits", exc_info=exc)
        self.show_error(text.visits_error())
        self._check_settled()

    def _on_counts(self, counts: tuple[int, int], *, follow: bool = False) -> None:
        changed = counts != (self.pending, self.attention)
        self.pending, self.attention = counts
        self._show_counts()
        if follow and changed and self._loaded_once:
            self.refresh_visits()  # re-checks landed in the background: show their verdicts
        self._check_settled()

    def _show_counts(self) -> None:
        self.pending_label.setText(text.pending_count(self.pending))
        self.pending_label.setVisible(self.pending > 0)
        self.attention_label.setText(text.attention_count(self.attention))
        self.attention_label.setVisible(self.attention > 0)

    def _show_all(self) -> None:
        self.filter.search.clear()
        self.filter.set_key("all")

    def _list_moved(self) -> None:
        self._user_selected = True

    def _search_enter(self) -> None:
        """Enter in the search box: open the first match, as Enter on its row would."""
        if self.visits.selected_visit() is None:
            self.visits.select_first_shown()
        if self.visits.choose_selected():
            self._user_selected = True
        self.focus_home()

    def _search_down(self) -> None:
        """Down in the search box: into the list, on the first match."""
        if self.visits.selected_visit() is None:
            self.visits.select_first_shown()
        self._user_selected = self.visits.selected_visit() is not None
        self.focus_home()

    def _on_serial_status(self, status: str) -> None:
        """The serial scanner's state under the camera's: said while it is not connected (a
        cable pulled, a port that does not open; the driver retries by itself)."""
        was_lost = self._serial_lost
        self._serial_lost = status.startswith("disconnected")
        if self._serial_lost and not was_lost:
            log.warning("serial scanner %s", status)  # pyserial's reason, for IT
            self.say(text.serial_lost)
            self.sounds.play("error")
        elif status == "connected" and was_lost:
            self.say(text.serial_back)
        self._show_camera_caption()

    def _on_filter(self, key: str, query: str) -> None:
        self.visits.set_filter(key)
        self.visits.set_search(query)
        self._update_visits_title()

    def _on_camera_opened(self, name: str) -> None:
        self._camera_state, self._camera_name = "running", name
        self._show_camera_caption()
        self.camera_timer.start()

    def _on_camera_lost(self, name: str) -> None:
        self._camera_state, self._camera_name = "lost", name
        self.camera_timer.stop()
        self._show_camera_caption()

    def _on_camera_ended(self) -> None:
        self.camera_timer.stop()
        self._camera_done = True
        self._camera_state = "paused" if self._camera_paused else "ended"
        self._show_camera_caption()
        self._check_settled()

    def _check_settled(self) -> None:
        if self.is_settled():
            self.settled.emit()

    # -- manual entry and dialogs ------------------------------------------------------------

    def _manual_accepted(self, dialog: ManualEntryDialog) -> None:
        if dialog.identity is not None:
            self.admit(dialog.identity)

    def _dialog_open(self) -> bool:
        open_ones = (self.manual_dialog, self.can_dialog, *self.tool_dialogs.values())
        return any(dialog is not None for dialog in open_ones)

    def _dialog_closed(self, which: str) -> None:
        if which == "manual":
            self.manual_dialog = None
        else:
            self.can_dialog = None
        if self.isVisible():
            self.activateWindow()  # some platforms leave no window active after a dialog
        self.focus_home()

    def _close_dialogs(self) -> None:
        """Before the lock hides the desk: nothing may stay open on top of the sign-in form
        (Settings would let anyone change the gateway); unsaved settings are dropped."""
        if self.manual_dialog is not None:
            self.manual_dialog.reject()
        if self.can_dialog is not None:
            self.can_dialog.reject()
        for dialog in list(self.tool_dialogs.values()):
            dialog.reject()

    # -- sign-in and lock --------------------------------------------------------------------

    def _show_sign_in(self, locked_by: Officer | None) -> None:
        self.idle.stop()
        self.sign_in.prepare(self.default_officer, locked_by=locked_by)
        self.stack.setCurrentWidget(self.sign_in)
        self.statusBar().clearMessage()  # it may name the last patient
        self._enable_desk_actions(False)
        self.sign_in.focus_first_empty()
        self.locked_changed.emit(True)

    def _unlock(self, officer: Officer) -> None:
        was_locked = self.locked
        self.set_officer(officer)
        self.stack.setCurrentWidget(self.desk_page)
        self._enable_desk_actions(True)
        self.idle.start()
        self.focus_home()
        name = officer.name
        self.say(lambda: text.signed_in(name))
        if was_locked:
            self.locked_changed.emit(False)

    def _enable_desk_actions(self, enabled: bool) -> None:
        for name, action in self.actions_by_key.items():
            if name not in ("quit", "language"):
                action.setEnabled(enabled)

    # -- chip --------------------------------------------------------------------------------

    def _on_card_placed(self, reader: str) -> None:
        if self.locked:
            return
        self.banner.show_busy(text.chip_reading())
        self.say(text.chip_reading)

    def _on_card_removed(self, reader: str) -> None:
        if self.can_dialog is not None:
            self.can_dialog.reject()

    def _on_can_needed(self, reader: str, attempt: int) -> None:
        if self.locked:
            self.chip.answer_can(None)
            self.say(text.locked_scan_ignored)
            return
        from ui.chip_worker import CanDialog

        dialog = CanDialog(self, attempt=attempt)
        self.can_dialog = dialog
        dialog.finished.connect(lambda _result: self._can_answered(dialog))
        dialog.open()

    def _can_answered(self, dialog: Any) -> None:
        self.chip.answer_can(dialog.can)
        self._dialog_closed("can")
        if dialog.can is None:
            self._restore_banner()

    def _on_chip_identity(self, identity: Identity) -> None:
        self.patient.show_patient(identity)
        self.patient.show_chip_message(text.chip_identity_read())
        self.admit(identity)

    def _on_chip_photo(self, photo: Any) -> None:
        from ui.chip_worker import photo_image

        self.patient.show_photo(photo_image(photo))

    def _on_chip_auth(self, result: Any) -> None:
        self.patient.show_chip_badge(result.hashes_ok, result.signature_ok, result.trusted)

    def _on_chip_failed(self, message: str) -> None:
        self.show_error(message)
        self.sounds.play("error")
        if self.runner.pending == 0:
            self._restore_banner()


class _PasteToCheckIn(QObject):
    """Ctrl+V in the search box: a box that takes text keeps Ctrl+V for itself, so the
    window's 'paste a QR' never fires there. A patient's QR on the clipboard is checked in,
    as Ctrl+V anywhere else does; any other text is pasted into the search as usual."""

    def __init__(self, desk: DeskWindow) -> None:
        super().__init__(desk)
        self.desk = desk

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        paste = QKeySequence.StandardKey.Paste
        if event.type() != QEvent.Type.KeyPress or not event.matches(paste):
            return False
        payload = QGuiApplication.clipboard().text().strip()
        parsed = parse_payload(payload) if payload else None
        if not isinstance(parsed, Identity) and "|" not in payload:
            return False  # words to search for
        self.desk.submit(payload)
        return True


def _configured_officer(config: Any, intake: Intake) -> Officer | None:
    gateway = getattr(config, "gateway", None)
    officer = getattr(gateway, "officer", None) if gateway is not None else None
    if officer is None:
        officer = intake.officer
    if isinstance(officer, Officer) and (officer.name or officer.citizen_id):
        return officer
    return None


def _default_ticket_folder() -> Path:
    from checkin.config import default_data_dir

    return default_data_dir() / "tickets"
