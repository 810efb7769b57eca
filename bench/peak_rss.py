"""Run a command and print its peak resident memory (``PEAK_RSS_GIB x``) after its output.

A process of its own per measured command, so ru_maxrss of the children is that command's alone
(bench/peer_sdcpp.py wraps each engine's run in it). Usage: python bench/peak_rss.py CMD [ARGS…]
"""

from __future__ import annotations

import resource
import subprocess
import sys

if __name__ == "__main__":
    code = subprocess.call(sys.argv[1:])
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(f"PEAK_RSS_GIB {peak_kib / 1024**2:.2f}", flush=True)
    sys.exit(code)
