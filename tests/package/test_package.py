"""The Debian package as an administrator meets it: lintian-clean, installed with apt-get,
started by D-Bus activation through its installed activation file on a system bus that reads
its installed policy, driving the real libvirtd (slotkeeper list, one hotplug the booted test
guest sees), reinstalled and upgraded without losing a changed configuration, stopped on
removal and leaving nothing behind when purged.

Run by tests/package/run.sh, as root. The tests run in file order and the lifecycle ones build
on each other: with SK_DEB_DIR (the directory of the built .changes and .debs) every test
runs and the package is installed and purged here; without it (autopkgtest, run.sh
--installed) only the test_smoke_* ones run, on the package the testbed has installed.

The system bus: where systemd runs the host's own system bus, the tests use it (activation
then goes through slotkeeperd.service). Otherwise run.sh starts pytest in a private mount
namespace (SK_PACKAGE_HOST_MNT_NS names the one it left) and the tests start Debian's system
bus there, unchanged (dbus-daemon --system: /usr/share/dbus-1/system.conf, its system.d
directories, the standard system service directories and the setuid launch helper, which is
how a host without systemd activates system services), on a tmpfs over /run/dbus that
nothing outside the namespace sees.

The service runs with the installed configuration, changed as an administrator would to
manage=false, so that it leaves alone every domain on the host but the test guest, which
opts in through its metadata.
"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import skguest
import sklibvirt
import skoptin
import skpci
import skxml
from skbus import gio
from sknames import BUS_NAME, MANAGER_IFACE, MANAGER_PATH, PROPERTIES_IFACE
from skproc import stop_process
from skrequire import unavailable
from skservice import settled

PACKAGE = "slotkeeper"
COCKPIT_PACKAGE = "cockpit-slotkeeper"
COCKPIT_DIR = "/usr/share/cockpit/slotkeeper"
DEB_DIR = os.environ.get("SK_DEB_DIR")
CONFIG = "/etc/slotkeeper/slotkeeper.conf"
DAEMON = "/usr/sbin/slotkeeperd"
CLI = "/usr/bin/slotkeeper"
POLKIT_NAME = "org.freedesktop.PolicyKit1"
ACTIVATION_TIMEOUT = 60
STOP_TIMEOUT = 30
# What the package installs (dpkg -L, directories left out).
FILES = {
    "/etc/slotkeeper/slotkeeper.conf",
    "/lib/systemd/system/slotkeeperd.service",
    "/usr/bin/slotkeeper",
    "/usr/lib/systemd/user/slotkeeperd.service",
    "/usr/sbin/slotkeeperd",
    "/usr/share/dbus-1/interfaces/org.slotkeeper.SlotKeeper1.xml",
    "/usr/share/dbus-1/services/org.slotkeeper.SlotKeeper1.service",
    "/usr/share/dbus-1/system-services/org.slotkeeper.SlotKeeper1.service",
    "/usr/share/dbus-1/system.d/org.slotkeeper.SlotKeeper1.conf",
    "/usr/share/doc/slotkeeper/changelog.gz",
    "/usr/share/doc/slotkeeper/copyright",
    "/usr/share/doc/slotkeeper/README.Debian",
    "/usr/share/man/man1/slotkeeper.1.gz",
    "/usr/share/man/man8/slotkeeperd.8.gz",
    "/usr/share/polkit-1/actions/org.slotkeeper.SlotKeeper1.policy",
}
# Where installing, using and purging the package may leave a trace.
SCANNED = ["/etc", "/usr", "/var/lib/systemd"]


def run(argv, timeout=120, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)


def apt_get(*args):
    """apt-get as an administrator runs it, waiting for the dpkg lock others may hold."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    res = run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "-y", "-q", *args], timeout=900,
              env=env)
    assert res.returncode == 0, f"apt-get {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}"
    return res


def package_status():
    """(dpkg status, version), or (None, None) when dpkg knows nothing of the package."""
    res = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}|${Version}", PACKAGE])
    if res.returncode != 0:
        return None, None
    status, _, version = res.stdout.partition("|")
    return status.strip(), version


