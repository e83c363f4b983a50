"""Load: per-domain serialization and a correct view under concurrency. Four booting q35 guests
(the test guest of tests/guest, so the guest OS acknowledges PCIe hot-unplug), eight clients
with their own D-Bus connections issuing 400 AttachDevice/DetachDevice calls (live+config) in
total across the guests, and a plain `virsh attach-device --live --config` with an explicit
free address (and its detach) racing on one of them. Asserted: every call is answered, no
address is handed out twice while its holder still has it, libvirt never reports "Attempted
double use of PCI Address", every reply agrees with libvirt's XML, and at the end the live and
persistent device sets of every guest are equal to what the successful operations leave.
"""

import os
import random
import subprocess
import tempfile
import threading
import time
import traceback
import xml.etree.ElementTree as ET

import pytest

import skdaemon
from skdaemon import PREFIX, Topology, device_address, free_ports, inactive_xml, live_xml, nic
from skguest import BOOT_TIMEOUT, SerialLog, guest_xml

GUESTS = 4
CLIENTS = 8
OPS = 400  # AttachDevice + DetachDevice calls of the clients, in total
SPARES = 8  # per guest: 4 clients x 1 device + the racer's, with room to spare
GUEST_MIB = 160  # 4 TCG guests on a 2-core host: keep them small
CALL_TIMEOUT = 60  # a call unanswered for this long counts as lost
DOUBLE_USE = "double use of PCI Address"
INF = float("inf")
LIBVIRTD_LOG = "/var/log/libvirt/libvirtd.log"


def nic_mac(xml):
    return ET.fromstring(xml).find("mac").get("address")


def nic_set(xml):
    """{mac: address} of every <interface> of a domain XML."""
    out = {}
    for iface in ET.fromstring(xml).findall("devices/interface"):
        mac = iface.find("mac").get("address").lower()
        out[mac] = device_address(xml, mac)
    return out


