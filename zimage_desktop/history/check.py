"""``history check``: what is inconsistent between the database and the image folders.

Reported, never changed: rows whose image is gone, images without a row, files that several rows
point at (an overwrite happened), leftover temporary files of interrupted saves, and rows whose
stored parameters no longer parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .store import COLUMNS, HistoryStore


@dataclass
class CheckReport:
    missing: list[int] = field(default_factory=list)
    orphans: list[Path] = field(default_factory=list)
    shared: dict[str, list[int]] = field(default_factory=dict)  # file -> the rows that point at it
    leftovers: list[Path] = field(default_factory=list)  # *.tmp of interrupted saves
    damaged: list[int] = field(default_factory=list)  # rows whose JSON is bad

    @property
    def clean(self) -> bool:
        return not (self.missing or self.orphans or self.shared or self.leftovers or self.damaged)

    def lines(self) -> list[str]:
        out = [f"missing file for image {i}" for i in self.missing]
        out += [f"not in history: {p}" for p in self.orphans]
        out += [f"images {', '.join(map(str, ids))} share one file: {path}" for path, ids in self.shared.items()]
        out += [f"leftover temporary file: {p}" for p in self.leftovers]
        out += [f"image {i} has damaged parameters (skipped in lists)" for i in self.damaged]
        return out

    def summary(self) -> str:
        return (f"{len(self.missing)} rows without their image, {len(self.orphans)} images without a row, "
                f"{len(self.shared)} files shared by several rows, {len(self.leftovers)} leftover temporary files, "
                f"{len(self.damaged)} damaged rows (nothing was deleted)")


def check_history(store: HistoryStore, images_dir: Path, thumbnails_dir: Path | None = None) -> CheckReport:
    report = CheckReport()
    report.missing, report.orphans = store.reconcile(images_dir)
    with store._reading() as conn:
        shared = conn.execute("SELECT path, group_concat(id) FROM images GROUP BY path HAVING count(*) > 1").fetchall()
        rows = conn.execute(f"SELECT {COLUMNS} FROM images").fetchall()
    report.shared = {path: sorted(int(i) for i in ids.split(",")) for path, ids in shared}
    store._records(rows)
    report.damaged = list(store.last_skipped)
    for folder in (images_dir, thumbnails_dir):
        if folder is not None and Path(folder).is_dir():
            report.leftovers += sorted(Path(folder).rglob(".*.tmp"))
    return report