def read(path):
    with open(path) as f:
        return f.read()


def scan():
    """Every path under SCANNED (files, directories, symlinks)."""
    found = set()
    for top in SCANNED:
        for dirpath, dirnames, filenames in os.walk(top):
            found.add(dirpath)
            found.update(os.path.join(dirpath, n) for n in dirnames + filenames)
    return found


def owned(paths):
    """The subset of @paths that some installed package owns."""
    out = set()
    paths = sorted(paths)
    for i in range(0, len(paths), 200):
        res = run(["dpkg-query", "-S", *paths[i:i + 200]])
        for line in res.stdout.splitlines():
            _, _, path = line.partition(": ")
            out.add(path.strip())
    return out


def alive(pid):
    """True while @pid runs (a zombie waiting for its parent has stopped)."""
    try:
        stat = read(f"/proc/{pid}/stat")
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def exe(pid):
    """The program @pid runs, or None if it is gone (others' processes come and go)."""
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def wait_gone(pid, what, timeout=STOP_TIMEOUT):
    deadline = time.monotonic() + timeout
    while alive(pid):
        assert time.monotonic() < deadline, f"{what} (pid {pid}) still runs after {timeout}s"
        time.sleep(0.2)


def private_mount_namespace():
    """True in a mount namespace of our own (run.sh names the one it left)."""
    host = os.environ.get("SK_PACKAGE_HOST_MNT_NS")
    return bool(host) and os.readlink("/proc/self/ns/mnt") != host


# ---- the system bus --------------------------------------------------------------------------


class SystemBus:
    """The system bus at its standard address (/run/dbus/system_bus_socket): the host's, or
    Debian's system bus started here in a private mount namespace."""

    SOCKET = "/run/dbus/system_bus_socket"

    def __init__(self):
        self.proc = None
        self.log_path = None
        self.mounted = False
        self._conn = None
        os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)  # the default address, as installed
        if os.environ.get("SK_PACKAGE_HOST_MNT_NS"):
            self._start_private()
        elif not os.path.exists("/run/systemd/system") or not os.path.exists(self.SOCKET):
            unavailable("no system bus run by systemd here, and not started by "
                               "tests/package/run.sh (which starts one in a private mount "
                               "namespace)")

    def _start_private(self):
        if not private_mount_namespace():
            pytest.fail("SK_PACKAGE_HOST_MNT_NS is this very mount namespace: refusing to "
                        "mount over the host's /run/dbus", pytrace=False)
        os.makedirs("/run/dbus", exist_ok=True)
        res = run(["mount", "-t", "tmpfs", "-o", "mode=0755", "sk-package-bus", "/run/dbus"])
        assert res.returncode == 0, f"cannot mount a tmpfs on /run/dbus: {res.stderr}"
        self.mounted = True
        fd, self.log_path = tempfile.mkstemp(prefix="sk-package-bus-", suffix=".log")
        # --nosyslog: its messages (activations, denials) go to our log, not to a syslog that
        # may not exist. Everything else is Debian's system.conf.
        self.proc = subprocess.Popen(["dbus-daemon", "--system", "--nofork", "--nosyslog"],
                                     stdout=fd, stderr=fd)
        os.close(fd)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.SOCKET):
            assert self.proc.poll() is None, f"dbus-daemon --system exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"no system bus after 30s:\n{self.log()}"
            time.sleep(0.1)

    def log(self):
        return read(self.log_path) if self.log_path else ""

    def conn(self):
        if self._conn is None:
            Gio, _ = gio()
            self._conn = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
            self._conn.set_exit_on_close(False)
        return self._conn

    def call(self, dest, path, iface, method, args=None, timeout=ACTIVATION_TIMEOUT):
        """The unpacked reply of a method call (the bus starts @dest if it is activatable)."""
        return self.conn().call_sync(dest, path, iface, method, args, None, 0, timeout * 1000,
                                     None).unpack()

    def bus_call(self, method, *args):
        _, GLib = gio()
        sig = "(" + "s" * len(args) + ")"
        return self.call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                         "org.freedesktop.DBus", method, GLib.Variant(sig, args) if args else None)

    def owner_pid(self, name):
        """The pid of @name's owner, or None while nobody owns it."""
        if not self.bus_call("NameHasOwner", name)[0]:
            return None
        return self.bus_call("GetConnectionUnixProcessID", name)[0]

    def close(self):
        # The services this bus started outlive it otherwise: stopped by pid, asked of the bus.
        pids = []
        if self.proc is not None and self.proc.poll() is None:
            pids = [p for p in map(self.owner_pid, (BUS_NAME, POLKIT_NAME)) if p]
        if self._conn is not None:
            self._conn.close_sync(None)
            self._conn = None
        if self.proc is None:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in pids:
            try:
                wait_gone(pid, "a service started by the test's bus", timeout=10)
            except AssertionError:
                os.kill(pid, signal.SIGKILL)
        stop_process(self.proc)
        if self.mounted:
            run(["umount", "/run/dbus"])
        if self.log_path:
            os.unlink(self.log_path)


