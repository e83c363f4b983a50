"""Fixtures of the daemon tests: per module a private dbus-daemon and slotkeeperd on it, talking
to the real libvirt (qemu:///system). The shared fixtures (conn, workdir, guest_files) and hooks
(the service's log on failure, exit status 77 when something was skipped) come from
tests/lib/skplugin.py."""

import pytest

import skclient
import skdaemon
import sklibvirt

pytest_plugins = ["skplugin"]


@pytest.fixture(scope="module")
def domains(conn):
    """The domains the module defines (skdt-<pid>-...), removed afterwards."""
    yield from sklibvirt.domains_for_fixture(conn, skdaemon.STEM)


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


@pytest.fixture(scope="module")
def cli(bus, service):
    """`slotkeeper --user ...` against the module's service: run(*args, status=None)."""
    return skclient.cli_runner(bus)
