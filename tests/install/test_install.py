"""meson install into a temporary DESTDIR: exactly the expected files land where the .pc files
of dbus-1, systemd and polkit-gobject-1 say, and each is valid for the program that reads it
(dbus-daemon, systemd, polkitd). The bus policy is tried on a real dbus-daemon: root may own
org.slotkeeper.SlotKeeper1, nobody may not, but nobody may call it."""

import configparser
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest
from lxml import etree

from skbus import PrivateBus, system_bus_config
from sknames import ACTION, BUS_NAME
from skuser import NOBODY, as_user_argv, shared_dir

BUILD_ROOT = os.environ["SK_BUILD_ROOT"]
SOURCE_ROOT = os.environ.get("SK_SOURCE_ROOT",
                             os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
COCKPIT_SRC = os.path.join(SOURCE_ROOT, "src", "cockpit")
# Not part of the page: its build file, the PatternFly vendoring tools, and the package.json
# that only tells node (the unit tests) that js/*.js are ES modules.
COCKPIT_NOT_INSTALLED = ("meson.build", "tools/", "js/package.json")
MESON = os.environ.get("SK_MESON", "meson")
VERSION = os.environ["SK_VERSION"]
BUSCONFIG_DTD = "/usr/share/xml/dbus-1/busconfig.dtd"
INTROSPECT_DTD = "/usr/share/xml/dbus-1/introspect.dtd"
POLKIT_DTD = "/usr/share/polkit-1/policyconfig-1.dtd"


def build_options():
    return json.loads(subprocess.run([MESON, "introspect", "--buildoptions", BUILD_ROOT],
                                     check=True, capture_output=True, text=True).stdout)


def cockpit_page_files():
    """Every file of src/cockpit that the page needs: relative paths."""
    out = []
    for root, dirs, names in os.walk(COCKPIT_SRC):
        dirs[:] = [d for d in dirs if d != "node_modules"]
        for name in names:
            rel = os.path.relpath(os.path.join(root, name), COCKPIT_SRC)
            if not any(rel == n or rel.startswith(n) for n in COCKPIT_NOT_INSTALLED):
                out.append(rel)
    return sorted(out)


def meson_dirs():
    opts = build_options()
    dirs = {o["name"]: o["value"] for o in opts if o["section"] == "directory"}
    prefix = dirs["prefix"]
    # A relative option is under the prefix; an absolute one (sysconfdir=/etc with prefix /usr)
    # stands alone, and os.path.join does both.
    return prefix, {k: os.path.join(prefix, v) for k, v in dirs.items()}


def pc_variable(package, variable, define, default):
    """What pkg-config says, with our prefix put in for the .pc's (as meson.build does),
    or meson.build's fallback when the .pc is missing."""
    res = subprocess.run(["pkg-config", f"--define-variable={define}", f"--variable={variable}",
                          package], capture_output=True, text=True)
    if res.returncode != 0 or not res.stdout.strip():
        return default
    return res.stdout.strip()


def expected_files():
    prefix, d = meson_dirs()
    datadir = d["datadir"]
    pre = f"prefix={prefix}"
    dbus_datadir = pc_variable("dbus-1", "datadir", pre, datadir)
    cockpit = {}
    option = {o["name"]: o["value"] for o in build_options()}.get("cockpit", "auto")
    if option != "disabled":  # the daemon is built (this test needs it): auto means enabled
        for rel in cockpit_page_files():
            cockpit["cockpit:" + rel] = os.path.join(datadir, "cockpit", "slotkeeper", rel)
    return {
        **cockpit,
        "daemon": os.path.join(d["sbindir"], "slotkeeperd"),
        "cli": os.path.join(d["bindir"], "slotkeeper"),
        "man1": os.path.join(d["mandir"], "man1", "slotkeeper.1"),
        "man8": os.path.join(d["mandir"], "man8", "slotkeeperd.8"),
        "interface": os.path.join(
            pc_variable("dbus-1", "interfaces_dir", pre, f"{dbus_datadir}/dbus-1/interfaces"),
            "org.slotkeeper.SlotKeeper1.xml"),
        "busconf": os.path.join(dbus_datadir, "dbus-1", "system.d",
                                "org.slotkeeper.SlotKeeper1.conf"),
        "system_activation": os.path.join(
            pc_variable("dbus-1", "system_bus_services_dir", pre,
                        f"{dbus_datadir}/dbus-1/system-services"),
            "org.slotkeeper.SlotKeeper1.service"),
        "session_activation": os.path.join(
            pc_variable("dbus-1", "session_bus_services_dir", pre,
                        f"{dbus_datadir}/dbus-1/services"),
            "org.slotkeeper.SlotKeeper1.service"),
        "system_unit": os.path.join(
            pc_variable("systemd", "systemdsystemunitdir", f"root_prefix={prefix}",
                        f"{prefix}/lib/systemd/system"),
            "slotkeeperd.service"),
        "user_unit": os.path.join(
            pc_variable("systemd", "systemduserunitdir", pre, f"{prefix}/lib/systemd/user"),
            "slotkeeperd.service"),
        "polkit": os.path.join(
            pc_variable("polkit-gobject-1", "policydir", pre, f"{datadir}/polkit-1/actions"),
            "org.slotkeeper.SlotKeeper1.policy"),
        "config": os.path.join(d["sysconfdir"], "slotkeeper", "slotkeeper.conf"),
    }


@pytest.fixture(scope="module")
def installed():
    """(destdir, {role: installed absolute path}) after one meson install."""
    destdir = tempfile.mkdtemp(prefix="sk-install-")
    os.chmod(destdir, 0o755)  # nobody reads the bus policy through it below
    try:
        res = subprocess.run([MESON, "install", "-C", BUILD_ROOT, "--no-rebuild", "--quiet",
                              "--destdir", destdir], capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr
        yield destdir, expected_files()
    finally:
        shutil.rmtree(destdir, ignore_errors=True)


def in_dest(installed, role):
    destdir, files = installed
    return destdir + files[role]


def test_exactly_the_expected_files(installed):
    destdir, files = installed
    found = set()
    for root, dirnames, names in os.walk(destdir):
        for name in names + [n for n in dirnames if os.path.islink(os.path.join(root, n))]:
            found.add("/" + os.path.relpath(os.path.join(root, name), destdir))
    expected = set(files.values())
    assert found == expected, (f"missing: {sorted(expected - found)}, "
                               f"unexpected: {sorted(found - expected)}")


def test_binaries_run(installed):
    for role, name in (("daemon", "slotkeeperd"), ("cli", "slotkeeper")):
        path = in_dest(installed, role)
        assert os.access(path, os.X_OK), path
        res = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
        assert res.returncode == 0 and res.stdout.strip() == f"{name} {VERSION}", res


def dtd_errors(path, dtd_path):
    assert os.path.exists(dtd_path), f"{dtd_path} is missing (package not installed?)"
    doc = etree.parse(path, etree.XMLParser(no_network=True, resolve_entities=False))
    dtd = etree.DTD(dtd_path)
    dtd.validate(doc)
    return doc, [str(e) for e in dtd.error_log.filter_from_errors()]


# Debian's busconfig.dtd predates the policy attributes dbus-daemon(1) documents (send_to and
# receive_from are all it knows), so an undeclared *documented* attribute of <allow>/<deny> is
# not an error; any other DTD error is.
DBUS_POLICY_ATTRIBUTES = {
    "send_interface", "send_member", "send_error", "send_broadcast", "send_destination",
    "send_destination_prefix", "send_type", "send_path", "send_requested_reply",
    "receive_interface", "receive_member", "receive_error", "receive_sender", "receive_type",
    "receive_path", "receive_requested_reply", "eavesdrop", "own", "own_prefix", "user",
    "group", "log", "max_fds", "min_fds",
}


def test_bus_policy_is_valid(installed):
    doc, errors = dtd_errors(in_dest(installed, "busconf"), BUSCONFIG_DTD)
    undeclared = re.compile(r"No declaration for attribute (\w+) of element (allow|deny)")
    real = [e for e in errors if not ((m := undeclared.search(e))
                                      and m.group(1) in DBUS_POLICY_ATTRIBUTES)]
    assert not real, real
    # Only root owns the name; everyone may send to it; nothing else is granted.
    rules = [(dict(p.attrib), r.tag, dict(r.attrib))
             for p in doc.getroot().iter("policy") for r in p.iterchildren("allow", "deny")]
    assert sorted(rules, key=repr) == sorted([
        ({"user": "root"}, "allow", {"own": BUS_NAME}),
        ({"user": "root"}, "allow", {"send_destination": BUS_NAME}),
        ({"context": "default"}, "allow", {"send_destination": BUS_NAME}),
    ], key=repr), rules


def test_interface_xml_is_valid(installed):
    doc, errors = dtd_errors(in_dest(installed, "interface"), INTROSPECT_DTD)
    assert not errors, errors
    names = {i.get("name") for i in doc.getroot().iter("interface")}
    assert {"org.slotkeeper.SlotKeeper1.Manager", "org.slotkeeper.SlotKeeper1.Domain"} <= names


def test_polkit_action_is_valid(installed):
    doc, errors = dtd_errors(in_dest(installed, "polkit"), POLKIT_DTD)
    assert not errors, errors
    actions = doc.getroot().findall("action")
    assert [a.get("id") for a in actions] == [ACTION]
    defaults = {e.tag: e.text for e in actions[0].find("defaults")}
    assert defaults == {"allow_any": "no", "allow_inactive": "no",
                        "allow_active": "auth_admin_keep"}, defaults
    assert actions[0].findtext("message").strip() and actions[0].findtext("description").strip()
    assert not [a for a in actions[0].iter("annotate")
                if a.get("key") == "org.freedesktop.policykit.imply"]


def read_keyfile(path):
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    with open(path) as f:
        parser.read_file(f)
    return parser


def test_activation_files(installed):
    _, files = installed
    system = read_keyfile(in_dest(installed, "system_activation"))["D-BUS Service"]
    assert dict(system) == {
        "Name": BUS_NAME,
        "Exec": files["daemon"] + " --system",
        "User": "root",
        "SystemdService": "slotkeeperd.service",
    }
    session = read_keyfile(in_dest(installed, "session_activation"))["D-BUS Service"]
    assert dict(session) == {
        "Name": BUS_NAME,
        "Exec": files["daemon"] + " --session",
        "SystemdService": "slotkeeperd.service",
    }


def unit_lines(path):
    """[(section, key, value)] of a unit file (repeated keys kept in order)."""
    section, lines = None, []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            key, _, value = line.partition("=")
            lines.append((section, key, value))
    return lines


def verify_unit(installed, role, user):
    """systemd-analyze verify works offline here (no systemd as PID 1) in system mode and, with
    a runtime directory, in user mode. It wants the ExecStart= binary at its final path, so it
    checks a copy that points into DESTDIR. It exits 0 on unknown keys and bad values, printing
    a warning: any output at all fails."""
    _, files = installed
    tmp = tempfile.mkdtemp(prefix="sk-verify-")
    try:
        with open(in_dest(installed, role)) as f:
            text = f.read().replace(files["daemon"], in_dest(installed, "daemon"))
        unit = os.path.join(tmp, "slotkeeperd.service")
        with open(unit, "w") as f:
            f.write(text)
        runtime = os.path.join(tmp, "runtime")
        os.mkdir(runtime, 0o700)
        argv = ["systemd-analyze"] + (["--user"] if user else []) + ["verify", "--man=no", unit]
        res = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, XDG_RUNTIME_DIR=runtime, SYSTEMD_PAGER="",
                                      SYSTEMD_COLORS="0"))
        assert res.returncode == 0 and not res.stdout.strip() and not res.stderr.strip(), res
        if user:
            return None
        res = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                              unit], capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, SYSTEMD_COLORS="0"))
        assert res.returncode == 0, res
        return res.stdout
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_system_unit(installed):
    _, files = installed
    lines = unit_lines(in_dest(installed, "system_unit"))
    service = {k: v for s, k, v in lines if s == "Service"}
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main"
    assert service["BusName"] == BUS_NAME
    assert service["ExecStart"] == files["daemon"] + " --system"
    assert service["WatchdogSec"] and service["Restart"] == "on-failure"
    after = " ".join(v for s, k, v in lines if s == "Unit" and k == "After").split()
    assert {"libvirtd.service", "virtqemud.service", "libvirtd.socket",
            "virtqemud.socket"} <= set(after), after
    for key, value in {
        "ProtectSystem": "strict", "PrivateTmp": "yes", "PrivateDevices": "yes",
        "NoNewPrivileges": "yes", "RestrictAddressFamilies": "AF_UNIX",
        "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes", "RestrictNamespaces": "yes",
        "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes", "RestrictRealtime": "yes",
        "CapabilityBoundingSet": "", "SystemCallFilter": "~@privileged",
    }.items():
        assert service.get(key) == value, (key, service.get(key))
    assert "@system-service" in [v for s, k, v in lines if k == "SystemCallFilter"]
    assert {k: v for s, k, v in lines if s == "Install"} == {"WantedBy": "multi-user.target"}
    security = verify_unit(installed, "system_unit", user=False)
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", security)
    assert level and float(level.group(1)) <= 1.0, security


