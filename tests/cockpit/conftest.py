"""pytest hooks of the Cockpit page test: those of the daemon tests (the service's log on
failure; exit status 77, meson's "skipped", when something was skipped outside CI), and the
step timings and notes of test_page.py at the end."""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import skcockpit  # noqa: E402  (puts tests/daemon and tests/integration on sys.path)

# tests/daemon/conftest.py is a conftest too, so it cannot be imported by its name from here.
_spec = importlib.util.spec_from_file_location(
    "sk_daemon_conftest", os.path.join(skcockpit.SOURCE_ROOT, "tests", "daemon", "conftest.py"))
_daemon = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_daemon)
pytest_runtest_makereport = _daemon.pytest_runtest_makereport
pytest_runtest_logreport = _daemon.pytest_runtest_logreport
pytest_sessionfinish = _daemon.pytest_sessionfinish


def pytest_terminal_summary(terminalreporter):
    module = sys.modules.get("test_page")
    timings = getattr(module, "TIMINGS", None)
    if timings:
        terminalreporter.section("step timings")
        for name, seconds in timings.items():
            terminalreporter.write_line(f"{seconds:7.1f} s  {name}")
    for note in getattr(module, "NOTES", []):
        terminalreporter.write_line(note)