@pytest.fixture(scope="module")
def system_bus():
    bus = SystemBus()
    yield bus
    bus.close()


def service_pid(bus):
    """slotkeeperd's pid, starting it by a D-Bus call to its name if it is not running."""
    version = bus.call(BUS_NAME, MANAGER_PATH, PROPERTIES_IFACE, "Get",
                       _variant("(ss)", (MANAGER_IFACE, "Version")))[0]
    assert version, "slotkeeperd answered without a version"
    return bus.owner_pid(BUS_NAME)


def _variant(sig, value):
    _, GLib = gio()
    return GLib.Variant(sig, value)


# ---- the package ----------------------------------------------------------------------------


class Debs:
    def __init__(self, directory):
        self.dir = os.path.abspath(directory)
        changes = glob.glob(os.path.join(self.dir, f"{PACKAGE}_*.changes"))
        debs = glob.glob(os.path.join(self.dir, f"{PACKAGE}_*.deb"))
        assert len(changes) == 1 and len(debs) == 1, \
            f"expected one .changes and one {PACKAGE}_*.deb in {self.dir}: {changes} {debs}"
        self.changes, self.deb = changes[0], debs[0]
        _, self.version, self.arch = os.path.basename(self.deb)[:-4].split("_")
        pages = glob.glob(os.path.join(self.dir, f"{COCKPIT_PACKAGE}_{self.version}_all.deb"))
        assert len(pages) == 1, f"expected one {COCKPIT_PACKAGE} .deb in {self.dir}: {pages}"
        self.cockpit_deb = pages[0]

    def repacked(self, version):
        """The same package with another version, for an upgrade."""
        tree = tempfile.mkdtemp(prefix="sk-package-repack-")
        try:
            res = run(["dpkg-deb", "-R", self.deb, tree])
            assert res.returncode == 0, res.stderr
            control = os.path.join(tree, "DEBIAN", "control")
            text = re.sub(r"(?m)^Version: .*$", f"Version: {version}", read(control))
            with open(control, "w") as f:
                f.write(text)
            out = os.path.join(self.dir, f"{PACKAGE}_{version}_{self.arch}.deb")
            res = run(["dpkg-deb", "--root-owner-group", "--build", tree, out])
            assert res.returncode == 0, res.stderr
            return out
        finally:
            shutil.rmtree(tree, ignore_errors=True)


@pytest.fixture(scope="module")
def debs():
    if not DEB_DIR:
        unavailable("SK_DEB_DIR is not set: no built package to install")
    return Debs(DEB_DIR)