def test_user_unit(installed):
    _, files = installed
    lines = unit_lines(in_dest(installed, "user_unit"))
    service = {k: v for s, k, v in lines if s == "Service"}
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main"
    assert service["BusName"] == BUS_NAME
    assert service["ExecStart"] == files["daemon"] + " --session"
    assert {k: v for s, k, v in lines if s == "Install"} == {"WantedBy": "default.target"}
    verify_unit(installed, "user_unit", user=True)


def test_default_config(installed):
    path = in_dest(installed, "config")
    with open(path) as f:
        assert "[policy]" in f.read()
    res = subprocess.run([in_dest(installed, "daemon"), "--config", path,
                          "--bus-address", "unix:path=/nonexistent/sk-install-test",
                          "--connect", "test:///default"],
                         capture_output=True, text=True, timeout=30)
    # It read the config and got as far as the bus: the installed file parses.
    assert "cannot connect to the message bus" in res.stderr, res


# A bus that plays the system bus: Debian's system.conf default policy, plus the installed
# system.d directory, so every rule about org.slotkeeper.SlotKeeper1 is the installed file's.
BUS_CONFIG = system_bus_config("<includedir>{system_d}</includedir>")

# Bus clients, run with Debian's python3 as root or as nobody (setpriv). GDBus answers
# org.freedesktop.DBus.Peer.Ping for every connection, so an owner needs no object.
CLIENT = r"""
import sys
from gi.repository import Gio, GLib
verb, address = sys.argv[1], sys.argv[2]
bus = Gio.DBusConnection.new_for_address_sync(
    address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
    | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
def call(dest, path, iface, method, args):
    try:
        bus.call_sync(dest, path, iface, method, args, None, Gio.DBusCallFlags.NONE, 5000, None)
        return "ok"
    except GLib.Error as e:
        return Gio.DBusError.get_remote_error(e) or e.message
if verb == "own":  # own NAME (flags 4: do not queue), say so, serve until killed
    try:
        reply = str(bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                  "org.freedesktop.DBus", "RequestName",
                                  GLib.Variant("(su)", (sys.argv[3], 4)), None,
                                  Gio.DBusCallFlags.NONE, 5000, None)[0])
    except GLib.Error as e:
        reply = Gio.DBusError.get_remote_error(e) or e.message
    print(reply, bus.get_unique_name(), flush=True)
    GLib.MainLoop().run()
elif verb == "ping":  # ping DEST
    print(call(sys.argv[3], "/", "org.freedesktop.DBus.Peer", "Ping", None), flush=True)
"""


