"""Z-Image Desktop: Z-Image-Turbo for ordinary graphics cards."""

__version__ = "0.1.0"
APP_NAME = "zimage-desktop"
