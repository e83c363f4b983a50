"""Nothing implicit (issue 10, item 2), on the real libvirtd through the service: a SCSI disk
attached to a q35 guest without a SCSI controller brings the SCSI controller that libvirt would
otherwise add by itself at an address of its own choosing (lsilogic, behind a pcie-to-pci-bridge
that takes a spare root port, without a word). The service names it in the plan, attaches it
explicitly where the plan said, and the disk refers to it; nothing else takes a slot."""

import os
import shutil
import xml.etree.ElementTree as ET

import pytest

import skdaemon
import skguest
import skpci
from skdaemon import (Topology, free_ports, inactive_xml, live_xml, models, parse_addr, q35_xml,
                      PREFIX)


@pytest.fixture(scope="module")
def images():
    """A directory QEMU (libvirt-qemu) can read, for the disk images."""
    path = skguest.scratch_dir("skdt-img-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def scsi_disk(path, target="sda"):
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{path}'/><target dev='{target}' bus='scsi'/></disk>")


def plan(client, name, xml, **options):
    return client.manager("Plan", "(ssa{sv})", name, xml, skdaemon.opts(**options),
                          reply="(a{sv})")[0]


def scsi_controllers(xml):
    """{index: (model, PCI address or None)} of the SCSI controllers."""
    out = {}
    for c in ET.fromstring(xml).findall("devices/controller[@type='scsi']"):
        out[int(c.get("index"))] = (c.get("model"), skpci.pci_address(c))
    return out


def disk_drive(xml, target):
    for d in ET.fromstring(xml).findall("devices/disk"):
        if d.find("target").get("dev") == target:
            a = d.find("address")
            assert a is not None and a.get("type") == "drive", ET.tostring(d, encoding="unicode")
            return tuple(int(a.get(k)) for k in ("controller", "bus", "target", "unit"))
    return None


def free_slots(xml):
    """Every free hotplug-capable slot: root ports and bridge slots."""
    topo = Topology(xml)
    return {(p, 0) for p in topo.free_ports()} | set(topo.free_pci_slots())


def settled(domains, suffix, policy=None):
    """A managed q35 guest (no SCSI controller) once the service has given it its spares."""
    dom = domains.define(q35_xml(PREFIX + suffix, policy=policy))
    want_bridge = (policy or {}).get("legacy-bridge") == "eager"
    skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= skdaemon.SPARE_PORTS and
                      (not want_bridge or "pcie-to-pci-bridge" in models(x)),
                      "the service's spares" + (" and legacy chain" if want_bridge else ""))
    skdaemon.wait_stable(dom)
    assert not scsi_controllers(inactive_xml(dom))
    return dom


def test_scsi_disk_live_and_config(client, domains, images):
    """Live and persistent: the lsilogic controller goes where the plan said, in both
    definitions, before the disk, which names it; no other slot is used."""
    dom = settled(domains, "scsi-both", policy={"legacy-bridge": "eager"})
    dom.create()
    name = dom.name()
    disk = scsi_disk(skguest.make_image(os.path.join(images, "both.img")))
    # A NIC for the next boot takes the first bridge slot in the persistent definition only,
    # so the first free slot differs between the two: libvirt left to itself would put the
    # controller at different addresses in each (it chooses them independently).
    client.attach(name, skdaemon.nic("e1000", "52:54:00:d7:b0:01"), config=True)
    assert skdaemon.device_address(inactive_xml(dom), "52:54:00:d7:b0:01")[2] == 1

    p = plan(client, name, disk, live=True, config=True)
    assert p["ok"], p
    assert "address" not in p and p["connection"] == "none", p
    assert len(p["companions"]) == 1, p
    comp = p["companions"][0]
    assert (comp["type"], comp["index"], comp["model"]) == ("scsi", 0, "lsilogic"), comp
    assert comp["live"] and comp["config"], comp
    assert p["controllers"] == [], "the running guest has a bridge slot: nothing to add"
    where = parse_addr(comp["address"])
    live0, config0 = live_xml(dom), inactive_xml(dom)
    assert where in free_slots(live0) or (where[1], where[2]) in free_slots(live0)

    device_xml, address = client.attach(name, disk, live=True, config=True)
    assert address == ""
    assert "controller=\"0\"" in device_xml or "controller='0'" in device_xml, device_xml
    live1, config1 = live_xml(dom), inactive_xml(dom)
    for what, before, after in (("running", live0, live1), ("persistent", config0, config1)):
        ctrls = scsi_controllers(after)
        assert ctrls == {0: ("lsilogic", where)}, f"{what}: {ctrls}, plan said {comp}"
        assert disk_drive(after, "sda") == (0, 0, 0, 0), what
        skpci.assert_addresses_kept(before, after, f"{what} definition")
        # Nothing but the controller took a slot: the bridge slot it sits in is the only free
        # slot that went (the service may add spares to the persistent one, never use them).
        gone = free_slots(before) - free_slots(after)
        assert gone == {(where[1], where[2])}, f"{what}: slots taken: {gone}"
        new = set(skpci.address_map(after)) - set(skpci.address_map(before))
        assert {k for k in new if k[:2] != ("controller", "pci")} == \
            {("controller", "scsi", "0", None)}, f"{what}: new PCI elements {new}"
    # Live and persistent agree.
    assert scsi_controllers(live1) == scsi_controllers(config1)
    assert disk_drive(live1, "sda") == disk_drive(config1, "sda")