class Lifecycle:
    """The host before the lifecycle tests install the package: files at the package's paths
    that no package owns (a meson install, an interrupted test: dpkg would take them over and
    the purge would delete them) are moved aside until the end, then the host is scanned."""

    def __init__(self):
        self.stash = tempfile.mkdtemp(prefix="sk-package-stash-", dir="/var/tmp")
        self.stashed = sorted(p for p in FILES if os.path.lexists(p))
        for path in self.stashed:
            print(f"moving {path}, which no package owns, aside until the test ends")
            os.makedirs(self.stash + os.path.dirname(path), exist_ok=True)
            shutil.move(path, self.stash + path)
        self.before = scan()

    def restore(self):
        for path in self.stashed:
            if not os.path.lexists(path):
                shutil.move(self.stash + path, path)
        shutil.rmtree(self.stash, ignore_errors=True)


@pytest.fixture(scope="module")
def lifecycle(debs):
    status, version = package_status()
    assert status in (None, "un", "pn"), \
        f"{PACKAGE} {version} is already on this host ({status}): purge it first"
    state = Lifecycle()
    yield state
    try:
        # A failed step must not leave the package on a shared host.
        if package_status()[0] not in (None, "un", "pn"):
            apt_get("purge", PACKAGE)
    finally:
        state.restore()


@pytest.fixture(scope="module")
def installed():
    status, version = package_status()
    assert status == "ii", f"{PACKAGE} is not installed ({status})"
    return version


@pytest.fixture(scope="module")
def service_config(installed):
    """The installed configuration with manage=false, as an administrator edits it; the
    original text comes back afterwards if the package is still there."""
    original = read(CONFIG)
    changed = re.sub(r"(?m)^#?manage=.*$", "manage=false", original)
    assert changed != original, f"no manage= line in {CONFIG}"
    with open(CONFIG, "w") as f:
        f.write(changed)
    yield changed
    if os.path.exists(CONFIG) and read(CONFIG) == changed:
        with open(CONFIG, "w") as f:
            f.write(original)


class Guest:
    """The booting test guest (skguest), opted into the service's management by its metadata
    (the installed config says manage=false here)."""

    def __init__(self, domains, files):
        self.name = domains.prefix + "guest"
        self.serial = skguest.SerialLog(os.path.join(files, "guest.log"))
        self.dom = domains.define(skguest.guest_xml(self.name, files, self.serial.path,
                                                   metadata=skoptin.metadata(isolated=True)))

    def boot(self):
        self.dom.create()
        self.serial.wait(lambda block: block, skguest.BOOT_TIMEOUT, "the guest's PCI devices")


@pytest.fixture(scope="module")
def domains(conn):
    """The domains this module defines (skpkg-<pid>-...), stale ones of dead runs removed."""
    yield from sklibvirt.domains_for_fixture(conn, "skpkg-")


@pytest.fixture
def guest(conn, domains, guest_files):
    """The test guest, removed after the test so that its definition is gone before the purge
    test looks at /etc."""
    sklibvirt.require_emulator(conn, "x86_64", "q35")
    g = Guest(domains, guest_files)
    yield g
    domains.remove(g.name)


# ---- the tests, in order ---------------------------------------------------------------------


def test_lintian_clean(debs):
    """No error and no warning on the source and binary packages (informational tags are
    printed, not failed)."""
    res = run(["lintian", "--display-info", "--fail-on", "error,warning",
               debs.changes], timeout=600)
    print(res.stdout)
    tags = [line for line in res.stdout.splitlines() if re.match(r"^[EW]: ", line)]
    assert res.returncode == 0 and not tags, f"lintian:\n{res.stdout}\n{res.stderr}"


def test_install(lifecycle, debs):
    """apt-get installs the .deb: the expected files, the configuration as a conffile, and the
    service neither enabled nor started."""
    apt_get("install", debs.deb)
    assert package_status() == ("ii", debs.version)
    res = run(["dpkg", "-L", PACKAGE])
    files = {p for p in res.stdout.split("\n") if p and not os.path.isdir(p)}
    assert files == FILES, f"missing: {sorted(FILES - files)}, extra: {sorted(files - FILES)}"
    res = run(["dpkg-query", "-W", "-f=${Conffiles}", PACKAGE])
    assert [line.split()[0] for line in res.stdout.strip().splitlines()] == [CONFIG]
    for link in ("/etc/systemd/system/multi-user.target.wants/slotkeeperd.service",
                 "/etc/systemd/user/default.target.wants/slotkeeperd.service"):
        assert not os.path.lexists(link), f"{link}: the package enabled the unit"
    res = run(["pgrep", "-x", "-u", "0", "slotkeeperd"])
    running = [int(p) for p in res.stdout.split() if exe(p) == DAEMON]
    assert not running, f"installing started {DAEMON} (pids {running})"


