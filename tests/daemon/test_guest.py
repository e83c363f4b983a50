"""The guest's own view of what the service did: a q35 TCG guest booting Debian's cloud kernel
with a busybox initramfs that prints its PCI devices on the serial console whenever they change
(tests/guest/build-guest.sh). A device the service attached appears exactly where the reply
says, in the guest too; a live+config detach removes it from the guest and both definitions."""

import os
import re
import subprocess

import pytest

import skdaemon
from skdaemon import PREFIX, Topology, device_address, free_ports, inactive_xml, live_xml, nic
from skguest import (BOOT_TIMEOUT, HOTPLUG_TIMEOUT, REALTEK_VENDOR, VIRTIO_VENDOR, SerialLog,
                     devices_at, guest_xml, sysfs_path)


@pytest.fixture
def booted(conn, domains, guest_files, client):
    """booted(suffix) -> (domain, serial log, first PCI list): a managed guest with its spares,
    started and reporting its PCI devices."""

    def make(suffix):
        name = PREFIX + suffix
        serial = os.path.join(guest_files, suffix + ".log")
        if os.path.exists(serial):
            os.unlink(serial)
        dom = domains.define(guest_xml(name, guest_files, serial, metadata=skdaemon.metadata()))
        skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= skdaemon.SPARE_PORTS, "spares")
        skdaemon.wait_stable(dom)
        dom.create()
        log = SerialLog(serial)
        first = log.wait(lambda b: b, BOOT_TIMEOUT, "the guest's first PCI device list")
        return dom, log, first

    return make


def test_virtio_attach_and_detach_seen_by_guest(booted, client, workdir):
    dom, log, first = booted("g-virtio")
    name = dom.name()
    # A plain live-only attach first, so that live and persistent free ports differ.
    path = os.path.join(workdir, "plain-nic.xml")
    with open(path, "w") as f:
        f.write(nic("virtio", "52:54:00:d7:40:01"))
    proc = subprocess.run(["virsh", "-c", skdaemon.URI, "attach-device", name, path, "--live"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr

    mac = "52:54:00:d7:40:02"
    _, address = client.attach(name, nic("virtio", mac), live=True, config=True)
    addr = skdaemon.parse_addr(address)
    assert device_address(live_xml(dom), mac) == addr
    assert device_address(inactive_xml(dom), mac) == addr
    topo = Topology(live_xml(dom))
    pattern = sysfs_path(topo, addr)
    log.wait(lambda b: devices_at(b, pattern, VIRTIO_VENDOR), HOTPLUG_TIMEOUT,
             f"the virtio NIC at {pattern.pattern} in the guest")

    client.detach(name, nic("virtio", mac), live=True, config=True)
    skdaemon.wait_xml(dom, lambda x: device_address(x, mac) is None,
                      "the NIC to leave the live definition", timeout=HOTPLUG_TIMEOUT, live=True)
    assert device_address(inactive_xml(dom), mac) is None
    log.wait(lambda b: not devices_at(b, pattern, VIRTIO_VENDOR), HOTPLUG_TIMEOUT,
             "the virtio NIC to leave the guest")
    assert addr[1] in free_ports(live_xml(dom)), "the port is not free again (live)"
    assert addr[1] in free_ports(inactive_xml(dom)), "the port is not free again (persistent)"
    path_ = skdaemon.domain_path(dom.UUIDString())
    live_free = len(free_ports(live_xml(dom)))
    client.wait_property(path_, "FreeHotplugSlots", lambda v: v.get("pcie") == live_free)


def test_rtl8139_refused_then_seen_behind_bridge_after_cold_boot(booted, client):
    dom, log, first = booted("g-rtl")
    name = dom.name()
    mac = "52:54:00:d7:41:01"
    err = client.expect_error("NoFreeSlot", client.attach, name, nic("rtl8139", mac),
                              live=True, config=True)
    assert re.search(r"shut (it )?down|restart|cold boot|next boot", err.message, re.I), \
        err.message
    assert "pcie-to-pci-bridge" in skdaemon.models(inactive_xml(dom))

    dom.destroy()
    if os.path.exists(log.path):
        os.unlink(log.path)
    dom.create()
    log.wait(lambda b: b, BOOT_TIMEOUT, "the guest's PCI list after the cold boot")
    _, address = client.attach(name, nic("rtl8139", mac), live=True, config=True)
    addr = skdaemon.parse_addr(address)
    topo = Topology(live_xml(dom))
    assert topo.model(addr[1]) == "pcie-to-pci-bridge", address
    assert device_address(inactive_xml(dom), mac) == addr
    pattern = sysfs_path(topo, addr)
    log.wait(lambda b: devices_at(b, pattern, REALTEK_VENDOR), HOTPLUG_TIMEOUT,
             f"the rtl8139 at {pattern.pattern} in the guest")
