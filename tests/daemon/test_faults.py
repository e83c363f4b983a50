"""Reliability under faults, against the real libvirtd:

- libvirtd restarts under the service: it notices, says so (Manager.Connected, sd_notify
  STATUS), answers Unavailable at once meanwhile, fails the call in flight with Unavailable,
  reconnects, re-reads the domain table (domains defined and undefined while libvirtd was away),
  tops spares up and sees events again;
- the service is killed (SIGKILL, injected with the test-only SK_TEST_CRASH_AT hook) in the
  middle of an attach or of a spare top-up: after a restart no device is lost or duplicated, live
  and persistent addresses agree and the spares converge to the policy;
- a domain disappears while requests for it wait behind a slow one: they fail with NoSuchDomain
  (or a state error), requests for other domains are unaffected.

The libvirtd restart disturbs whatever else uses libvirtd on the host, so it is kept short and
libvirtd is started again whatever happens (the same way scripts/setup-host.sh starts it).
"""

import os
import re
import signal
import socket
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

import skdaemon
from skdaemon import (METADATA_NS, SPARE_PORTS, DBusFailure, Service, device_address,
                      free_ports, inactive_xml, live_xml, nic)
from skfault import PROMPT, AsyncCall, libvirtd_pids, manager_call, wait_connected

