"""The windowed app's log: a rotating file in the data folder with warnings and the tracebacks
of unexpected errors, so a user has something to attach to a bug report (Help → Open log folder).

Qt-free; the CLI does not install it (it prints to stderr, and ``--verbose`` shows details).
"""

from __future__ import annotations

import logging
import sys
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_NAME = "zimage-desktop.log"
MAX_BYTES = 1024 * 1024  # per file; with 3 backups at most 4 MB on disk
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"
log = logging.getLogger("zimage_desktop")


def install_app_log(folder: Path) -> Path | None:
    """Send warnings and errors (with tracebacks) of every logger to ``folder/zimage-desktop.log``,
    rotated, and log uncaught exceptions of any thread there too. Returns the log file, or None
    when the folder cannot be written (the app still runs)."""
    path = Path(folder) / LOG_NAME
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, RotatingFileHandler) and Path(handler.baseFilename) == path.resolve():
            return path  # installed already (a second window in the same process, tests)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True)
    except OSError:
        return None
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
    logging.captureWarnings(True)  # Python warnings (e.g. a library's DeprecationWarning) too

    previous_hook = sys.excepthook
    previous_thread_hook = threading.excepthook

    def excepthook(kind, value, tb) -> None:
        log.critical("unexpected error", exc_info=(kind, value, tb))
        previous_hook(kind, value, tb)

    def thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not SystemExit and args.exc_value is not None:
            log.critical("unexpected error in thread %s", getattr(args.thread, "name", "?"),
                         exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        previous_thread_hook(args)

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
    return path
