"""Every promise, every time, on real guests: a refused or failed attach or detach leaves the
running and persistent XML byte for byte as they were (except the one documented case, whose
message names what it added), a live detach the guest never acknowledges is answered
DetachPending and its slot stays taken, limits are the same everywhere, and the CLI speaks in
CLI words."""

import os
import time

import pytest

import skclient
import skdaemon
from skdaemon import SPARE_PORTS, device_address, free_ports, inactive_xml, live_xml, nic

# libvirt waits 5 s for a guest to release a device; the service waits this much more.
DETACH_TIMEOUT = 1


@pytest.fixture(scope="module")
def service(bus, workdir, conn):
    s = skdaemon.Service(bus, workdir)
    with open(s.config, "a") as f:
        f.write(f"[service]\ndetach-timeout-seconds={DETACH_TIMEOUT}\n")
    s.start()
    yield s
    s.stop()



def settled(dom):
    skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= SPARE_PORTS, "spares")
    return skdaemon.wait_stable(dom)


@pytest.fixture(scope="module")
def running(domains, service):
    """A running q35 guest with nothing to boot: it never acknowledges a hot-unplug."""
    dom = domains.new_q35("refuse", extra_devices=nic("virtio", "52:54:00:d7:e0:01"))
    settled(dom)
    dom.create()
    skdaemon.wait_stable(dom)
    return dom


@pytest.fixture(scope="module")
def stopped(domains, service):
    dom = domains.new_q35("refuse-off")
    settled(dom)
    return dom


def unchanged(dom, fn, error):
    """@fn must fail with @error and leave both definitions byte for byte as they were."""
    live0 = live_xml(dom) if dom.isActive() else None
    conf0 = skdaemon.wait_stable(dom, seconds=1)
    e = fn()
    assert e.name == skdaemon.ERROR_PREFIX + error, (e.name, e.message)
    time.sleep(0.5)  # anything handed on after the reply
    assert inactive_xml(dom) == conf0, f"{error}: the persistent definition changed"
    if live0 is not None:
        assert live_xml(dom) == live0, f"{error}: the running definition changed"
    return e


REFUSALS = [
    # (id, guest, device XML, options, error name, words in the message)
    ("pci-controller", "running", "<controller type='pci' model='pcie-root-port'/>",
     dict(config=True), "InvalidDevice", ["policy", "--spare-ports", "reserve"]),
    ("scsi-controller", "running", "<controller type='scsi' model='virtio-scsi'/>",
     dict(live=True, config=True), "InvalidDevice", ["controller"]),
    ("require-no-live", "running", nic("e1000", "52:54:00:d7:e0:02"),
     dict(live=True, config=True, hotplug_require="no"), "NoFreeSlot", ["--config"]),
    ("malformed", "running", "<interface type='user'><model type='virtio'/>",
     dict(live=True), "InvalidXml", ["line"]),
    ("unknown-element", "running", "<frobnicator/>", dict(live=True), "InvalidDevice",
     ["frobnicator"]),
    ("address-taken", "running",
     "<interface type='user'><mac address='52:54:00:d7:e0:03'/><model type='virtio'/>"
     "<address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x0'/></interface>",
     dict(live=True, config=True), "InvalidAddress", ["0000:00:1f.0"]),
    ("live-on-shut-off", "stopped", nic("virtio", "52:54:00:d7:e0:04"), dict(live=True),
     "Failed", ["not running", "--config"]),
    # libvirt refuses the device after slotkeeper planned a bridge chain for it: the chain goes.
    ("libvirt-refuses", "stopped",
     "<interface type='user'><mac address='zz:zz:zz'/><model type='rtl8139'/></interface>",
     dict(config=True), "InvalidDevice", ["mac"]),
    # The documented case, with a device libvirt does not take: nothing may be kept either.
    ("libvirt-refuses-live", "running",
     "<interface type='user'><mac address='zz:zz:zz'/><model type='rtl8139'/></interface>",
     dict(live=True, config=True), "InvalidDevice", ["mac"]),
    ("live-only-detach-missing", "running", nic("virtio", "52:54:00:d7:e0:99"), dict(live=True),
     None, []),
]


@pytest.mark.parametrize("guest,xml,options,error,words", [r[1:] for r in REFUSALS],
                         ids=[r[0] for r in REFUSALS])
def test_refusal_changes_nothing(client, running, stopped, guest, xml, options, error, words):
    dom = running if guest == "running" else stopped
    if error is None:
        # Detaching a device that is not there: libvirt's own refusal.
        e = unchanged(dom, lambda: client.expect_error("InvalidDevice", client.detach,
                                                       dom.name(), xml, **options),
                      "InvalidDevice")
    else:
        e = unchanged(dom, lambda: client.expect_error(error, client.attach, dom.name(), xml,
                                                       **options), error)
    for word in words:
        assert word.lower() in e.message.lower(), (word, e.message)


