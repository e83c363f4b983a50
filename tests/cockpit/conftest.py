"""Fixtures and hooks of the Cockpit page test: the libvirt suites' plugin (tests/lib/skplugin.py:
conn, workdir, guest_files, the service's log on failure, exit status 77 when something was
skipped outside CI), and the step timings and notes of test_page.py at the end."""

import sys

pytest_plugins = ["skplugin"]


def pytest_terminal_summary(terminalreporter):
    module = sys.modules.get("test_page")
    timings = getattr(module, "TIMINGS", None)
    if timings:
        terminalreporter.section("step timings")
        for name, seconds in timings.items():
            terminalreporter.write_line(f"{seconds:7.1f} s  {name}")
    for note in getattr(module, "NOTES", []):
        terminalreporter.write_line(note)
