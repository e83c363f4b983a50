"""Fixtures of the installed-package test: conn and guest_files (and the exit status 77 when
something was skipped) come from tests/lib/skplugin.py; the rest is test_package.py's own."""

pytest_plugins = ["skplugin"]
