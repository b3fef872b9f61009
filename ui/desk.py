"""The desk's main window: camera, verdict banner, queue number, patient and today's visits.

The window owns the background workers it is given and wires their signals to widgets. It
never writes SQLite and never waits on the network: intakes run on :class:`IntakeRunner`,
list reads on a :class:`TaskRunner`, camera decoding on a :class:`CameraWorker`.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from checkin.intake import Intake, IntakeResult
from checkin.store import Visit
from ui import text
from ui.widgets import CameraView, PatientPanel, QueueNumber, VerdictBanner, VisitsTable
from ui.workers import CameraWorker, IntakeRunner, TaskRunner

log = logging.getLogger(__name__)


class DeskWindow(QMainWindow):
    """Signals: ``checked_in(IntakeResult)`` after each intake is shown; ``settled`` when the
    camera has ended and no intake or read is in flight; ``closed`` when the window closes."""

    checked_in = Signal(object)
    settled = Signal()
    closed = Signal()

    def __init__(
        self, intake: Intake, camera: CameraWorker | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.intake = intake
        self.camera = camera
        self.runner = IntakeRunner(intake, self)
        self.reads = TaskRunner(max_threads=1, parent=self)
        self.last_result: IntakeResult | None = None
        self._camera_done = camera is None
        self._shut_down = False
        self.setWindowTitle(text.WINDOW_TITLE)
        self._build()
        self._add_actions()
        self._connect()
        self.show_error(text.READY)

    # -- construction ------------------------------------------------------------------------

    def _build(self) -> None:
        self.camera_view = CameraView()
        self.camera_caption = QLabel(text.CAMERA_NONE if self.camera is None else "")
        self.banner = VerdictBanner()
        self.queue = QueueNumber()
        self.patient = PatientPanel()
        self.visits_title = QLabel(text.VISITS_TITLE.format(count=0))
        self.visits_title.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.visits = VisitsTable()

        left = QVBoxLayout()
        left.addWidget(self.camera_view, 1)
        left.addWidget(self.camera_caption)
        details = QHBoxLayout()
        details.addWidget(self.queue)
        details.addWidget(self.patient, 1)
        right = QVBoxLayout()
        right.addWidget(self.banner)
        right.addLayout(details, 1)
        top = QHBoxLayout()
        top.addLayout(left, 5)
        top.addLayout(right, 6)
        root = QVBoxLayout()
        root.addLayout(top, 3)
        root.addWidget(self.visits_title)
        root.addWidget(self.visits, 2)
        central = QWidget()
        central.setLayout(root)
        self.setCentralWidget(central)

    def _add_actions(self) -> None:
        shortcuts = (
            (text.ACTION_REFRESH, QKeySequence(Qt.Key.Key_F5), self.refresh_visits),
            (text.ACTION_PASTE, QKeySequence.StandardKey.Paste, self.paste_payload),
            (text.ACTION_QUIT, QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_Q), self.close),
        )
        for label, keys, slot in shortcuts:
            action = QAction(label, self)
            action.setShortcut(keys)
            action.triggered.connect(slot)
            self.addAction(action)

    def _connect(self) -> None:
        self.runner.done.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        if self.camera is None:
            return
        self.camera.frame.connect(self.camera_view.show_frame)
        self.camera.scanned.connect(self.submit)
        self.camera.camera_opened.connect(self.camera_caption.setText)
        self.camera.error.connect(self.show_error)
        self.camera.ended.connect(self._on_camera_ended)

    # -- public ------------------------------------------------------------------------------

    def start(self) -> None:
        """Load today's list and start the camera."""
        self.refresh_visits()
        if self.camera is not None:
            self.camera.start()

    def submit(self, payload: str) -> None:
        """Check in the patient whose QR text this is (from the camera, a paste, a scanner)."""
        self.banner.show_busy()
        self.runner.submit(payload)

    def paste_payload(self) -> None:
        payload = QGuiApplication.clipboard().text().strip()
        if payload:
            self.submit(payload)
        else:
            self.show_error(text.EMPTY_PASTE)

    def show_error(self, message: str) -> None:
        self.statusBar().showMessage(message)

    def refresh_visits(self) -> None:
        day = self.intake.clock().date().isoformat()
        self.reads.run(
            lambda: self.intake.store.visits_on(day), self._on_visits, self._on_visits_failed
        )

    def is_settled(self) -> bool:
        return self._camera_done and self.runner.pending == 0 and self.reads.pending == 0

    def shutdown(self) -> None:
        """Stop the camera and wait for background work; safe to call twice."""
        if self._shut_down:
            return
        self._shut_down = True
        if self.camera is not None:
            self.camera.stop()
        self.runner.wait()
        self.reads.wait()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
        self.closed.emit()

    # -- handlers ----------------------------------------------------------------------------

    def _on_done(self, result: IntakeResult) -> None:
        self.last_result = result
        self._show_result(result)
        template = text.REOPENED if result.reopened else text.CHECKED_IN
        name = result.identity.full_name
        self.show_error(template.format(name=name, number=result.visit.queue_number))
        self.checked_in.emit(result)
        self.refresh_visits()
        self._check_settled()

    def _on_failed(self, message: str) -> None:
        self.show_error(message)
        if self.runner.pending == 0:
            self._restore_banner()
        self._check_settled()

    def _show_result(self, result: IntakeResult) -> None:
        self.banner.show_decision(result.decision)
        self.queue.show_number(result.visit.queue_number, result.reopened)
        self.patient.show_patient(result.identity, result.decision)

    def _restore_banner(self) -> None:
        if self.last_result is None:
            self.banner.show_idle()
        else:
            self.banner.show_decision(self.last_result.decision)

    def _on_visits(self, visits: list[Visit]) -> None:
        self.visits.set_visits(visits)
        self.visits_title.setText(text.VISITS_TITLE.format(count=len(visits)))
        self._check_settled()

    def _on_visits_failed(self, exc: BaseException) -> None:
        log.error("cannot read today's visits", exc_info=exc)
        self.show_error(text.VISITS_ERROR)
        self._check_settled()

    def _on_camera_ended(self) -> None:
        self._camera_done = True
        self.camera_caption.setText(text.CAMERA_ENDED)
        self._check_settled()

    def _check_settled(self) -> None:
        if self.is_settled():
            self.settled.emit()
