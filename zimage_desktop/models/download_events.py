"""What a download tells its caller: the errors that stop a set, the progress events, the final
report and the free-space check (models.download runs it; the model manager and the CLI read it)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserFacingError
from ..messages import joined, msg

DISK_MARGIN = 512 * 1024**2  # kept free beyond the download, for the OS and the history


class DownloadError(UserFacingError):
    pass


class DiskSpaceError(DownloadError):
    pass


class SourcesUnreachable(DownloadError):
    """No source answered the probe: most likely no network (or a proxy or mirror that is down)."""

    def __init__(self, reasons: dict[str, str]) -> None:
        super().__init__(msg("download.no_source_reachable", "No download source can be reached ({reasons}). Check the "
                             "internet connection, proxy or mirror address, then try again.",
                             reasons=joined([msg("download.source_reason", "{source}: {reason}", source=k, reason=v)
                                             for k, v in reasons.items()], "; ")))
        self.reasons = reasons


class DownloadCancelled(DownloadError):
    def __init__(self) -> None:
        super().__init__(msg("download.cancelled", "The download was cancelled; what arrived is kept and resumes next time."))



@dataclass(frozen=True)
class DownloadEvent:
    # "checking" | "progress" | "file_done" | "file_skipped" | "source_failed" (another source is tried
    # next) | "file_failed" | "notice"
    kind: str
    file: str  # catalog dest
    done: int = 0
    total: int | None = None
    speed: float = 0.0  # bytes/s
    eta_s: float | None = None
    set_done: int = 0
    set_total: int = 0
    set_speed: float = 0.0
    set_eta_s: float | None = None
    source: str = ""
    message: str = ""


@dataclass
class DownloadReport:
    downloaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


def free_bytes(folder: Path) -> int:
    """Free space on the drive that holds ``folder``, which need not exist yet (its nearest
    existing parent is asked)."""
    path = Path(folder).expanduser().absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    return shutil.disk_usage(path).free