class Recorder:
    """Every call and its outcome, and every holding of an address: a device surely held it
    from its attach's reply to the start of its detach (libvirt did the attach before the
    reply and cannot have done the detach before it was asked), and may have held it from the
    start of the attach call to the detach's reply."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []  # (who, op, guest, mac, start, end, outcome, detail)
        self.held = {}  # (guest, address) -> [(mac, attach start, attach end, detach start,
        #                                          detach end)]
        self.problems = []
        self.lost_races = []  # the racer's attaches refused for an address a device held

    def call(self, who, op, guest, mac, start, end, outcome, detail=""):
        with self.lock:
            self.calls.append((who, op, guest, mac, start, end, outcome, detail))
            if DOUBLE_USE in detail and who != "virsh":
                self.problems.append(f"{who} {op} {guest} {mac}: {detail}")

    def hold(self, guest, address, mac, attach_start, attach_end, detach_start, detach_end):
        with self.lock:
            self.held.setdefault((guest, address), []).append(
                (mac, attach_start, attach_end, detach_start, detach_end))

    def racer_refused(self, guest, address, start, end, detail):
        """The racer chose an address free when it looked; libvirt refused it as in use. That
        is only right if some device may have held the address while virsh ran."""
        with self.lock:
            holders = [h for h in self.held.get((guest, address), [])
                       if h[1] < end and h[4] > start]
            if holders:
                self.lost_races.append((guest, address, holders[0][0]))
            else:
                self.problems.append(f"virsh was refused {address} on {guest} though no "
                                     f"device held it: {detail}")

    def problem(self, text):
        with self.lock:
            self.problems.append(text)

    def overlaps(self):
        out = []
        for (guest, address), spans in self.held.items():
            spans = sorted(spans, key=lambda s: s[2])
            for a, b in zip(spans, spans[1:]):
                if b[2] < a[3]:
                    out.append(f"{guest} {address}: {a[0]} held it until {a[3]:.3f}, "
                               f"{b[0]} was given it at {b[2]:.3f}")
        return out


def recorded(rec, fn):
    """@fn for a thread: an exception in it becomes a recorded problem, not a silent end."""

    def run(*args):
        try:
            fn(*args)
        except Exception:
            rec.problem(f"{fn.__name__}{args[:1]} died:\n{traceback.format_exc()}")

    return run


def load_client(index, bus_address, guests, rec, ops, stop):
    """One client: attach a NIC (live+config) to one of its two guests, check the reply against
    libvirt's XML, detach it, alternate guests; @ops calls in total."""
    Gio, GLib = skdaemon.gio()
    conn = Gio.DBusConnection.new_for_address_sync(
        bus_address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
        | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    lv = skdaemon.open_libvirt()
    rng = random.Random(index)
    mine = [guests[index % GUESTS], guests[(index + 1) % GUESTS]]
    options = skdaemon.opts(live=True, config=True)

    def call(method, name, xml, reply):
        params = GLib.Variant("(ssa{sv})", (name, xml, options))
        rtype = GLib.VariantType.new(reply) if reply else None
        start = time.monotonic()
        try:
            res = conn.call_sync(skdaemon.BUS_NAME, skdaemon.MANAGER_PATH,
                                 skdaemon.MANAGER_IFACE, method, params, rtype,
                                 Gio.DBusCallFlags.NONE, CALL_TIMEOUT * 1000, None)
            outcome, detail = "ok", res.unpack()
        except GLib.Error as e:
            remote = Gio.DBusError.get_remote_error(e)
            outcome, detail = (remote or "local:" + str(e.code)), e.message
        end = time.monotonic()
        rec.call(f"client{index}", method, name, nic_mac(xml), start, end, outcome,
                 detail if outcome != "ok" else "")
        return outcome, detail, start, end

    done = 0
    seq = 0
    try:
        while done < ops and not stop.is_set():
            name = mine[seq % 2]
            seq += 1
            mac = f"52:54:00:5c:{index:02x}:{seq:02x}"
            dev = nic("virtio", mac)
            outcome, detail, attach_start, attached = call("AttachDevice", name, dev, "(ss)")
            done += 1
            if outcome != "ok":
                continue
            address = skdaemon.parse_addr(detail[1])
            dom = lv.lookupByName(name)
            for what, xml in (("live", live_xml(dom)), ("persistent", inactive_xml(dom))):
                got = device_address(xml, mac)
                if got != address:
                    rec.problem(f"{name} {mac}: reply {detail[1]}, {what} XML has {got}")
            time.sleep(rng.uniform(0, 0.2))
            if done >= ops:
                rec.hold(name, address, mac, attach_start, attached, INF, INF)
                break
            outcome, _, detach_start, detached = call("DetachDevice", name, dev, None)
            done += 1
            if outcome != "ok":
                detach_start = detached = INF
            rec.hold(name, address, mac, attach_start, attached, detach_start, detached)
    finally:
        lv.close()
        conn.close_sync(None)


def foreign_defines(service, names):
    """{guest: number of times} its persistent definition was replaced (a DEFINED/UPDATED
    event) without this service saying it changed it: another program defined it."""
    with open(service.log_path, errors="replace") as f:
        log = f.read()
    out = {}
    for name in names:
        events = log.count(f"domain {name}: lifecycle event 0 detail 1\n")
        own = log.count(f"to the persistent definition of '{name}'\n")
        if events > own:
            out[name] = events - own
    return out


def virsh(*args):
    return subprocess.run(["virsh", "-q", "-c", skdaemon.URI, *args], capture_output=True,
                          text=True, timeout=CALL_TIMEOUT)


def racer(name, rec, stop, workdir, refused):
    """A plain virsh attach-device --live --config at a free address (free in both the live and
    the persistent definition when it looked), then its detach, until @stop."""
    lv = skdaemon.open_libvirt()
    dom = lv.lookupByName(name)
    rng = random.Random(99)
    seq = 0
    try:
        while not stop.is_set():
            seq += 1
            mac = f"52:54:00:5d:00:{seq:02x}"
            live, config = live_xml(dom), inactive_xml(dom)
            ports = sorted(set(free_ports(live)) & set(free_ports(config)))
            if not ports:
                time.sleep(0.2)
                continue
            bus = rng.choice(ports)
            xml = nic("virtio", mac).replace(
                "</interface>", f"<address type='pci' domain='0x0000' bus='{bus:#04x}' "
                "slot='0x00' function='0x0'/></interface>")
            path = os.path.join(workdir, f"racer-{seq}.xml")
            with open(path, "w") as f:
                f.write(xml)
            start = time.monotonic()
            proc = virsh("attach-device", name, path, "--live", "--config")
            end = time.monotonic()
            outcome = "ok" if proc.returncode == 0 else "virsh-error"
            rec.call("virsh", "attach-device", name, mac, start, end, outcome,
                     proc.stderr.strip())
            address = (0, bus, 0, 0)
            if outcome != "ok":
                if DOUBLE_USE in proc.stderr:
                    refused.append((address, start, end, proc.stderr.strip()))
                time.sleep(0.1)
                continue
            time.sleep(rng.uniform(0.1, 0.5))
            detach_start = time.monotonic()
            proc = virsh("detach-device", name, path, "--live", "--config")
            detached = time.monotonic()
            outcome = "ok" if proc.returncode == 0 else "virsh-error"
            rec.call("virsh", "detach-device", name, mac, detach_start, detached, outcome,
                     proc.stderr.strip())
            if outcome != "ok":
                detach_start = detached = INF
            rec.hold(name, address, mac, start, end, detach_start, detached)
    finally:
        lv.close()


@pytest.fixture
def guests(conn, domains, guest_files, client):
    """GUESTS managed test guests with SPARES spare ports each, booted and reporting."""
    doms = []
    logs = []
    for i in range(GUESTS):
        suffix = f"load{i}"
        name = PREFIX + suffix
        serial = os.path.join(guest_files, suffix + ".log")
        if os.path.exists(serial):
            os.unlink(serial)
        xml = guest_xml(name, guest_files, serial, memory_mib=GUEST_MIB,
                        metadata=skdaemon.metadata(**{'spare-ports': SPARES}))
        doms.append(domains.define(xml))
        logs.append(SerialLog(serial))
    for dom in doms:
        skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= SPARES, f"{SPARES} spares")
    for dom in doms:
        skdaemon.wait_stable(dom, seconds=2)
        dom.create()
    for log in logs:
        log.wait(lambda b: b, BOOT_TIMEOUT, "a guest's first PCI device list")
    yield doms
    for dom in doms:
        try:
            dom.destroy()
        except Exception:
            pass


