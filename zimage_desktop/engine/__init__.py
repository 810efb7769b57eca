"""The generation engine: torch + diffusers, no Qt.

Import the submodules directly; this package deliberately imports nothing heavy so that
``zimage_desktop.engine.request`` stays cheap for the UI.
"""
