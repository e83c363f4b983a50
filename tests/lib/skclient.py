"""A small D-Bus client of slotkeeperd (Gio, synchronous): calls that raise DBusFailure with
the error's name, option dictionaries, and every signal the service emits, recorded."""

import os
import subprocess
import time

import pytest

from skbus import gio
from sknames import (BUS_NAME, DOMAIN_IFACE, ERROR_PREFIX, MANAGER_IFACE, MANAGER_PATH,
                     OBJECT_MANAGER_IFACE, PROPERTIES_IFACE)
from sklibvirt import SETTLE_TIMEOUT
from skrequire import unavailable

# The Domain object's properties and their D-Bus types (docs/dbus-api.md).
DOMAIN_PROPERTIES = {
    "Name": "s", "UUID": "s", "State": "s", "Arch": "s", "Machine": "s", "Persistent": "b",
    "Active": "b", "Id": "i",
    "Managed": "b", "SparePorts": "u", "SparePortsWanted": "u", "LegacyBridge": "s", "FreeHotplugSlots": "a{su}",
    "FreeHotplugSlotsNextBoot": "a{su}", "LegacyChain": "s", "RestartPending": "b",
}


class DBusFailure(Exception):
    """A D-Bus error reply: .name (the error name) and .message."""

    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def opts(**kw):
    """An a{sv} from keyword arguments; hotplug_require -> 'hotplug-require'. Values that are
    already GLib.Variant are kept as they are (to send wrong types on purpose)."""
    _, GLib = gio()
    out = {}
    for key, value in kw.items():
        key = key.replace("_", "-")
        if isinstance(value, GLib.Variant):
            out[key] = value
        elif isinstance(value, bool):
            out[key] = GLib.Variant("b", value)
        elif isinstance(value, int):
            out[key] = GLib.Variant("u", value)
        else:
            out[key] = GLib.Variant("s", value)
    return out


class Client:
    """Calls the service on the private bus and records every signal it emits."""

    def __init__(self, bus):
        self.bus = bus
        self.conn = bus.connection()
        self.signals = []
        Gio, _ = gio()
        self._sub = self.conn.signal_subscribe(
            BUS_NAME, None, None, None, None, Gio.DBusSignalFlags.NONE, self._on_signal)

    def _on_signal(self, conn, sender, path, iface, name, params):
        self.signals.append((path, iface, name, params.unpack()))

    def close(self):
        self.conn.signal_unsubscribe(self._sub)

    def pump(self, seconds=0.0):
        """Dispatches pending signals for up to @seconds."""
        _, GLib = gio()
        ctx = GLib.MainContext.default()
        deadline = time.monotonic() + seconds
        while True:
            while ctx.pending():
                ctx.iteration(False)
            if time.monotonic() >= deadline:
                return
            time.sleep(0.05)

    def call(self, path, iface, method, signature, args, reply=None, timeout=120):
        Gio, GLib = gio()
        params = GLib.Variant(signature, tuple(args)) if signature else None
        rtype = GLib.VariantType.new(reply) if reply else None
        try:
            res = self.conn.call_sync(BUS_NAME, path, iface, method, params, rtype,
                                      Gio.DBusCallFlags.NONE, timeout * 1000, None)
        except GLib.Error as e:
            name = Gio.DBusError.get_remote_error(e)
            if name is None:
                raise
            message = e.message
            prefix = f"GDBus.Error:{name}: "
            if message.startswith(prefix):
                message = message[len(prefix):]
            raise DBusFailure(name, message) from None
        finally:
            self.pump()
        return res.unpack() if res is not None else None

    def manager(self, method, signature, *args, reply=None, timeout=120):
        return self.call(MANAGER_PATH, MANAGER_IFACE, method, signature, args, reply, timeout)

    def domain(self, path, method, signature, *args, reply=None, timeout=120):
        return self.call(path, DOMAIN_IFACE, method, signature, args, reply, timeout)

    def managed_objects(self):
        return self.call(MANAGER_PATH, OBJECT_MANAGER_IFACE, "GetManagedObjects", None, (),
                         "(a{oa{sa{sv}}})")[0]

    def properties(self, path, iface=DOMAIN_IFACE):
        return self.call(path, PROPERTIES_IFACE, "GetAll", "(s)", (iface,), "(a{sv})")[0]

    def get_domain(self, name):
        return self.manager("GetDomain", "(s)", name, reply="(o)")[0]

    def attach(self, name, xml, **options):
        return tuple(self.manager("AttachDevice", "(ssa{sv})", name, xml, opts(**options),
                                  reply="(ss)"))

    def detach(self, name, xml, **options):
        self.manager("DetachDevice", "(ssa{sv})", name, xml, opts(**options))

    def reconcile(self, name=""):
        self.manager("Reconcile", "(sa{sv})", name, {})

    def set_policy(self, name, **policy):
        self.manager("SetPolicy", "(sa{sv}a{sv})", name, opts(**policy), {})

    def expect_error(self, name, fn, *args, **kw):
        """Calls fn; it must fail with org.slotkeeper.SlotKeeper1.Error.@name."""
        try:
            fn(*args, **kw)
        except DBusFailure as e:
            assert e.name == ERROR_PREFIX + name, f"expected {name}, got {e.name}: {e.message}"
            assert e.message.strip(), f"{e.name} without a message"
            return e
        pytest.fail(f"the call succeeded; expected {ERROR_PREFIX}{name}", pytrace=False)

    def wait_property(self, path, prop, predicate, timeout=SETTLE_TIMEOUT):
        """Polls property @prop of a domain object until @predicate(value) holds."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            try:
                value = self.properties(path).get(prop)
            except DBusFailure:
                value = None
            if value is not None and predicate(value):
                return value
            self.pump(0.3)
        pytest.fail(f"{path} {prop} stayed {value!r} for {timeout}s", pytrace=False)


def cli_runner(bus):
    """The built CLI (SLOTKEEPER) as `slotkeeper --user ...` against the service on @bus:
    run(*args, status=None) gives the CompletedProcess; with @status, asserts the exit status."""
    path = os.environ.get("SLOTKEEPER")
    if not path or not os.access(path, os.X_OK):
        unavailable("SLOTKEEPER is not set to the built CLI")
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=bus.address)

    def run(*args, status=None):
        proc = subprocess.run([path, "--user", *args], capture_output=True, text=True, env=env,
                              timeout=120)
        if status is not None:
            assert proc.returncode == status, f"{args}: exit {proc.returncode}: {proc.stderr}"
        return proc

    return run