class Bus(PrivateBus):
    """The bus that plays the system bus, and clients on it as root or as nobody."""

    def __init__(self, system_d):
        super().__init__(BUS_CONFIG, prefix="sk-install-bus-", system_d=system_d)
        shared_dir(self.dir)
        self.owners = []

    def run(self, uid, *args):
        return subprocess.run(self.argv(uid, *args), capture_output=True, text=True,
                              timeout=30).stdout.split()

    def argv(self, uid, verb, *args):
        return as_user_argv(uid, ["/usr/bin/python3", "-c", CLIENT, verb, self.address]
                            + list(args))

    def own(self, uid, name):
        """(RequestName's answer, unique name); the owner keeps serving if it got the name."""
        proc = subprocess.Popen(self.argv(uid, "own", name), stdout=subprocess.PIPE, text=True)
        self.owners.append(proc)
        words = proc.stdout.readline().split()
        return words[0], words[1]

    def close(self):
        for proc in self.owners:
            proc.kill()
            proc.wait()
        super().close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: a root-owned name, setpriv nobody")
def test_bus_policy_on_dbus_daemon(installed):
    bus = Bus(os.path.dirname(in_dest(installed, "busconf")))
    try:
        denied = "org.freedesktop.DBus.Error.AccessDenied"
        # nobody may not own the name, even while it is free
        assert bus.own(NOBODY, BUS_NAME)[0] == denied
        # root may (1: DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER)
        assert bus.own(0, BUS_NAME)[0] == "1"
        # nobody may call it, by its well-known name
        assert bus.run(NOBODY, "ping", BUS_NAME) == ["ok"]
        # ... because of the installed policy: a root connection without that name is closed
        # to nobody by the default policy
        _, other = bus.own(0, "org.slotkeeper.NotInThePolicy")
        assert bus.run(NOBODY, "ping", other) == [denied]
        assert bus.run(0, "ping", BUS_NAME) == ["ok"]
    finally:
        bus.close()


