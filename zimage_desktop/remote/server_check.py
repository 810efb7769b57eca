"""One server's "Test": version, device and VRAM, queue, its model files, and the files a job would use
there. Shared by the Engines page's Test button and ``zimage-desktop info --engines`` (it lived in the CLI,
which made the window import the command line: a ui ⇄ cli package circle, tests/test_import_cycles.py)."""

from __future__ import annotations

from ..errors import UserFacingError
from . import engines as engine_list
from .client import ComfyClient, ServerReport
from .engine import choose_files


def test_server(entry: engine_list.ServerEntry) -> tuple[ServerReport, dict[str, str], str]:
    """(report, the files a job would use there, why none could be chosen)."""
    try:
        config = engine_list.server_config(entry, timeout_s=10.0)
    except UserFacingError as exc:
        return ServerReport(entry.name, entry.url, error=exc.message), {}, ""
    report = ComfyClient(config).report()
    if report.error:
        return report, {}, ""
    try:
        return report, choose_files(entry.name, report.files, {}), ""
    except UserFacingError as exc:
        return report, {}, exc.message