def test_cockpit_page_package(installed, debs):
    """cockpit-slotkeeper installs the page where Cockpit looks for it (a manifest with the
    "Hotplug slots" entry, the page and its assets, nothing outside that folder but its docs),
    needs slotkeeper of the same version (binNMUs aside), and purging it leaves nothing behind."""
    apt_get("install", debs.cockpit_deb)
    res = run(["dpkg", "-L", COCKPIT_PACKAGE])
    files = {p for p in res.stdout.split("\n") if p and not os.path.isdir(p)}
    outside = {f for f in files
               if not f.startswith(COCKPIT_DIR + "/") and not f.startswith("/usr/share/doc/")}
    assert not outside, f"files outside {COCKPIT_DIR}: {sorted(outside)}"
    for name in ("manifest.json", "index.html"):
        assert os.path.join(COCKPIT_DIR, name) in files, f"no {name} in {sorted(files)}"
    manifest = json.loads(read(os.path.join(COCKPIT_DIR, "manifest.json")))
    labels = [m.get("label") for m in manifest.get("menu", {}).values()]
    assert "Hotplug slots" in labels, manifest
    depends = run(["dpkg-query", "-W", "-f=${Depends}", COCKPIT_PACKAGE]).stdout
    # the same version, binNMU-safe (an arch:all package on an arch:any one of the same source)
    assert f"{PACKAGE} (>= {debs.version})" in depends, depends
    assert f"{PACKAGE} (<< {debs.version}.1~)" in depends, depends
    apt_get("purge", COCKPIT_PACKAGE)
    left = sorted(f for f in files if os.path.lexists(f))
    assert not left and not os.path.exists(COCKPIT_DIR), f"left after purge: {left}"


def test_smoke_activation(installed, service_config, system_bus):
    """A method call to org.slotkeeper.SlotKeeper1 makes the bus start slotkeeperd from the
    installed activation file; it owns the name on the system bus, as root, and serves
    qemu:///system with the installed version."""
    bus = system_bus
    assert bus.owner_pid(BUS_NAME) is None, "slotkeeperd runs before anything asked for it"
    assert BUS_NAME in bus.bus_call("ListActivatableNames")[0]
    get = PROPERTIES_IFACE
    _, GLib = gio()
    try:
        version = bus.call(BUS_NAME, MANAGER_PATH, get, "Get",
                           _variant("(ss)", (MANAGER_IFACE, "Version")))[0]
    except GLib.Error as e:
        pytest.fail(f"activating {BUS_NAME} failed: {e.message}\nbus log:\n{bus.log()}",
                    pytrace=False)
    assert version == re.match(r"[0-9.]+", installed).group(0), (version, installed)
    uri = bus.call(BUS_NAME, MANAGER_PATH, get, "Get", _variant("(ss)", (MANAGER_IFACE, "Uri")))
    assert uri[0] == "qemu:///system"
    pid = bus.owner_pid(BUS_NAME)
    assert pid, "nobody owns the name after the activating call"
    assert exe(pid) == DAEMON
    assert read(f"/proc/{pid}/cmdline").split("\0")[1:2] == ["--system"]
    assert os.stat(f"/proc/{pid}").st_uid == 0


