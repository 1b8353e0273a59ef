"""The window's controllers: each owns one part of the window and declares its commands.

They never import each other (an import-linter contract holds it): they meet on the
bus (``gui/bus.py``) and through the shell's :class:`~codenook.gui.host.Host`.
"""