def test_cockpit_page(installed):
    """The web console page: a manifest with the contract's menu label, and nothing Cockpit's
    Content-Security-Policy would block or the network would have to supply: no inline script
    or style, and every script, stylesheet and url() inside the page's folder (or cockpit's
    own ../base1/cockpit.js)."""
    destdir, files = installed
    page = [destdir + path for role, path in files.items() if role.startswith("cockpit:")]
    if not page:
        pytest.skip("built with -Dcockpit=disabled")
    folder = os.path.dirname(destdir + files["cockpit:manifest.json"])
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest["menu"]["index"]["label"] == "Hotplug slots", manifest
    with open(os.path.join(folder, "index.html")) as f:
        html = f.read()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> in index.html"
    assert not re.search(r"<style|\sstyle=|\son[a-z]+=", html), "inline style or handler"
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "../base1/cockpit.js" in refs, refs
    for ref in refs:
        assert "//" not in ref, f"index.html loads {ref} from elsewhere"
        if ref != "../base1/cockpit.js":
            assert os.path.exists(os.path.join(folder, ref)), f"index.html refers to missing {ref}"
    for path in page:
        if path.endswith(".css"):
            with open(path) as f:
                for url in re.findall(r'url\("?([^")]+)"?\)', f.read()):
                    if url.startswith(("data:", "#")):
                        continue
                    assert "//" not in url, f"{path} loads {url} from elsewhere"
                    target = os.path.join(os.path.dirname(path), url.split("#")[0])
                    assert os.path.exists(target), f"{path} refers to missing {url}"
        if path.endswith(".js"):
            with open(path) as f:
                js = f.read()
            for spec in re.findall(r'^import .* from "([^"]+)";', js, re.M):
                assert spec.startswith("./"), f"{path} imports {spec}"
                assert os.path.exists(os.path.join(os.path.dirname(path), spec)), spec
            # text goes in as text (no markup parsing), and no code from strings (CSP)
            assert not re.search(r"\.(innerHTML|outerHTML)\b|insertAdjacentHTML|\beval\(|new Function",
                                 js), path
