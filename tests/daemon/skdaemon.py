"""Helpers for the daemon tests: a private dbus-daemon, slotkeeperd started on it, a small
D-Bus client (Gio) and test domains named skdt-<pid>-... on the real libvirt.

What the tests check is read from libvirt (the domain XML it returns), never only from the
service's own answers.
"""

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import pytest

# The PCI-address helpers of the integration tests (Topology, address_map, ...).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import sktest  # noqa: E402
from sktest import Topology, address_map, unavailable  # noqa: E402

URI = os.environ.get("SK_LIBVIRT_URI", "qemu:///system")
BUS_NAME = "org.slotkeeper.SlotKeeper1"
MANAGER_PATH = "/org/slotkeeper/SlotKeeper1"
MANAGER_IFACE = "org.slotkeeper.SlotKeeper1.Manager"
DOMAIN_IFACE = "org.slotkeeper.SlotKeeper1.Domain"
ERROR_PREFIX = "org.slotkeeper.SlotKeeper1.Error."
OBJECT_MANAGER_IFACE = "org.freedesktop.DBus.ObjectManager"
PROPERTIES_IFACE = "org.freedesktop.DBus.Properties"
METADATA_NS = "https://slotkeeper.org/xmlns/domain/1"

STEM = "skdt-"
PREFIX = f"{STEM}{os.getpid()}-"
SPARE_PORTS = 4
START_TIMEOUT = 30  # name owned after start (libvirt connect + first listing)
SETTLE_TIMEOUT = 60  # the service reacting to something (reconcile, event)
STOP_TIMEOUT = 10

DOMAIN_PROPERTIES = {
    "Name": "s", "UUID": "s", "State": "s", "Arch": "s", "Machine": "s", "Persistent": "b",
    "Active": "b",
    "Managed": "b", "SparePorts": "u", "LegacyBridge": "s", "FreeHotplugSlots": "a{su}",
    "FreeHotplugSlotsNextBoot": "a{su}", "LegacyChain": "s", "RestartPending": "b",
}


def gio():
    try:
        import gi

        gi.require_version("Gio", "2.0")
        from gi.repository import Gio, GLib
    except (ImportError, ValueError) as e:
        unavailable(f"python3-gi with Gio is not importable ({e})")
    return Gio, GLib


def domain_path(uuid):
    return f"{MANAGER_PATH}/domain/_" + uuid.replace("-", "_")


# ---- the private bus ----------------------------------------------------------------------

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class PrivateBus:
    """A dbus-daemon of its own, in a temporary directory, for one test module."""

    def __init__(self, config=BUS_CONFIG, **fmt):
        """@config: a busconfig template; {dir} is the bus's directory, @fmt the rest."""
        if not shutil.which("dbus-daemon"):
            unavailable("dbus-daemon is not installed (apt-get install dbus-daemon)")
        self.dir = tempfile.mkdtemp(prefix="skdt-bus-")
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
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---- the service --------------------------------------------------------------------------

# The tests share qemu:///system with whatever else runs on the host, so by default the service
# manages only the domains that opt in through their <metadata> (the test domains do);
# SK_DAEMON_MANAGE_ALL=1 runs it with the shipped default (every persistent domain).
ISOLATED = os.environ.get("SK_DAEMON_MANAGE_ALL", "") not in ("1", "yes", "true")
ISOLATED_CONFIG = """[policy]
manage=false
"""

# Every service started by a test, so a failing test can show their logs.
LOGS = []


def daemon_path():
    path = os.environ.get("SLOTKEEPERD")
    if not path:
        unavailable("SLOTKEEPERD is not set (run the tests with 'meson test')")
    if not os.access(path, os.X_OK):
        unavailable(f"SLOTKEEPERD={path} is not an executable (build it first)")
    return path


