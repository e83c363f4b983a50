"""Private dbus-daemons and their configurations.

Each test module (and each benchmark) gets a dbus-daemon of its own, so the service under test
never meets the host's buses and concurrent runs never meet each other. The configurations are
built here from one head and a few policies: a permissive session bus, a session bus anyone may
connect to, and one that plays the system bus (Debian's system.conf default policy, to which a
caller adds the policy files under test).
"""

import os
import shutil
import subprocess
import tempfile

import pytest

from sknames import BUS_NAME
from skproc import stop_process
from skrequire import unavailable


def gio():
    """(Gio, GLib), or skip/fail saying python3-gi is missing."""
    try:
        import gi

        gi.require_version("Gio", "2.0")
        from gi.repository import Gio, GLib
    except (ImportError, ValueError) as e:
        unavailable(f"python3-gi with Gio is not importable ({e})")
    return Gio, GLib


def bus_config(bus_type, listen, *parts):
    """A busconfig template: PrivateBus fills in {dir} (in @listen) and the caller's other
    {placeholders} (in @parts, policies and includes)."""
    body = "\n".join("  " + p for p in parts)
    return f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>{bus_type}</type>
  <listen>{listen}</listen>
  <auth>EXTERNAL</auth>
{body}
</busconfig>
"""


def open_policy(any_user=False):
    """Everyone connected may own and call anything, and eavesdrop; @any_user: any uid may
    connect (by default only the bus's own uid)."""
    user = '\n    <allow user="*"/>' if any_user else ""
    return f"""<policy context="default">{user}
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>"""


# The default: a session bus for one test module, where the service may do anything.
BUS_CONFIG = bus_config("session", "unix:dir={dir}", open_policy())

# A session-like bus that anyone may connect to: the owner-uid check of a session service,
# without polkit.
OPEN_SESSION_CONFIG = bus_config("session", "unix:path={dir}/session_bus_socket",
                                 open_policy(any_user=True))

# The system bus's own default policy (Debian's /usr/share/dbus-1/system.conf): nobody owns
# anything and method calls are denied unless a policy file grants them.
SYSTEM_DEFAULT_POLICY = """<policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>"""


def system_bus_config(*parts):
    """A bus that plays the system bus: its default policy, then @parts (the policies under
    test, e.g. an <include> of the shipped org.slotkeeper.SlotKeeper1.conf)."""
    return bus_config("system", "unix:path={dir}/system_bus_socket", SYSTEM_DEFAULT_POLICY,
                      *parts)


class PrivateBus:
    """A dbus-daemon of its own, in a temporary directory, for one test module."""

    def __init__(self, config=BUS_CONFIG, prefix="sk-bus-", **fmt):
        """@config: a busconfig template; {dir} is the bus's directory, @fmt the rest."""
        if not shutil.which("dbus-daemon"):
            unavailable("dbus-daemon is not installed (apt-get install dbus-daemon)")
        self.dir = tempfile.mkdtemp(prefix=prefix)
        conf = os.path.join(self.dir, "bus.conf")
        with open(conf, "w") as f:
            f.write(config.format(dir=self.dir, **fmt))
        self.log_path = os.path.join(self.dir, "dbus-daemon.log")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                ["dbus-daemon", "--config-file", conf, "--print-address=1", "--nofork"],
                stdout=subprocess.PIPE, stderr=log, text=True)
        # --print-address writes one line as soon as the bus listens (or nothing if it fails).
        self.address = self.proc.stdout.readline().strip()
        if not self.address:
            self.proc.wait(5)
            with open(self.log_path, errors="replace") as f:
                pytest.fail(f"dbus-daemon printed no address: {f.read()}", pytrace=False)
        self._conn = None

    def connection(self):
        """A client connection (shared by the tests of the module)."""
        if self._conn is None:
            Gio, _ = gio()
            flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
                     | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
            self._conn = Gio.DBusConnection.new_for_address_sync(self.address, flags, None,
                                                                 None)
        return self._conn

    def has_owner(self, name=BUS_NAME):
        _, GLib = gio()
        res = self.connection().call_sync(
            "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
            "NameHasOwner", GLib.Variant("(s)", (name,)), None, 0, 5000, None)
        return res.unpack()[0]

    def close(self):
        if self._conn is not None:
            try:
                self._conn.close_sync(None)
            except Exception:
                pass
            self._conn = None
        stop_process(self.proc, 5)
        shutil.rmtree(self.dir, ignore_errors=True)
