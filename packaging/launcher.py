"""Entry point of the frozen app (PyInstaller): the same as `python -m zimage_desktop`."""

import multiprocessing
import sys

from zimage_desktop.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