def test_concurrent_clients_and_plain_virsh(guests, bus, service, workdir):
    names = [d.name() for d in guests]
    before = {d.name(): (nic_set(live_xml(d)), nic_set(inactive_xml(d))) for d in guests}
    try:
        log_offset = os.path.getsize(LIBVIRTD_LOG)
    except OSError:
        log_offset = None
    rec = Recorder()
    stop = threading.Event()
    racer_dir = tempfile.mkdtemp(prefix="skdt-racer-", dir=workdir)
    per_client = OPS // CLIENTS
    threads = [threading.Thread(target=recorded(rec, load_client),
                                args=(i, bus.address, names, rec, per_client, stop))
               for i in range(CLIENTS)]
    refused = []  # the racer's attaches that libvirt refused as a double use
    race = threading.Thread(target=recorded(rec, racer),
                            args=(names[0], rec, stop, racer_dir, refused))
    started = time.monotonic()
    race.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    stop.set()
    race.join(timeout=120)
    elapsed = time.monotonic() - started
    assert not any(t.is_alive() for t in threads + [race]), "a client is stuck"
    assert not [p for p in rec.problems if " died:" in p], "\n".join(rec.problems)

    client_calls = [c for c in rec.calls if c[0].startswith("client")]
    virsh_calls = [c for c in rec.calls if c[0] == "virsh"]
    failed = [c for c in client_calls if c[6] != "ok"]
    durations = sorted(c[5] - c[4] for c in client_calls)
    summary = (f"{len(client_calls)} service calls in {elapsed:.1f}s "
               f"(median {durations[len(durations) // 2] * 1000:.0f} ms, "
               f"max {durations[-1] * 1000:.0f} ms), {len(failed)} failed; "
               f"{len(virsh_calls)} virsh calls, "
               f"{sum(1 for c in virsh_calls if c[6] != 'ok')} failed")
    print(summary)
    for c in failed + [c for c in virsh_calls if c[6] != "ok"]:
        print("  failed:", c)
        # Everything that happened to that MAC's guest around then.
        for d in sorted(rec.calls, key=lambda d: d[4]):
            if d[2] == c[2] and abs(d[4] - c[4]) < 3:
                print(f"    {d[4] - c[4]:+.3f}..{d[5] - c[4]:+.3f} {d[0]} {d[1]} {d[3]} {d[6]}")
    for p in rec.problems:
        print("  problem:", p)
    foreign = foreign_defines(service, names)
    if foreign:
        summary += (f"; the guests were redefined by another program during the test "
                    f"{foreign} (another slotkeeperd on this host? a define from a stale read "
                    "drops devices attached meanwhile)")
        print(summary)

    # The race happened: virsh attached and detached on the guest while the clients ran.
    assert sum(1 for c in virsh_calls if c[1] == "attach-device" and c[6] == "ok") >= 5, summary
    # Every call answered: none of them timed out or lost its connection.
    assert len(client_calls) == OPS, summary
    lost = [c for c in client_calls if c[6].startswith("local:")
            or c[6] in ("org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Timeout")]
    assert not lost, f"unanswered calls: {lost}"
    # Each guest has enough ports for every client's device at once, so a refusal is a defect.
    assert not failed, f"{summary}: {failed[:5]}"
    # The racer is not coordinated with the service: libvirt may refuse its address because a
    # client got it between virsh reading the XML and attaching. That is right only when some
    # device held that address meanwhile.
    for address, start, end, detail in refused:
        rec.racer_refused(names[0], address, start, end, detail)
    print(f"the racer lost {len(rec.lost_races)} races: {rec.lost_races}")
    assert not rec.problems, "\n".join(rec.problems)
    overlaps = rec.overlaps()
    assert not overlaps, "an address was handed out twice:\n" + "\n".join(overlaps)
    if log_offset is not None:
        with open(LIBVIRTD_LOG, errors="replace") as f:
            f.seek(log_offset)
            bad = [line for line in f if DOUBLE_USE in line]
        # Only the racer's lost races (checked above) may be there.
        assert len(bad) <= len(refused), "libvirtd logged:\n" + "".join(bad[:5])
    assert DOUBLE_USE not in service.log()

    # What the successful operations leave: what each guest had, plus the NICs attached and
    # not detached again.
    expected = {n: set(before[n][0]) for n in names}
    for who, op, name, mac, start, end, outcome, _ in sorted(rec.calls, key=lambda c: c[5]):
        if outcome != "ok":
            continue
        if op in ("AttachDevice", "attach-device"):
            expected[name].add(mac)
        else:
            expected[name].discard(mac)
    for dom in guests:
        name = dom.name()
        deadline = time.monotonic() + 60
        while True:
            live, config = nic_set(live_xml(dom)), nic_set(inactive_xml(dom))
            # A live detach finishes when the guest acknowledges it, maybe after the reply.
            if set(live) == expected[name] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert set(live) == expected[name], f"{name}: live {sorted(live)}"
        assert set(config) == expected[name], f"{name}: persistent {sorted(config)}"
        assert {m: live[m] for m in expected[name]} == {m: config[m] for m in expected[name]}, \
            f"{name}: live and persistent addresses differ"
        # The service still has its spares in the next-boot definition and a sane topology.
        Topology(inactive_xml(dom))
