"""Helpers of the fault tests (tests/daemon/test_faults.py, test_hung.py, test_polkitd_hung.py):
D-Bus calls whose replies are collected later, the Manager's properties, libvirtd's process and
stopping a process for the length of a block."""

import contextlib
import os
import signal
import subprocess
import time

import pytest

from skbus import gio
from skclient import DBusFailure
from sknames import BUS_NAME, MANAGER_IFACE, MANAGER_PATH

PROMPT = 2.0  # seconds: what "at once" means for an answer on a busy 2-core machine


def manager_props(client):
    return client.properties(MANAGER_PATH, MANAGER_IFACE)


def wait_connected(client, value, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if manager_props(client)["Connected"] is value:
            return
        client.pump(0.1)
    pytest.fail(f"Manager.Connected did not become {value} within {timeout}s", pytrace=False)


class AsyncCall:
    """A D-Bus call whose reply is collected later."""

    def __init__(self, client, path, iface, method, signature, args):
        Gio, GLib = gio()
        self.client = client
        self.started = time.monotonic()
        self.reply = None  # ("ok", value) or ("error", name, message)
        self.elapsed = None
        client.conn.call(BUS_NAME, path, iface, method, GLib.Variant(signature, tuple(args)), None,
                         Gio.DBusCallFlags.NONE, 180000, None, self._done)

    def _done(self, conn, res):
        Gio, GLib = gio()
        self.elapsed = time.monotonic() - self.started
        try:
            self.reply = ("ok", conn.call_finish(res).unpack())
        except GLib.Error as e:
            name = Gio.DBusError.get_remote_error(e)
            self.reply = ("error", name, e.message)

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while self.reply is None and time.monotonic() < deadline:
            self.client.pump(0.05)
        assert self.reply is not None, f"no reply within {timeout}s"
        return self.reply


def manager_call(client, method, signature, *args):
    return AsyncCall(client, MANAGER_PATH, MANAGER_IFACE, method, signature, args)


def timed(fn, *args, **kw):
    """(seconds, result or DBusFailure) of fn()."""
    started = time.monotonic()
    try:
        result = fn(*args, **kw)
    except DBusFailure as e:
        result = e
    return time.monotonic() - started, result


def libvirtd_pids():
    """The running libvirtd processes (a plain process here, not a systemd socket unit)."""
    out = subprocess.run(["pgrep", "-x", "libvirtd"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class _Terminated(Exception):
    pass


def _raise_terminated(signum, frame):
    raise _Terminated(f"signal {signum}")


@contextlib.contextmanager
def stopped(pid):
    """@pid is SIGSTOPped inside the block and SIGCONTinued whatever happens, also when meson's
    timeout sends SIGTERM: a process left stopped would hang everybody else on the host."""
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    os.kill(pid, signal.SIGSTOP)
    try:
        yield time.monotonic()
    finally:
        os.kill(pid, signal.SIGCONT)
        signal.signal(signal.SIGTERM, old)
