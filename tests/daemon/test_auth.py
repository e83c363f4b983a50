"""Authorization: a private bus plays the system bus (system bus policy, the shipped
dbus/org.slotkeeper.SlotKeeper1.conf included), a stand-in polkit authority
(mockpolkit.py) answers CheckAuthorization, and callers run as root or as the unprivileged
user nobody. Refusals must leave the domain's definition byte-identical."""

import json
import os
import shutil
import stat
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

import skdaemon
from skauth import (ACTION, MOCK_AUTHORITY_POLICY, NOBODY, OPEN_SESSION_CONFIG, SHIPPED_CONF,
                    SOURCE_ROOT, SYSTEM_BUS_CONFIG, as_user, gdbus, gv_string, macs, polkit_service,
                    public_tempdir, settled, shared_dir, slotkeeper, write_device)
from skauth import cli  # noqa: F401  (a fixture, shared on purpose)
from skdaemon import inactive_xml, nic

HERE = os.path.dirname(os.path.abspath(__file__))


class Authority:
    """mockpolkit.py on the bus; rules(...) sets the answers, requests() what it was asked."""

    def __init__(self, bus, workdir):
        self.bus = bus
        self.rules_path = os.path.join(workdir, "polkit-rules.json")
        self.log_path = os.path.join(workdir, "polkit-requests.jsonl")
        self.proc = None
        self.rules(default="no")

    def start(self):
        open(self.log_path, "w").close()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "mockpolkit.py"), self.bus.address,
             self.rules_path, self.log_path], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready", "the stand-in polkit failed"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        self.proc = None
        deadline = time.monotonic() + 5
        while self.bus.has_owner("org.freedesktop.PolicyKit1"):
            assert time.monotonic() < deadline, "org.freedesktop.PolicyKit1 still owned"
            time.sleep(0.05)

    def rules(self, **answers):
        with open(self.rules_path, "w") as f:
            json.dump({str(k).lstrip("u"): v for k, v in answers.items()}, f)

    def requests(self):
        with open(self.log_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def clear(self):
        open(self.log_path, "w").close()


@pytest.fixture(scope="module")
def bus():
    if not os.path.exists(SHIPPED_CONF):
        pytest.fail(f"{SHIPPED_CONF} is missing", pytrace=False)
    b = skdaemon.PrivateBus(SYSTEM_BUS_CONFIG, shipped=SHIPPED_CONF,
                            authority=MOCK_AUTHORITY_POLICY)
    shared_dir(b.dir)
    yield b
    b.close()


@pytest.fixture(scope="module")
def authority(bus, workdir):
    a = Authority(bus, workdir)
    a.start()
    yield a
    a.stop()


@pytest.fixture(scope="module")
def service(bus, workdir, conn, authority):
    s = polkit_service(bus, workdir)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def guest(domains, service):
    return settled(domains.new_q35("auth"))


MGR = skdaemon.MANAGER_PATH
M = skdaemon.MANAGER_IFACE + "."
D = skdaemon.DOMAIN_IFACE + "."


def mutating_calls(name, path, dev_xml):
    """(label, object path, method, args...) of every mutating method, both forms."""
    x = gv_string(dev_xml)
    n = gv_string(name)
    return [
        ("Manager.AttachDevice", MGR, M + "AttachDevice", n, x, "{'config': <true>}"),
        ("Manager.DetachDevice", MGR, M + "DetachDevice", n, x, "{'config': <true>}"),
        ("Manager.SetPolicy", MGR, M + "SetPolicy", n, "{'spare-ports': <uint32 7>}", "{}"),
        ("Manager.Reconcile", MGR, M + "Reconcile", n, "{}"),
        ("Manager.Reconcile(all)", MGR, M + "Reconcile", "''", "{}"),
        ("Domain.AttachDevice", path, D + "AttachDevice", x, "{'config': <true>}"),
        ("Domain.DetachDevice", path, D + "DetachDevice", x, "{'config': <true>}"),
        ("Domain.SetPolicy", path, D + "SetPolicy", "{'spare-ports': <uint32 7>}", "{}"),
        ("Domain.Reconcile", path, D + "Reconcile", "{}"),
    ]


def test_unauthorized_caller_changes_nothing(bus, authority, guest, client):
    """Without the grant every mutating method fails with NotAuthorized, polkit was asked
    with the action, the domain and the verb, and the definition did not change."""
    authority.rules(default="no")
    authority.clear()
    before = inactive_xml(guest)
    path = client.get_domain(guest.name())
    dev = nic("virtio", "52:54:00:a7:00:01").replace("'", '"')
    calls = mutating_calls(guest.name(), path, dev)
    for label, obj, method, *args in calls:
        ok, out = gdbus(bus, NOBODY, obj, method, *args)
        assert not ok, f"{label} succeeded for an unauthorized caller: {out}"
        assert "org.slotkeeper.SlotKeeper1.Error.NotAuthorized" in out, f"{label}: {out}"
    time.sleep(1)
    assert inactive_xml(guest) == before, "a refused call changed the definition"
    reqs = authority.requests()
    assert len(reqs) == len(calls), reqs
    verbs = []
    for req in reqs:
        assert req["uid"] == NOBODY and req["action"] == ACTION, req
        assert req["flags"] == 1, f"interactive authorization was not allowed: {req}"
        if "domain" in req["details"]:
            assert guest.name() in req["details"]["polkit.message"], req
        verbs.append((req["details"]["verb"], req["details"].get("domain")))
    name = guest.name()
    assert verbs == [("attach-device", name), ("detach-device", name), ("policy", name),
                     ("reconcile", name), ("reconcile", None), ("attach-device", name),
                     ("detach-device", name), ("policy", name), ("reconcile", name)], verbs


def test_reads_need_no_authorization(bus, authority, guest, client):
    authority.rules(default="no")
    authority.clear()
    path = client.get_domain(guest.name())
    dev = gv_string(nic("virtio", "52:54:00:a7:00:02").replace("'", '"'))
    for obj, method, *args in [
        (MGR, M + "GetDomain", gv_string(guest.name())),
        (MGR, M + "Plan", gv_string(guest.name()), dev, "{'config': <true>}"),
        (MGR, M + "GetSlots", gv_string(guest.name()), "{}"),
        (path, D + "Plan", dev, "{'config': <true>}"),
        (path, D + "GetSlots", "{}"),
        (path, "org.freedesktop.DBus.Properties.GetAll", gv_string(skdaemon.DOMAIN_IFACE)),
        (MGR, "org.freedesktop.DBus.ObjectManager.GetManagedObjects"),
    ]:
        ok, out = gdbus(bus, NOBODY, obj, method, *args)
        assert ok, f"{method} failed for an unprivileged reader: {out}"
    assert authority.requests() == [], "a read asked polkit"


def test_granted_caller_attaches(bus, authority, guest, cli, workdir):
    """With the grant the CLI, run as nobody, attaches; the device is in libvirt's XML."""
    authority.rules(default="no", **{f"u{NOBODY}": "yes"})
    authority.clear()
    mac = "52:54:00:a7:00:03"
    dev = write_device(workdir, "granted.xml", nic("virtio", mac))
    res = slotkeeper(bus, cli, NOBODY, "attach-device", guest.name(), dev, "--config")
    assert res.returncode == 0, res.stderr
    assert mac in macs(inactive_xml(guest))
    assert [r["details"]["verb"] for r in authority.requests()] == ["attach-device"]
    res = slotkeeper(bus, cli, NOBODY, "detach-device", guest.name(), dev, "--config")
    assert res.returncode == 0, res.stderr
    assert mac not in macs(inactive_xml(guest))


def test_cli_refusal_and_no_ask_password(bus, authority, guest, cli, workdir):
    """The CLI allows interactive authorization unless --no-ask-password; a refusal is a
    one-line error and a non-zero exit, and nothing changes."""
    authority.rules(default="no", **{f"u{NOBODY}": "auth"})
    authority.clear()
    before = inactive_xml(guest)
    dev = write_device(workdir, "askpw.xml", nic("virtio", "52:54:00:a7:00:04"))
    res = slotkeeper(bus, cli, NOBODY, "attach-device", guest.name(), dev, "--config",
                     "--no-ask-password")
    assert res.returncode != 0
    assert "not authorized" in res.stderr.lower(), res.stderr
    assert "authentication" in res.stderr.lower(), res.stderr
    assert inactive_xml(guest) == before
    # "auth" answers yes once user interaction is allowed (an agent would have asked).
    res = slotkeeper(bus, cli, NOBODY, "attach-device", guest.name(), dev, "--config")
    assert res.returncode == 0, res.stderr
    assert [r["flags"] for r in authority.requests()] == [0, 1]
    res = slotkeeper(bus, cli, NOBODY, "detach-device", guest.name(), dev, "--config")
    assert res.returncode == 0, res.stderr


def test_dismissed_dialog(bus, authority, guest, client):
    authority.rules(default="no", **{f"u{NOBODY}": "dismiss"})
    before = inactive_xml(guest)
    ok, out = gdbus(bus, NOBODY, MGR, M + "AttachDevice", gv_string(guest.name()),
                    gv_string(nic("virtio", "52:54:00:a7:00:05").replace("'", '"')),
                    "{'config': <true>}")
    assert not ok
    assert "org.slotkeeper.SlotKeeper1.Error.AuthorizationDismissed" in out, out
    assert inactive_xml(guest) == before


def test_no_authority_fails_closed(bus, authority, guest, client):
    """polkit gone: refused (not allowed), promptly, for root as for anyone."""
    authority.stop()
    try:
        before = inactive_xml(guest)
        dev = nic("virtio", "52:54:00:a7:00:06")
        for uid in (NOBODY, 0):
            start = time.monotonic()
            ok, out = gdbus(bus, uid, MGR, M + "AttachDevice", gv_string(guest.name()),
                            gv_string(dev.replace("'", '"')), "{'config': <true>}")
            assert not ok, f"uid {uid}: attached without an authority: {out}"
            assert "org.slotkeeper.SlotKeeper1.Error.NotAuthorized" in out, out
            assert "polkit" in out, out
            assert time.monotonic() - start < 30
        assert inactive_xml(guest) == before
    finally:
        authority.start()


def test_only_root_owns_the_name(bus, service):
    """The shipped bus policy: nobody cannot take org.slotkeeper.SlotKeeper1 (root holds it;
    a second owner would queue, so ask for the name outright with DO_NOT_QUEUE)."""
    res = as_user(NOBODY, [
        "gdbus", "call", "--address", bus.address, "--dest", "org.freedesktop.DBus",
        "--object-path", "/org/freedesktop/DBus", "--method",
        "org.freedesktop.DBus.RequestName", gv_string(skdaemon.BUS_NAME), "4"])
    assert res.returncode != 0 and "AccessDenied" in res.stderr, res


# ---- a session service serves its own uid only -------------------------------------------


def interface_methods(iface):
    """(name, gdbus arguments) of every method of @iface in the interface XML, with arguments
    of the right types (their values do not matter: the guard answers first)."""
    dummy = {"s": "''", "a{sv}": "{}"}
    tree = ET.parse(os.path.join(SOURCE_ROOT, "dbus", "org.slotkeeper.SlotKeeper1.xml"))
    node = next(n for n in tree.iter("interface") if n.get("name") == iface)
    return [(m.get("name"), [dummy[a.get("type")] for a in m.iter("arg")
                             if a.get("direction") == "in"]) for m in node.iter("method")]


def test_session_service_serves_its_own_uid_only(conn, domains):
    """Without polkit every method of both interfaces, read or write, is refused to another
    uid before it does anything; our own uid is served."""
    workdir = public_tempdir("skdt-auth-session-")
    bus = skdaemon.PrivateBus(OPEN_SESSION_CONFIG)
    shared_dir(bus.dir)
    service = skdaemon.Service(bus, workdir)  # no --polkit: owner-only, as on a session bus
    dom = domains.new_q35("session")
    path = skdaemon.domain_path(dom.UUIDString())
    try:
        service.start()
        deadline = time.monotonic() + 30
        while not gdbus(bus, 0, path, "org.freedesktop.DBus.Properties.Get",
                        f"'{skdaemon.DOMAIN_IFACE}'", "'Name'")[0]:
            assert time.monotonic() < deadline, f"no domain object at {path}"
            time.sleep(0.1)
        calls = [(MGR, M + name, args) for name, args in interface_methods(M[:-1])]
        calls += [(path, D + name, args) for name, args in interface_methods(D[:-1])]
        assert len(calls) >= 15, calls
        before = inactive_xml(dom)
        for obj, method, args in calls:
            ok, out = gdbus(bus, NOBODY, obj, method, *args)
            assert not ok and "org.slotkeeper.SlotKeeper1.Error.NotAuthorized" in out, \
                f"{method}: {out}"
            assert "own user" in out, f"{method}: {out}"
        assert inactive_xml(dom) == before
        ok, out = gdbus(bus, 0, MGR, M + "Reconcile", "''", "{}")
        assert ok, out
        ok, out = gdbus(bus, 0, path, D + "GetSlots", "{}")
        assert ok, out
    finally:
        service.stop()
        bus.close()
        shutil.rmtree(workdir, ignore_errors=True)


def test_interactive_check_does_not_block_others(bus, authority, guest, client):
    """An authentication dialog can stay open for minutes: meanwhile the service answers."""
    assert stat.S_IMODE(os.stat(bus.dir).st_mode) == 0o755
    # A slow authority: stop the mock and hold the name with a process that never answers.
    authority.stop()
    holder = subprocess.Popen([sys.executable, "-c", f"""
import gi
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib
c = Gio.DBusConnection.new_for_address_sync({bus.address!r},
    Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
    Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
Gio.bus_own_name_on_connection(c, 'org.freedesktop.PolicyKit1', 0, lambda *a: print('ready',
    flush=True), None)
held = []
def call(*a):
    held.append(a[-1])  # never replies: the dialog is still open
c.register_object('/org/freedesktop/PolicyKit1/Authority',
    Gio.DBusNodeInfo.new_for_xml('''<node><interface name="org.freedesktop.PolicyKit1.Authority">
    <method name="CheckAuthorization"><arg type="(sa{{sv}})" direction="in"/>
    <arg type="s" direction="in"/><arg type="a{{ss}}" direction="in"/>
    <arg type="u" direction="in"/><arg type="s" direction="in"/>
    <arg type="(bba{{ss}})" direction="out"/></method></interface></node>''').interfaces[0],
    call, None, None)
GLib.MainLoop().run()
"""], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        pending = subprocess.Popen(
            ["gdbus", "call", "--address", bus.address, "--dest", skdaemon.BUS_NAME,
             "--object-path", MGR, "--method", M + "Reconcile", gv_string(guest.name()), "{}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        start = time.monotonic()
        plan = client.manager("GetSlots", "(sa{sv})", guest.name(), {}, reply="(aa{sv})")
        assert plan and time.monotonic() - start < 5
        assert pending.poll() is None, "the pending call did not wait for its authorization"
        pending.kill()
        pending.wait()
    finally:
        holder.kill()
        holder.wait()
        authority.start()