LIBVIRTD_STOP_TIMEOUT = 60
SETUP_HOST = os.path.join(os.environ.get("SK_SOURCE_ROOT", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "scripts", "setup-host.sh")
LIBVIRT_CONFIG_DIR = "/etc/libvirt/qemu"


@pytest.fixture(scope="module")
def conn():
    """Overrides conftest's: this module's connection dies with libvirtd (Domains gets a new
    one after a restart), so closing it may fail."""
    c = skdaemon.open_libvirt()
    yield c
    try:
        c.close()
    except Exception:
        pass


class Notify:
    """The datagram socket NOTIFY_SOCKET points the service at (what systemd would read)."""

    def __init__(self, workdir):
        self.path = os.path.join(workdir, "notify.sock")
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.messages = []

    def read(self):
        while True:
            try:
                self.messages.append(self.sock.recv(65536).decode(errors="replace"))
            except BlockingIOError:
                return self.messages

    def wait_status(self, predicate, what, timeout=skdaemon.SETTLE_TIMEOUT):
        """Waits for a message with a STATUS= line for which @predicate holds."""
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            msgs = self.read()
            for msg in msgs[seen:]:
                for line in msg.splitlines():
                    if line.startswith("STATUS=") and predicate(line[7:]):
                        return line[7:]
            seen = len(msgs)
            time.sleep(0.1)
        pytest.fail(f"no STATUS for {what} within {timeout}s; got {self.messages}",
                    pytrace=False)

    def close(self):
        self.sock.close()
        os.unlink(self.path)


def service_config(svc, rescan_seconds=None):
    with open(svc.config, "a") as f:
        if rescan_seconds is not None:
            f.write(f"[service]\nrescan-seconds={rescan_seconds}\n")


def timed_error(name, fn, *args, **kw):
    """fn() must fail with @name within PROMPT seconds."""
    _, GLib = skdaemon.gio()
    started = time.monotonic()
    try:
        fn(*args, **kw)
    except DBusFailure as e:
        elapsed = time.monotonic() - started
        assert e.name == skdaemon.ERROR_PREFIX + name, f"expected {name}, got {e}"
        assert elapsed < PROMPT, f"{name} took {elapsed:.1f}s"
        return e
    pytest.fail(f"the call succeeded; expected {name}", pytrace=False)


def count_macs(xml, mac):
    return sum(1 for m in ET.fromstring(xml).iter("mac") if m.get("address", "").lower() == mac)


def no_hotplug_keys(xml):
    root = ET.fromstring(xml)
    return [d.get("key") for d in root.iter(f"{{{METADATA_NS}}}device")
            if d.get("hotplug-require") == "no"]


# ---- libvirtd restart ---------------------------------------------------------------------


def libvirtd_pid():
    pids = libvirtd_pids()
    return pids[0] if pids else None


def stop_libvirtd():
    pid = libvirtd_pid()
    if pid is None:
        pytest.skip("libvirtd is not running as a plain process here (systemd?)")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + LIBVIRTD_STOP_TIMEOUT
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{pid}"), "libvirtd did not exit on SIGTERM"


def start_libvirtd():
    proc = subprocess.run(["bash", SETUP_HOST, "--timeout", "120"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"setup-host.sh failed:\n{proc.stdout}\n{proc.stderr}"


def test_libvirtd_restart(bus, workdir, domains):
    import libvirt

    notify = Notify(workdir)
    svc = Service(bus, workdir)
    # No periodic rescan: whatever happens after the reconnect comes from the resync and events.
    service_config(svc, rescan_seconds=0)
    svc.env["NOTIFY_SOCKET"] = notify.path
    svc.start()
    client = skdaemon.Client(bus)
    restarted = False
    try:
        stay = domains.new_q35("lv-stay")
        gone = domains.new_q35("lv-gone")
        # "added" exists only as a file written while libvirtd is away: defined here unmanaged
        # (so its spares are not topped up yet) for the XML libvirt completes, then undefined.
        added = domains.new_q35("lv-added", policy={"managed": "no"})
        added_name, added_uuid = added.name(), added.UUIDString()
        added_xml = inactive_xml(added).replace("managed='no'", "managed='yes'").replace(
            'managed="no"', 'managed="yes"')
        assert "managed" in added_xml and len(free_ports(added_xml)) < SPARE_PORTS
        added.undefine()
        for dom in (stay, gone):
            skdaemon.settled(dom)
        stay.create()
        stay_name, stay_uuid, gone_name = stay.name(), stay.UUIDString(), gone.name()
        stay_path = skdaemon.domain_path(stay_uuid)
        wait_connected(client, True, 10)
        notify.wait_status(lambda s: s.startswith("Managing"), "the service managing", 10)

        # A call in flight when libvirtd goes: a live detach waits ~5 s for a guest with no OS.
        mac = "52:54:00:d7:f1:01"
        client.attach(stay_name, nic("virtio", mac), live=True)
        inflight = manager_call(client, "DetachDevice", "(ssa{sv})", stay_name,
                                nic("virtio", mac), skdaemon.opts(live=True))
        client.pump(0.5)
        assert inflight.reply is None, f"the detach did not block: {inflight.reply}"

        restarted = True
        stop_libvirtd()
        down_at = time.monotonic()
        reply = inflight.wait(30)
        print(f"the call in flight: {reply} after {inflight.elapsed:.1f}s")
        # libvirtd drops its clients as soon as it is told to stop: the service must say
        # Unavailable - and not hang.
        assert reply[0] == "error" and reply[1] == skdaemon.ERROR_PREFIX + "Unavailable", reply
        assert time.monotonic() - inflight.started < 15, reply
        wait_connected(client, False, 10)
        status = notify.wait_status(lambda s: s.startswith("Waiting for libvirt"),
                                    "waiting for libvirt", 10)
        assert skdaemon.URI in status, status

        # Meanwhile every call answers Unavailable at once, on the Manager and on the
        # (still exported) Domain objects.
        timed_error("Unavailable", client.get_domain, stay_name)
        timed_error("Unavailable", client.attach, stay_name, nic("virtio", "52:54:00:d7:f1:02"),
                    live=True)
        timed_error("Unavailable", client.reconcile)
        timed_error("Unavailable", client.domain, stay_path, "GetSlots", "(a{sv})", {},
                    reply="(aa{sv})")
        timed_error("Unavailable", client.domain, stay_path, "Plan", "(sa{sv})",
                    nic("virtio", "52:54:00:d7:f1:03"), {}, reply="(a{sv})")
        assert stay_path in client.managed_objects()

        # Changes libvirtd finds when it comes back: one domain more, one less.
        with open(os.path.join(LIBVIRT_CONFIG_DIR, added_name + ".xml"), "w") as f:
            f.write(added_xml)
        os.unlink(os.path.join(LIBVIRT_CONFIG_DIR, gone_name + ".xml"))
        start_libvirtd()
        restarted = False
        print(f"libvirtd was down for {time.monotonic() - down_at:.1f}s")
        domains.conn = skdaemon.open_libvirt()
        stay = domains.conn.lookupByUUIDString(stay_uuid)
        assert stay.isActive(), "the guest did not survive the libvirtd restart"
        added = domains.conn.lookupByUUIDString(added_uuid)

        wait_connected(client, True, 30)
        notify.wait_status(lambda s: s.startswith("Managing"), "managing again", 10)
        # The domain table is libvirt's again.
        added_path = client.get_domain(added_name)
        assert added_path == skdaemon.domain_path(added_uuid)
        client.expect_error("NoSuchDomain", client.get_domain, gone_name)
        assert skdaemon.domain_path(gone.UUIDString()) not in client.managed_objects()
        # The resync reconciled the domain that came with the restart...
        skdaemon.wait_xml(added, lambda x: len(free_ports(x)) >= SPARE_PORTS,
                          "the spares of the domain defined while libvirtd was away", timeout=30)
        # ... events flow again (no rescan here: only the metadata event can trigger this) ...
        n_signals = len(client.signals)
        stay.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT,
                         f"<policy managed='yes' spare-ports='{SPARE_PORTS + 1}'/>",
                         "slotkeeper", METADATA_NS, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        skdaemon.wait_xml(stay, lambda x: len(free_ports(x)) >= SPARE_PORTS + 1,
                          "the top-up after a metadata event", timeout=30)
        client.pump(1)
        assert any(s[2] == "Event" and s[3][0] == "reconciled" and s[3][1]["uuid"] == stay_uuid
                   for s in client.signals[n_signals:]), "no reconciled Event after the change"
        # ... and new calls work on fresh worker connections (more calls than workers).
        for _ in range(6):
            client.domain(stay_path, "GetSlots", "(a{sv})", {}, reply="(aa{sv})")
        mac2 = "52:54:00:d7:f1:04"
        _, address = client.attach(stay_name, nic("virtio", mac2), live=True, config=True)
        addr = skdaemon.parse_addr(address)
        assert device_address(live_xml(stay), mac2) == addr
        assert device_address(inactive_xml(stay), mac2) == addr
        log = svc.log()
        assert "lost the connection to libvirt" in log, log
        # Retries back off: quick at first, then doubling up to a cap.
        delays = [float(d) for d in re.findall(r"retrying in ([0-9.]+) s", log)]
        assert delays and delays[0] <= 1.0, delays
        assert delays == sorted(delays) and max(delays) <= 10, delays
        print("\n".join(line for line in log.splitlines() if "connect" in line))
    finally:
        if restarted:
            start_libvirtd()
            domains.conn = skdaemon.open_libvirt()
        client.close()
        svc.stop()
        notify.close()


# ---- the service killed in the middle of a change -----------------------------------------


def start_crashing(bus, workdir, point, name):
    svc = Service(bus, workdir)
    svc.env["SK_TEST_CRASH_AT"] = f"{point}@{name}"
    svc.start()
    return svc


def expect_killed(svc, call, may_answer=False):
    """@call must not succeed and the service must have killed itself. With @may_answer the
    crash comes after the reply (an attach answers before it replaces the spare it took), so
    the call may succeed first."""
    try:
        call()
    except DBusFailure as e:
        assert not e.name.startswith(skdaemon.ERROR_PREFIX), f"an answer, not a crash: {e}"
    else:
        if not may_answer:
            pytest.fail("the call succeeded; the service should have crashed", pytrace=False)
    proc, svc.proc = svc.proc, None
    rc = proc.wait(10)
    assert rc == -signal.SIGKILL, f"slotkeeperd exited {rc}:\n{svc.log()}"
    assert "SK_TEST_CRASH_AT: killing myself" in svc.log()


def converged(dom, spares=SPARE_PORTS):
    """After the restart: exactly the policy's spares in the persistent definition."""
    skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= spares, "the spares after a restart")
    xml = skdaemon.wait_stable(dom)
    assert len(free_ports(xml)) == spares, f"{len(free_ports(xml))} spares:\n{xml}"
    return xml


# name suffix, crash point, running guest, device model, options of the attach
CRASHES = [
    ("c-attached", "attach-attached", True, "virtio", dict(live=True, config=True)),
    ("c-topup", "reconcile-before-define", True, "virtio", dict(live=True, config=True)),
    ("c-topdone", "reconcile-defined", True, "virtio", dict(live=True, config=True)),
    ("c-ctrl", "attach-controllers-defined", False, "rtl8139", dict(config=True)),
    ("c-rec", "attach-recorded", False, "rtl8139", dict(config=True, hotplug_require="no")),
    ("c-recatt", "attach-attached", False, "rtl8139",
     dict(config=True, hotplug_require="no")),
]


@pytest.mark.parametrize("suffix,point,running,model,options", CRASHES,
                         ids=[c[0] for c in CRASHES])
def test_killed_during_attach(bus, workdir, domains, suffix, point, running, model, options):
    svc = Service(bus, workdir)
    svc.start()
    try:
        dom = domains.new_q35(suffix)
        skdaemon.settled(dom)
    finally:
        svc.stop()
    if running:
        dom.create()
    mac = "52:54:00:d7:f2:%02x" % [c[0] for c in CRASHES].index(suffix)
    before = inactive_xml(dom)

    svc = start_crashing(bus, workdir, point, dom.name())
    client = skdaemon.Client(bus)
    try:
        expect_killed(svc, lambda: client.attach(dom.name(), nic(model, mac), **options),
                      may_answer=point.startswith("reconcile-"))
    finally:
        client.close()
        svc.stop(check=False)

    # What the crash left: the device once or not at all, at one address in both definitions.
    config = inactive_xml(dom)
    attached = point in ("attach-attached", "reconcile-before-define", "reconcile-defined")
    assert count_macs(config, mac) == (1 if attached else 0), config
    if running:
        live = live_xml(dom)
        assert count_macs(live, mac) == 1, live
        assert device_address(live, mac) == device_address(config, mac)
    key = f"interface mac={mac}"
    if options.get("hotplug_require") == "no":
        # The record is written before the attach, so no crash loses it.
        assert no_hotplug_keys(config) == [key], config
    if point == "attach-controllers-defined":
        assert "pcie-to-pci-bridge" in skdaemon.models(config)
        assert "pcie-to-pci-bridge" not in skdaemon.models(before)

    # A restart repairs the rest: spares back to the policy, nothing lost or doubled.
    svc = Service(bus, workdir)
    svc.start()
    client = skdaemon.Client(bus)
    try:
        config = converged(dom)
        assert count_macs(config, mac) == (1 if attached else 0), config
        if running:
            live = live_xml(dom)
            assert count_macs(live, mac) == 1
            assert device_address(live, mac) == device_address(config, mac)
            assert device_address(live, mac) is not None
        if not attached:
            # The client saw no reply and tries again: the device arrives once.
            _, address = client.attach(dom.name(), nic(model, mac), **options)
            config = converged(dom)
            assert count_macs(config, mac) == 1
            assert device_address(config, mac) == skdaemon.parse_addr(address)
        if options.get("hotplug_require") == "no":
            assert no_hotplug_keys(config) == [key], config
    finally:
        client.close()
        svc.stop()


# ---- a domain vanishes while requests for it wait -----------------------------------------


def blocking_detach(client, dom, mac):
    """Starts a live detach a guest with no OS never acknowledges (libvirt waits ~5 s)."""
    call = manager_call(client, "DetachDevice", "(ssa{sv})", dom.name(), nic("virtio", mac),
                        skdaemon.opts(live=True))
    client.pump(0.3)
    assert call.reply is None, f"the detach did not block: {call.reply}"
    return call


def errors_of(replies):
    return [(r[1].removeprefix(skdaemon.ERROR_PREFIX), r[2]) if r[0] == "error" else r
            for r in replies]


def wait_unexported(client, path):
    deadline = time.monotonic() + 10
    while path in client.managed_objects() and time.monotonic() < deadline:
        client.pump(0.2)
    assert path not in client.managed_objects(), f"{path} is still exported"


@pytest.mark.parametrize("how", ["undefined", "destroyed"])
def test_domain_vanishes_while_queued(bus, workdir, domains, how):
    """One worker, kept busy by another domain's slow call: the victim's requests wait in the
    queue while it vanishes, then run and must fail cleanly; the others' succeed."""
    svc = Service(bus, workdir)
    with open(svc.config, "a") as f:
        f.write("[service]\nworkers=1\n")
    svc.start()
    client = skdaemon.Client(bus)
    try:
        blocker = domains.new_q35("q-blk-" + how)
        victim = domains.new_q35("q-victim-" + how)
        bystander = domains.new_q35("q-by-" + how)
        for dom in (blocker, victim, bystander):
            skdaemon.settled(dom)
        blocker.create()
        victim.create()
        base = 0x40 if how == "undefined" else 0x50
        mac = "52:54:00:d7:f3:%02x" % base
        client.attach(blocker.name(), nic("virtio", mac), live=True)

        slow = blocking_detach(client, blocker, mac)
        path = skdaemon.domain_path(victim.UUIDString())
        queued = [
            manager_call(client, "AttachDevice", "(ssa{sv})", victim.name(),
                         nic("virtio", "52:54:00:d7:f3:%02x" % (base + 1)),
                         skdaemon.opts(live=True)),
            AsyncCall(client, path, skdaemon.DOMAIN_IFACE, "Plan", "(sa{sv})",
                      (nic("virtio", "52:54:00:d7:f3:%02x" % (base + 2)),
                       skdaemon.opts(live=True))),
            AsyncCall(client, path, skdaemon.DOMAIN_IFACE, "Reconcile", "(a{sv})", ({},)),
        ]
        by_mac = "52:54:00:d7:f3:%02x" % (base + 3)
        other = manager_call(client, "AttachDevice", "(ssa{sv})", bystander.name(),
                             nic("virtio", by_mac), skdaemon.opts(config=True))
        client.pump(0.3)
        assert slow.reply is None, "the worker was not busy while the domain vanished"
        victim.destroy()
        if how == "undefined":
            victim.undefine()

        slow.wait(60)
        replies = [call.wait(60) for call in queued]
        errors = errors_of(replies)
        if how == "undefined":
            assert [e[0] for e in errors] == ["NoSuchDomain"] * 3, errors
            wait_unexported(client, path)
        else:
            # A live change to a guest that is not running: a state error that says so.
            for kind, message in errors[:2]:
                assert kind == "Failed" and "not running" in message, errors
            # The shut-off domain is still defined: its reconcile is fine.
            assert replies[2][0] == "ok", errors
            assert path in client.managed_objects()
        # The request queued behind them for another domain is served.
        reply = other.wait(60)
        assert reply[0] == "ok", reply
        address = skdaemon.parse_addr(reply[1][1])
        assert device_address(inactive_xml(bystander), by_mac) == address
    finally:
        client.close()
        svc.stop()


def test_domain_vanishes_behind_its_own_call(service, client, domains):
    """The victim's own slow call is the one ahead; destroying the guest ends it, so whether a
    queued request still finds the domain (shut off) or not is a race: either way it fails
    with NoSuchDomain or a state error, and the domain's object goes."""
    victim = domains.new_q35("o-victim")
    other = domains.new_q35("o-other")
    for dom in (victim, other):
        skdaemon.settled(dom)
        dom.create()
    mac = "52:54:00:d7:f3:61"
    client.attach(victim.name(), nic("virtio", mac), live=True)
    slow = blocking_detach(client, victim, mac)
    path = skdaemon.domain_path(victim.UUIDString())
    queued = [
        manager_call(client, "AttachDevice", "(ssa{sv})", victim.name(),
                     nic("virtio", "52:54:00:d7:f3:62"), skdaemon.opts(live=True)),
        AsyncCall(client, path, skdaemon.DOMAIN_IFACE, "Plan", "(sa{sv})",
                  (nic("virtio", "52:54:00:d7:f3:63"), skdaemon.opts(live=True))),
    ]
    client.pump(0.3)
    victim.undefine()  # transient now: the destroy makes it vanish
    victim.destroy()

    # Another domain is served meanwhile.
    other_mac = "52:54:00:d7:f3:64"
    _, address = client.attach(other.name(), nic("virtio", other_mac), live=True, config=True)
    assert device_address(live_xml(other), other_mac) == skdaemon.parse_addr(address)
    assert device_address(inactive_xml(other), other_mac) == skdaemon.parse_addr(address)

    slow.wait(60)
    errors = errors_of([call.wait(60) for call in queued])
    for e in errors:
        assert e[0] == "NoSuchDomain" or (e[0] == "Failed" and "not running" in e[1]), errors
    wait_unexported(client, path)
    client.expect_error("NoSuchDomain", client.get_domain, victim.UUIDString())