class Service:
    """slotkeeperd on a private bus: start(), stop() (asserting a clean exit), restart()."""

    def __init__(self, bus, workdir):
        self.path = daemon_path()
        self.bus = bus
        self.workdir = workdir
        self.proc = None
        self.log_path = None
        self.runs = 0
        self.extra_args = []  # more slotkeeperd options, e.g. ["--polkit"]
        self.env = {}  # more environment, e.g. {"NOTIFY_SOCKET": path}
        # A command the service runs under, e.g. SK_DAEMON_WRAPPER="valgrind --leak-check=full"
        # (slower: the timeouts grow with it).
        self.wrapper = shlex.split(os.environ.get("SK_DAEMON_WRAPPER", ""))
        self.start_timeout = START_TIMEOUT * (6 if self.wrapper else 1)
        self.stop_timeout = STOP_TIMEOUT * (6 if self.wrapper else 1)
        self.config = os.path.join(workdir, "slotkeeper.conf")
        with open(self.config, "w") as f:
            f.write(ISOLATED_CONFIG if ISOLATED else "")

    def start(self):
        assert self.proc is None, "the service is already running"
        self.runs += 1
        self.log_path = os.path.join(self.workdir, f"slotkeeperd-{self.runs}.log")
        LOGS.append(self.log_path)
        log = open(self.log_path, "w")
        env = dict(os.environ, G_MESSAGES_DEBUG="all")
        env.pop("NOTIFY_SOCKET", None)
        env.update(self.env)
        cmd = self.wrapper + [self.path, "--bus-address", self.bus.address, "--connect", URI,
                              "--config", self.config, "--verbose"] + self.extra_args
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                pytest.fail(f"slotkeeperd exited {rc} before owning {BUS_NAME}:\n"
                            f"{self.log()}", pytrace=False)
            if self.bus.has_owner():
                return
            time.sleep(0.1)
        pytest.fail(f"slotkeeperd did not own {BUS_NAME} within {self.start_timeout}s:\n"
                    f"{self.log()}", pytrace=False)

    def stop(self, check=True):
        """SIGTERM; the service must exit 0 within STOP_TIMEOUT seconds."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            if check:
                pytest.fail(f"slotkeeperd did not exit within {self.stop_timeout}s of SIGTERM:\n"
                            f"{self.log()}", pytrace=False)
            return
        if check:
            assert rc == 0, f"slotkeeperd exited {rc} on SIGTERM:\n{self.log()}"

    def restart(self):
        self.stop()
        self.start()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        if not self.log_path:
            return ""
        with open(self.log_path, errors="replace") as f:
            return f.read()[-20000:]


# ---- a D-Bus client -----------------------------------------------------------------------


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


# ---- libvirt and test domains -------------------------------------------------------------


def open_libvirt():
    try:
        import libvirt
    except ImportError as e:
        unavailable(f"python3-libvirt is not importable ({e})")
    libvirt.registerErrorHandler(lambda *args: None, None)
    try:
        return libvirt.open(URI)
    except libvirt.libvirtError as e:
        unavailable(f"cannot connect to {URI} ({e}); start libvirtd")


def metadata(**attrs):
    """slotkeeper's <metadata> element opting a test domain in (see ISOLATED)."""
    if not ISOLATED and not attrs:
        return ""
    if ISOLATED:
        attrs.setdefault("managed", "yes")
    text = " ".join(f"{k}='{v}'" for k, v in attrs.items())
    return f"<metadata><slotkeeper:policy xmlns:slotkeeper='{METADATA_NS}' {text}/></metadata>"


def q35_xml(name, extra_devices="", policy=None, uuid=None):
    """A q35 TCG guest with no spare slots and nothing to boot (it runs SeaBIOS forever)."""
    uuid_elem = f"<uuid>{uuid}</uuid>" if uuid else ""
    return f"""<domain type='qemu'>
  <name>{name}</name>
  {uuid_elem}
  {metadata(**(policy or {}))}
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <features><acpi/></features>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
    {extra_devices}
  </devices>
</domain>"""


def nic(model, mac):
    return sktest.nic(model, mac)


class Domains:
    """Defines test domains (skdt-<pid>-...) and destroys + undefines them afterwards."""

    def __init__(self, conn):
        self.conn = conn
        self.names = set()

    def define(self, xml):
        import libvirt

        name = ET.fromstring(xml).findtext("name")
        assert name.startswith(PREFIX), name
        self.names.add(name)
        try:
            return self.conn.defineXML(xml)
        except libvirt.libvirtError as e:
            pytest.fail(f"libvirt rejected {name}: {e}\n{xml}", pytrace=False)

    def new_q35(self, suffix, **kw):
        return self.define(q35_xml(PREFIX + suffix, **kw))

    def remove(self, name):
        import libvirt

        try:
            dom = self.conn.lookupByName(name)
        except libvirt.libvirtError:
            return
        for fn in (dom.destroy, lambda: dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)):
            try:
                fn()
            except libvirt.libvirtError:
                pass

    def remove_stale(self):
        for dom in self.conn.listAllDomains():
            m = re.match(re.escape(STEM) + r"(\d+)-", dom.name())
            if m and not os.path.exists(f"/proc/{m.group(1)}"):
                self.remove(dom.name())

    def cleanup(self):
        for name in sorted(self.names):
            self.remove(name)
        self.names.clear()


def inactive_xml(dom):
    import libvirt

    return dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)


def live_xml(dom):
    return dom.XMLDesc(0)


def wait_xml(dom, predicate, what, timeout=SETTLE_TIMEOUT, live=False):
    """Polls libvirt's XML of @dom until @predicate(xml) holds; returns that XML."""
    deadline = time.monotonic() + timeout
    xml = None
    while time.monotonic() < deadline:
        xml = live_xml(dom) if live else inactive_xml(dom)
        if predicate(xml):
            return xml
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout}s waiting for {what}; last XML:\n{xml}",
                pytrace=False)


def free_ports(xml):
    return Topology(xml).free_ports()


def device_address(xml, mac):
    return address_map(xml).get(("interface", mac.lower()))


def models(xml):
    return [c.get("model") for c in ET.fromstring(xml).findall("devices/controller[@type='pci']")]


def fmt_addr(addr):
    return sktest.fmt_addr(addr)


def parse_addr(text):
    return sktest.parse_addr_string(text)


def wait_stable(dom, seconds=3.0, timeout=SETTLE_TIMEOUT):
    """Waits until the persistent XML stops changing for @seconds; returns it."""
    deadline = time.monotonic() + timeout
    last = inactive_xml(dom)
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        cur = inactive_xml(dom)
        if cur != last:
            last, since = cur, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return cur
    pytest.fail(f"the persistent XML kept changing for {timeout}s", pytrace=False)