def test_transient_refusal_advises_nothing_refused(client, domains, conn):
    """No free slot on a transient guest: the advice is not --config, which it would refuse."""
    name = skdaemon.PREFIX + "refuse-transient"
    domains.names.add(name)
    port = "<controller type='pci' index='1' model='pcie-root-port'/>"
    dom = conn.createXML(skdaemon.q35_xml(name, extra_devices=port), 0)
    path = skdaemon.domain_path(dom.UUIDString())
    client.wait_property(path, "State", lambda v: v == "running")
    client.attach(name, nic("virtio", "52:54:00:d7:e1:01"), live=True)
    e = unchanged(dom, lambda: client.expect_error("NoFreeSlot", client.attach, name,
                                                   nic("virtio", "52:54:00:d7:e1:02"),
                                                   live=True), "NoFreeSlot")
    assert "--config" not in e.message, e.message
    assert "transient" in e.message, e.message
    dom.destroy()


def test_unacknowledged_detach_is_pending(client, cli, running, workdir):
    """The guest (SeaBIOS only) never releases a NIC: DetachPending, the NIC stays in the
    running definition, its slot stays taken; the persistent definition lost it as asked."""
    path = skdaemon.domain_path(running.UUIDString())
    macs = ["52:54:00:d7:e0:10", "52:54:00:d7:e0:11"]
    addresses = [client.attach(running.name(), nic("virtio", m), live=True, config=True)[1]
                 for m in macs]
    free_before = client.properties(path)["FreeHotplugSlots"]["pcie"]
    started = time.monotonic()
    e = client.expect_error("DetachPending", client.detach, running.name(),
                            nic("virtio", macs[0]), live=True, config=True)
    assert time.monotonic() - started < 5 + DETACH_TIMEOUT + 10
    assert "still attached" in e.message and "persistent definition" in e.message, e.message
    assert device_address(live_xml(running), macs[0]) == skdaemon.parse_addr(addresses[0])
    assert device_address(inactive_xml(running), macs[0]) is None
    assert client.properties(path)["FreeHotplugSlots"]["pcie"] == free_before
    # The CLI says the same about the other one, in one line, and fails.
    dev = os.path.join(workdir, "pending-nic.xml")
    with open(dev, "w") as f:
        f.write(nic("virtio", macs[1]))
    proc = cli("detach-device", running.name(), dev, "--live")
    assert proc.returncode == 1, proc
    assert "still attached" in proc.stderr and proc.stdout == "", proc
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert device_address(live_xml(running), macs[1]) == skdaemon.parse_addr(addresses[1])


def test_spare_target_above_the_cap(client, cli, stopped):
    """x86_64 guests have at most 14 root ports: 20 spares are refused, with the cap named;
    the allowed range is the same in the CLI and over D-Bus."""
    before = inactive_xml(stopped)
    e = client.expect_error("InvalidArgument", client.set_policy, stopped.name(),
                            spare_ports=20)
    assert "14" in e.message and "root-port-cap" in e.message, e.message
    e = client.expect_error("InvalidArgument", client.set_policy, stopped.name(),
                            spare_ports=65)
    proc = cli("policy", stopped.name(), "--spare-ports", "65")
    assert proc.returncode == 2
    assert e.message in proc.stderr, (e.message, proc.stderr)
    assert inactive_xml(stopped) == before


def test_cli_words_and_ids(cli, running, stopped, workdir):
    dev = os.path.join(workdir, "words-nic.xml")
    with open(dev, "w") as f:
        f.write(nic("virtio", "52:54:00:d7:e0:20"))
    proc = cli("attach-device", stopped.name(), dev, "--live")
    assert proc.returncode == 1 and "--config" in proc.stderr, proc.stderr
    assert "config option" not in proc.stderr
    # Swapped arguments: a usage error saying which is which.
    proc = cli("attach-device", dev, stopped.name())
    assert proc.returncode == 2 and "DOMAIN, then DEVICE.xml" in proc.stderr, proc.stderr
    # A running domain by its id, as virsh allows; the same tree as by name.
    by_id = cli("slots", str(running.ID()), "--json")
    by_name = cli("slots", running.name(), "--json")
    assert by_id.returncode == 0, by_id.stderr
    assert by_id.stdout == by_name.stdout
    # -q / --no-legend: the table alone.
    quiet = cli("-q", "list")
    assert quiet.returncode == 0 and not quiet.stdout.startswith("NAME"), quiet.stdout
    assert running.name() in quiet.stdout
    assert cli("list", "--no-legend").stdout == quiet.stdout


def test_unreachable_uri_is_visible(workdir):
    """A mistyped URI: the service keeps retrying, and says why to every client - list and
    status fail with libvirt's reason instead of printing "no domains"."""
    bus = skdaemon.PrivateBus()
    run = skclient.cli_runner(bus)
    svc = skdaemon.Service(bus, os.path.join(workdir))
    svc.extra_args = ["--connect", "qemu:///sesion"]
    svc.start()
    try:
        for verb in ("list", "status"):
            proc = run(verb)
            assert proc.returncode == 1, (verb, proc)
            assert "not connected to qemu:///sesion" in proc.stderr, (verb, proc.stderr)
            assert "no domains" not in proc.stdout
        props = skdaemon.Client(bus).properties(skdaemon.MANAGER_PATH, skdaemon.MANAGER_IFACE)
        assert props["Connected"] is False and "qemu:///sesion" in props["ConnectError"], props
    finally:
        svc.stop()
        bus.close()