def test_scsi_disk_config_only_adds_the_chain_it_names(client, domains, images):
    """A shut-off guest without a bridge: the plan names the root port, the bridge and the
    controller on it, and libvirt's XML has exactly those (libvirt alone would also have added
    them, at addresses of its own and without a word)."""
    dom = settled(domains, "scsi-config")
    name = dom.name()
    disk = scsi_disk(os.path.join(images, "config.img"))  # a --config attach opens nothing
    p = plan(client, name, disk, config=True)
    assert p["ok"], p
    assert [c["model"] for c in p["controllers"]] == ["pcie-root-port", "pcie-to-pci-bridge"], p
    comp = p["companions"][0]
    where = parse_addr(comp["address"])
    bridge = p["controllers"][1]
    assert where[1] == bridge["index"], (comp, bridge)
    before = inactive_xml(dom)

    client.attach(name, disk, config=True)
    after = inactive_xml(dom)
    topo = Topology(after)
    assert scsi_controllers(after) == {0: ("lsilogic", where)}
    assert disk_drive(after, "sda") == (0, 0, 0, 0)
    for c in p["controllers"]:
        assert topo.model(c["index"]) == c["model"]
        assert skpci.fmt_addr(topo.controller_address(c["index"])) == c["address"]
    skpci.assert_addresses_kept(before, after, "persistent definition")
    # The root port the bridge sits in is the plan's own, not one of the spares.
    assert set(free_ports(before)) <= set(Topology(after).free_ports())


def test_scsi_disk_hotplug_require_no_on_pcie_root(client, domains, images):
    """hotplug-require=no: the controller sits on pcie-root, no bridge, no port; the service
    remembers that, so the lazy policy adds no legacy chain for it afterwards."""
    dom = settled(domains, "scsi-noreq")
    name = dom.name()
    disk = scsi_disk(os.path.join(images, "noreq.img"))
    before = inactive_xml(dom)
    client.attach(name, disk, config=True, hotplug_require="no")
    client.reconcile(name)
    after = skdaemon.wait_stable(dom)
    (model, where), = scsi_controllers(after).values()
    assert where is not None and where[1] == 0, where
    assert "pcie-to-pci-bridge" not in models(after), "no chain for a require=no controller"
    assert set(free_ports(before)) == set(free_ports(after))
    meta = ET.tostring(ET.fromstring(after).find("metadata"), encoding="unicode")
    assert "controller type=scsi index=0" in meta, meta


def test_live_without_bridge_refused_and_nothing_left(client, domains, images):
    """No bridge slot in the running guest: NoFreeSlot naming the controller; the persistent
    definition gets the chain for the next boot (the service's documented exception), but
    neither the controller nor the disk (libvirt's check of the slot is undone)."""
    dom = settled(domains, "scsi-nobridge")
    dom.create()
    name = dom.name()
    disk = scsi_disk(skguest.make_image(os.path.join(images, "nobridge.img")))
    err = client.expect_error("NoFreeSlot", client.attach, name, disk, live=True, config=True)
    assert "lsilogic" in err.message, err.message
    config = inactive_xml(dom)
    assert "pcie-to-pci-bridge" in models(config), config
    assert not scsi_controllers(config), config
    assert disk_drive(config, "sda") is None
    assert not scsi_controllers(live_xml(dom))


def test_failed_disk_attach_takes_the_controller_back(client, domains, images):
    """The disk attach fails (its image does not exist, which only the live attach notices):
    the controller attached for it goes again, at least from the persistent definition (the
    running guest lets go of it only when its OS acknowledges the unplug)."""
    dom = settled(domains, "scsi-rollback", policy={"legacy-bridge": "eager"})
    dom.create()
    name = dom.name()
    disk = scsi_disk(os.path.join(images, "missing.img"))
    with pytest.raises(skdaemon.DBusFailure) as failure:
        client.attach(name, disk, live=True, config=True)
    assert "missing.img" in failure.value.message, failure.value.message
    config = inactive_xml(dom)
    assert not scsi_controllers(config), f"the controller stayed:\n{config}"
    assert disk_drive(config, "sda") is None
