"""Whether a path can be the store, checked before anything opens it.

Opening a wrong path would create it, switch it to WAL or give it our tables, or fail deep in
SQLite with ``disk I/O error``; :func:`check_store_path` says first, in one sentence naming the
path, why it cannot be the store: a folder, a path under a regular file, a folder that cannot
be written, an existing file that is not SQLite or is someone else's SQLite database. A path
that does not exist yet in a folder this user can write is fine: the store is created there.

Used by the command line (``checkin visits`` …), the desk at start-up, the settings dialog
before saving (:func:`checkin.config.store_problems`) and the doctor.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checkin.config import Phrase

if TYPE_CHECKING:
    from checkin.store import Store

SQLITE_HEADER = b"SQLite format 3\x00"

IS_FOLDER = Phrase("{path} is a folder, not a file", "{path} là thư mục, không phải tệp")
UNDER_FILE = Phrase(
    "{path} is under {blocker}, which is a file, not a folder",
    "{path} nằm trong {blocker}, nhưng {blocker} là tệp, không phải thư mục",
)
CANNOT_CREATE = Phrase("{path} cannot be created: {error}", "Không tạo được {path}: {error}")
NO_WRITE = Phrase(
    "{path} cannot be created: this user cannot write in {folder}",
    "Không tạo được {path}: người dùng này không ghi được vào {folder}",
)
CANNOT_READ = Phrase("{path} cannot be read: {error}", "Không đọc được {path}: {error}")
NOT_SQLITE = Phrase(
    "{path} is not a checkin database (not an SQLite file)",
    "{path} không phải cơ sở dữ liệu checkin (không phải tệp SQLite)",
)
OTHER_TABLES = Phrase(
    "{path} is not a checkin database (it holds other tables)",
    "{path} không phải cơ sở dữ liệu checkin (tệp chứa các bảng khác)",
)
NOT_OURS = Phrase(  # the same words as the doctor's Database line
    "{path} is not a checkin database ({error})",
    "{path} không phải cơ sở dữ liệu checkin ({error})",
)
PHRASES = (
    IS_FOLDER,
    UNDER_FILE,
    CANNOT_CREATE,
    NO_WRITE,
    CANNOT_READ,
    NOT_SQLITE,
    OTHER_TABLES,
    NOT_OURS,
)


@dataclass(frozen=True)
class PathProblem:
    """Why a path cannot be the store: ``message`` in English, ``phrase.vi`` with ``values``
    for the desk's screens."""

    phrase: Phrase
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.phrase.format(**self.values)


class StorePathError(ValueError):
    """The store cannot be opened at this path; the message is one line naming it."""

    def __init__(self, problem: PathProblem) -> None:
        super().__init__(f"store path {problem.message}")
        self.problem = problem


def check_store_path(path: str | Path) -> PathProblem | None:
    """Why ``path`` cannot be the store, checked without creating or changing anything; None
    when it looks fine (an existing checkin database, an empty file, or a path that can be
    created)."""
    path = Path(path)
    try:
        return _check(path, str(path))
    except OSError as exc:  # a folder on the way this user may not look into
        return PathProblem(CANNOT_READ, {"path": str(path), "error": exc.strerror or str(exc)})


def _check(path: Path, shown: str) -> PathProblem | None:
    if path.is_dir():
        return PathProblem(IS_FOLDER, {"path": shown})
    blocker = next((p for p in path.parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        return PathProblem(UNDER_FILE, {"path": shown, "blocker": str(blocker)})
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except FileNotFoundError:  # created on open, when its folder can be written
        if blocker is not None and not os.access(blocker, os.W_OK | os.X_OK):
            return PathProblem(NO_WRITE, {"path": shown, "folder": str(blocker)})
        return None
    except OSError as exc:
        return PathProblem(CANNOT_READ, {"path": shown, "error": exc.strerror or str(exc)})
    if header and header != SQLITE_HEADER:  # an empty file becomes a new store
        return PathProblem(NOT_SQLITE, {"path": shown})
    tables = sqlite_tables(path) if header else set()
    if tables and "visits" not in tables:
        return PathProblem(OTHER_TABLES, {"path": shown})
    return None


def store_path_problem(path: str | Path) -> str | None:
    """:func:`check_store_path` as one English sentence naming the path, or None."""
    problem = check_store_path(path)
    return None if problem is None else problem.message


def sqlite_tables(path: Path) -> set[str]:
    """The table names of an SQLite file, read only; empty when it cannot be read that way."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return set()  # let the store say what is wrong
    return {name for (name,) in rows}


def open_store(path: str | Path) -> Store:
    """The store at ``path``, or :class:`StorePathError` saying what is wrong with the path.
    Other SQLite errors (locked, damaged, disk full) are raised as they are."""
    from sqlite_utils.db import AlterError

    from checkin.store import Store

    shown = str(path)
    problem = check_store_path(path)
    if problem is None:
        try:
            return Store(path)
        except OSError as exc:  # its folder cannot be made: permissions, a read-only disk
            problem = PathProblem(CANNOT_CREATE, {"path": shown, "error": exc.strerror or str(exc)})
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) != sqlite3.SQLITE_NOTADB:
                raise  # locked, damaged, disk full: unexpected
            problem = PathProblem(NOT_SQLITE, {"path": shown})
        except AlterError as exc:  # an SQLite file whose tables are not ours
            problem = PathProblem(NOT_OURS, {"path": shown, "error": str(exc)})
    raise StorePathError(problem)
