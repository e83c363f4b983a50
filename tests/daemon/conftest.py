"""Fixtures for the daemon tests: per module a private dbus-daemon and slotkeeperd on it,
talking to the real libvirt (qemu:///system). Run by meson with Debian's /usr/bin/python3."""

import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import skdaemon  # noqa: E402


@pytest.fixture(scope="module")
def conn():
    c = skdaemon.open_libvirt()
    yield c
    c.close()


@pytest.fixture(scope="module")
def domains(conn):
    d = skdaemon.Domains(conn)
    d.remove_stale()
    yield d
    d.cleanup()


@pytest.fixture(scope="module")
def workdir():
    path = tempfile.mkdtemp(prefix="skdt-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def bus():
    b = skdaemon.PrivateBus()
    yield b
    b.close()


@pytest.fixture(scope="module")
def service(bus, workdir, conn):
    """The service, started; tests may restart() it. Stopped (and checked to exit 0) after
    the module."""
    s = skdaemon.Service(bus, workdir)
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(bus, service):
    c = skdaemon.Client(bus)
    yield c
    c.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, show the logs of the services started so far in this module."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for path in skdaemon.LOGS[-3:]:
            try:
                with open(path, errors="replace") as f:
                    text = f.read()[-15000:]
            except OSError:
                continue
            rep.sections.append((f"slotkeeperd log {os.path.basename(path)}", text))


# meson counts exit status 77 as "skipped": use it when something was skipped (outside CI)
# and nothing failed, so a partly skipped run does not show as a pass.
_skipped = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if exitstatus == 0 and _skipped:
        session.exitstatus = 77