def test_smoke_list_and_attach(installed, service_config, system_bus, guest):
    """slotkeeper list shows the test guest with the spares the service gave it; one
    attach-device --live --config puts a virtio NIC on a spare root port, at the same address
    in the running and the persistent definition, and the guest sees it appear there."""
    dom = settled(guest.dom)
    guest.boot()
    res = run([CLI, "list"])
    assert res.returncode == 0, res.stderr
    line = [x for x in res.stdout.splitlines() if guest.name in x.split()]
    assert line, f"slotkeeper list does not show {guest.name}:\n{res.stdout}"
    print(res.stdout)

    free = skpci.free_ports(sklibvirt.live_xml(dom))
    assert len(free) >= skpci.SPARE_PORTS, f"the booted guest has free root ports {free}"
    mac = "52:54:00:5c:0d:eb"
    fd, device = tempfile.mkstemp(prefix="sk-package-nic-", suffix=".xml")
    with os.fdopen(fd, "w") as f:
        f.write(skxml.nic("virtio", mac))
    try:
        res = run([CLI, "attach-device", guest.name, device, "--live", "--config"])
    finally:
        os.unlink(device)
    assert res.returncode == 0, f"attach-device failed: {res.stderr}\n{res.stdout}"
    live = skpci.device_address(sklibvirt.live_xml(dom), mac)
    assert live, "the NIC is not in the running definition"
    assert skpci.device_address(sklibvirt.inactive_xml(dom), mac) == live, \
        "the persistent definition has the NIC at another address"
    topo = skpci.Topology(sklibvirt.live_xml(dom))
    assert topo.model(live[1]) == "pcie-root-port", topo.model(live[1])
    pattern = skguest.sysfs_path(topo, live)
    guest.serial.wait(lambda b: skguest.devices_at(b, pattern, skguest.VIRTIO_VENDOR),
                      skguest.HOTPLUG_TIMEOUT, f"the hotplugged virtio NIC at {pattern.pattern}")


def test_reinstall_and_upgrade_keep_config(lifecycle, debs, service_config, system_bus):
    """A reinstall and an upgrade keep the changed conffile, stop (or, under systemd,
    restart) the running slotkeeperd so that no old binary keeps running, and the next call
    is served by the new one."""
    for deb in (debs.deb, debs.repacked(debs.version + "+sktest1")):
        old = service_pid(system_bus)
        apt_get("install", "--reinstall", deb)
        assert package_status()[0] == "ii"
        assert read(CONFIG) == service_config, f"{os.path.basename(deb)} changed {CONFIG}"
        wait_gone(old, f"the slotkeeperd that ran before installing {os.path.basename(deb)}")
        assert service_pid(system_bus) not in (None, old)
    assert package_status()[1] == debs.version + "+sktest1"


def test_remove_stops_service(lifecycle, system_bus, service_config):
    """apt-get remove stops slotkeeperd and removes the programs; the changed configuration
    stays until the purge."""
    pid = service_pid(system_bus)
    apt_get("remove", PACKAGE)
    wait_gone(pid, "slotkeeperd after apt-get remove")
    assert package_status()[0] == "rc"
    assert not os.path.exists(DAEMON) and not os.path.exists(CLI)
    assert read(CONFIG) == service_config


def test_purge_leaves_nothing(lifecycle):
    """apt-get purge: dpkg forgets the package, and nothing the package or its use put under
    /etc, /usr or /var/lib/systemd is left, and nothing that was there before is gone."""
    apt_get("purge", PACKAGE)
    assert package_status() == (None, None) or package_status()[0] in ("un", "pn")
    res = run(["dpkg", "-L", PACKAGE])
    assert res.returncode != 0, f"dpkg -L {PACKAGE} still lists:\n{res.stdout}"
    assert not glob.glob(f"/var/lib/dpkg/info/{PACKAGE}.*")
    assert not os.path.lexists(os.path.dirname(CONFIG))
    after = scan()
    new = after - lifecycle.before
    # Other packages installed meanwhile (dependencies, or another apt-get on a shared host)
    # bring their own files; those are theirs.
    stray = sorted(new - owned(new))
    assert not stray, f"left behind: {stray}"
    gone = sorted(lifecycle.before - after)
    assert not gone, f"removed, but there before the install: {gone}"
