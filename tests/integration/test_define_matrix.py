"""slotkeeper's offline verbs against real libvirt: many realistic domains (virt-install's own
XML, q35 and pc, plus the aarch64 virt fixtures) are defined in qemu:///system; the XML that
`reserve` and `plan` print must be accepted by libvirt as is - nothing pre-existing moves, new
devices sit exactly where the plan said, libvirt adds nothing of its own - and live attaches
at planned addresses must succeed on running TCG guests while refused plans really fail in
libvirt too.
"""

import glob
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

import sktest
from sktest import PREFIX, Topology, address_map, assert_addresses_kept, fmt_addr

# name, machine, virt-install arguments ("disk:BUS" becomes a fresh image on that bus),
# strip virt-install's 14 root ports (libvirt then adds only what it needs plus one spare).
VARIANTS = [
    ("q35-virtio", "q35",
     ["disk:virtio", "--network", "user,model=virtio", "--video", "virtio",
      "--controller", "usb,model=qemu-xhci", "--rng", "/dev/urandom"], False),
    ("q35-virtio-min", "q35",
     ["disk:virtio", "--network", "user,model=virtio", "--video", "virtio",
      "--controller", "usb,model=qemu-xhci", "--rng", "/dev/urandom"], True),
    ("q35-legacy", "q35",
     ["disk:sata", "--network", "user,model=rtl8139", "--network", "user,model=e1000",
      "--sound", "ich9", "--video", "qxl", "--controller", "usb,model=ich9-ehci1",
      "--watchdog", "i6300esb"], True),
    ("q35-lsilogic", "q35",
     ["--controller", "scsi,model=lsilogic", "disk:scsi", "--network", "user,model=e1000e",
      "--video", "vga", "--sound", "ich6", "--controller", "usb,model=none"], True),
    ("q35-virtio-scsi", "q35",
     ["--controller", "scsi,model=virtio-scsi", "disk:scsi",
      "--network", "user,model=virtio-transitional", "--sound", "ac97", "--video", "virtio",
      "--controller", "usb,model=qemu-xhci", "--rng", "/dev/urandom"], False),
    ("q35-many-nics", "q35",
     ["disk:virtio", "disk:virtio", "--network", "user,model=virtio",
      "--network", "user,model=virtio", "--network", "user,model=virtio",
      "--network", "user,model=e1000e", "--network", "user,model=e1000e",
      "--controller", "usb,model=none", "--memballoon", "none"], True),
    ("q35-full", "q35",
     ["disk:virtio", "disk:sata", "--controller", "scsi,model=virtio-scsi", "disk:scsi",
      "--network", "user,model=virtio", "--network", "user,model=e1000e",
      "--network", "user,model=e1000", "--network", "user,model=rtl8139",
      "--network", "user,model=virtio-transitional", "--sound", "ich9", "--video", "qxl",
      "--controller", "usb,model=qemu-xhci", "--watchdog", "i6300esb",
      "--rng", "/dev/urandom"], False),
    ("q35-full-min", "q35",
     ["disk:virtio", "disk:sata", "--controller", "scsi,model=lsilogic", "disk:scsi",
      "--network", "user,model=virtio", "--network", "user,model=e1000e",
      "--network", "user,model=rtl8139", "--sound", "ich6", "--video", "vga",
      "--controller", "usb,model=ich9-ehci1", "--watchdog", "i6300esb",
      "--rng", "/dev/urandom"], True),
    ("q35-headless", "q35",
     ["disk:virtio", "--network", "none", "--controller", "usb,model=none",
      "--memballoon", "none", "--video", "none"], True),
    ("pc-virtio", "pc",
     ["disk:virtio", "--network", "user,model=virtio", "--video", "vga",
      "--rng", "/dev/urandom"], False),
    ("pc-legacy", "pc",
     ["disk:sata", "--network", "user,model=rtl8139", "--network", "user,model=e1000",
      "--sound", "ac97", "--video", "qxl", "--controller", "usb,model=ich9-ehci1",
      "--watchdog", "i6300esb"], False),
    ("pc-scsi", "pc",
     ["--controller", "scsi,model=lsilogic", "disk:scsi",
      "--controller", "scsi,model=virtio-scsi", "--network", "user,model=e1000e",
      "--network", "user,model=virtio-transitional", "--sound", "ich6",
      "--video", "virtio", "--controller", "usb,model=qemu-xhci"], False),
    ("pc-full", "pc",
     ["disk:virtio", "disk:virtio", "disk:sata", "--network", "user,model=virtio",
      "--network", "user,model=e1000", "--network", "user,model=rtl8139",
      "--network", "user,model=e1000e", "--sound", "ich9", "--video", "qxl",
      "--controller", "usb,model=qemu-xhci", "--watchdog", "i6300esb",
      "--rng", "/dev/urandom"], False),
]

# The variants also started as TCG guests for live attaches: (variant, reserve first, must
# run out of slots). A q35 guest as libvirt lays it out (one spare port, no bridge: most
# attaches are refused), the same after `reserve`, a q35 guest with a legacy bridge, a pc guest.
LIVE_VARIANTS = [("q35-virtio-min", False, True), ("q35-virtio-min", True, True),
                 ("q35-legacy", False, True), ("pc-virtio", False, False)]

# The devices to plan: name, NIC model (None: a virtio disk), the slot kind it needs.
DEVICES = [
    ("virtio-nic", "virtio", "pcie"),
    ("e1000e-nic", "e1000e", "pcie"),
    ("rtl8139-nic", "rtl8139", "pci"),
    ("e1000-nic", "e1000", "pci"),
    ("virtio-transitional-nic", "virtio-transitional", "pci"),
    ("virtio-disk", None, "pcie"),
]


def make_device(i, model, n, imgdir):
    """Instance @n of DEVICES[@i]: (the key naming it in libvirt's XML, its XML). A disk's
    image is created in @imgdir."""
    if model:
        mac = "52:54:00:5c:%02x:%02x" % (n, i)
        return ("interface", mac), sktest.nic(model, mac)
    target = "vd" + "zyxw"[n]
    path = sktest.make_image(os.path.join(imgdir, f"extra-{n}.img"))
    return ("disk", target), sktest.virtio_disk(path, target)


def aarch64_fixtures():
    """The aarch64 virt fixtures (libvirt's own output, written by tests/data scripts)."""
    found = {}
    for path in sorted(glob.glob(os.path.join(sktest.TEST_DATA, "**", "virt-aarch64*.xml"),
                                 recursive=True)):
        found.setdefault(os.path.basename(path), path)
    return sorted(found.values())


# ---- building the base domains ---------------------------------------------------------------


def virt_install_xml(name, machine, args, workdir):
    """virt-install's domain XML (not defined by virt-install itself)."""
    argv = ["virt-install", "--connect", sktest.URI, "--print-xml", "--name", name,
            "--virt-type", "qemu", "--arch", "x86_64", "--machine", machine,
            "--memory", "256", "--vcpus", "1", "--osinfo", "detect=on,require=off",
            "--import", "--graphics", "none", "--noautoconsole"]
    for i, arg in enumerate(args):
        if arg.startswith("disk:"):
            img = sktest.make_image(os.path.join(workdir, f"{name}-{i}.img"))
            argv += ["--disk", f"path={img},format=raw,bus={arg[5:]}"]
        else:
            argv.append(arg)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{' '.join(argv)} failed: {proc.stderr}"
    return proc.stdout


def strip_root_ports(xml):
    root = ET.fromstring(xml)
    devices = root.find("devices")
    for c in devices.findall("controller[@type='pci'][@model='pcie-root-port']"):
        if c.find("address") is None:
            devices.remove(c)
    return ET.tostring(root, encoding="unicode")


class Base:
    """One domain defined in libvirt, and its inactive XML as libvirt laid it out."""

    def __init__(self, guests, name, xml):
        self.name = name
        self.dom = guests.define(xml)
        self.xml = guests.inactive_xml(self.dom)
        self.topo = Topology(self.xml)


def base_ids():
    return [v[0] for v in VARIANTS] + [os.path.basename(p)[:-4] for p in aarch64_fixtures()]


@pytest.fixture(scope="module")
def make_base(conn, guests, workdir):
    """Defines (once) the base domain of a variant id and returns its Base."""
    if not sktest.have("virt-install", "qemu-img"):
        sktest.unavailable("virt-install or qemu-img is missing (apt-get install virtinst "
                           "qemu-utils)")
    bases = {}

    def make(vid):
        if vid in bases:
            return bases[vid]
        name = PREFIX + vid
        variant = {v[0]: v for v in VARIANTS}.get(vid)
        if variant:
            _, machine, args, strip = variant
            sktest.require_emulator(conn, "x86_64", machine)
            xml = virt_install_xml(name, machine, args, workdir)
            if strip:
                xml = strip_root_ports(xml)
        else:
            sktest.require_emulator(conn, "aarch64", "virt")
            path = next(p for p in aarch64_fixtures() if os.path.basename(p)[:-4] == vid)
            with open(path) as f:
                xml = sktest.strip_for_redefine(f.read(), name)
        bases[vid] = Base(guests, name, xml)
        return bases[vid]

    return make


def test_fixtures_present():
    """The aarch64 fixtures are part of the matrix; their absence must not go unnoticed."""
    assert aarch64_fixtures(), f"no virt-aarch64*.xml under {sktest.TEST_DATA}"


# ---- reserve ----------------------------------------------------------------------------------


def check_redefine(guests, base, printed, what):
    """Defines @printed over @base and returns libvirt's inactive XML, after checking that
    nothing pre-existing moved, every explicit address in @printed was kept, and libvirt added
    no PCI device or controller of its own. The base definition is restored afterwards."""
    try:
        dom = guests.define(printed)
        assert dom.name() == base.name
        after = guests.inactive_xml(dom)
    finally:
        guests.define(base.xml)
    assert_addresses_kept(base.xml, after, what)
    _, new = assert_addresses_kept(printed, after, what + " (printed XML)")
    extra = set(new) - set(address_map(printed))
    assert not extra, f"{what}: libvirt had to add or address {sorted(extra)} itself"
    return after


@pytest.mark.parametrize("vid", base_ids())
def test_reserve(vid, make_base, guests, sk):
    base = make_base(vid)
    before = base.topo
    cap = sktest.ROOT_PORT_CAP[before.arch]
    after = Topology(check_redefine(guests, base, sk.reserve_xml(base.xml), f"{vid}: reserve"))

    added = set(after.controllers) - set(before.controllers)
    assert all(after.model(i) == "pcie-root-port" for i in added), \
        f"reserve added more than root ports: {[after.model(i) for i in added]}"
    if before.has_pcie_root:
        free_before, free_after = len(before.free_ports()), len(after.free_ports())
        room = max(0, cap - len(before.root_ports()))
        want = min(sktest.SPARE_PORTS, free_before + room)
        assert free_after >= want, \
            f"{vid}: {free_after} free hotplug ports after reserve, want {want}"
        assert free_after <= max(sktest.SPARE_PORTS, free_before), \
            f"{vid}: reserve added more ports than needed ({free_before} -> {free_after})"
        assert len(after.root_ports()) <= max(cap, len(before.root_ports())), \
            f"{vid}: {len(after.root_ports())} root ports exceed the cap of {cap}"
        for i in added:
            assert after.controller_address(i)[1] == 0, f"new root port {i} not on pcie-root"
    else:
        assert len(after.free_pci_slots()) >= sktest.SPARE_PORTS, \
            f"{vid}: fewer than {sktest.SPARE_PORTS} free hotplug slots on pc after reserve"
        if len(before.free_pci_slots()) >= sktest.SPARE_PORTS:
            assert not added, f"{vid}: reserve added controllers to a pc guest with spares"


# ---- plan --config ----------------------------------------------------------------------------


def expected_bus_kind(topo, connection, require):
    """Where a device must land: 'root' (bus 0) for require=no on PCIe roots, else a hotplug
    slot of the right kind."""
    if not require and topo.has_pcie_root:
        return "root"
    if topo.has_pcie_root:
        return "port" if connection == "pcie" else "bridge"
    return "hotplug"


def check_plan_config(sk, guests, base, dev_name, dev_xml, key, connection, require):
    flags = ["--config", "--hotplug-require", "yes" if require else "no"]
    what = f"{base.name}: plan {dev_name} {' '.join(flags)}"
    plan, refusal = sk.plan(base.xml, dev_xml, *flags)
    assert plan is not None, f"{what}: refused: {refusal}"
    if plan["connection"] == "none":
        # virtio-mmio machines: the device must get no PCI address, from libvirt either.
        assert "address" not in plan and not plan["controllers"], f"{what}: {plan}"
        printed = sk.plan_output(base.xml, dev_xml, *flags, "--print-xml")
        after_xml = check_redefine(guests, base, printed, what)
        assert key in sktest.element_keys(after_xml), f"{what}: the device is missing"
        assert key not in address_map(after_xml), \
            f"{what}: libvirt gave the device a PCI address the plan said it needs none"
        return
    assert plan["address"], f"{what}: no address in {plan}"
    planned = sktest.parse_addr_string(plan["address"])
    assert planned[3] == 0, f"{what}: function {planned[3]} (libvirt hotplugs only function 0)"

    printed = sk.plan_output(base.xml, dev_xml, *flags, "--print-xml")
    assert address_map(printed).get(key) == planned, \
        f"{what}: --print-xml puts the device at {address_map(printed).get(key)}, the plan " \
        f"at {plan['address']}"
    after_xml = check_redefine(guests, base, printed, what)
    got = address_map(after_xml).get(key)
    assert got == planned, f"{what}: libvirt has the device at {got}, planned {plan['address']}"

    after = Topology(after_xml)
    kind = expected_bus_kind(after, connection, require)
    bus, slot = planned[1], planned[2]
    if kind == "root":
        assert bus == 0, f"{what}: hotplug-require=no must use pcie-root, got {plan['address']}"
    else:
        assert after.bus_takes_hotplug(bus, slot), \
            f"{what}: {plan['address']} is on {after.model(bus)}, which takes no hotplug"
        if kind == "port":
            assert after.model(bus) in Topology.HOTPLUG_PORTS, (what, after.model(bus))
        elif kind == "bridge":
            assert after.model(bus) in Topology.PCI_BRIDGES, (what, after.model(bus))
    # Controllers the plan lists are where libvirt now has them.
    for ctrl in plan.get("controllers") or []:
        idx = ctrl["index"]
        assert idx in after.controllers, f"{what}: planned controller {idx} missing"
        if ctrl.get("address"):
            assert after.controller_address(idx) == sktest.parse_addr_string(ctrl["address"])


@pytest.mark.parametrize("vid", base_ids())
def test_plan_config(vid, make_base, guests, sk, workdir):
    base = make_base(vid)
    failures = []
    for i, (dev_name, model, connection) in enumerate(DEVICES):
        key, dev_xml = make_device(i, model, 0, workdir)
        for require in (True, False):
            try:
                check_plan_config(sk, guests, base, dev_name, dev_xml, key, connection, require)
            except (AssertionError, pytest.fail.Exception) as e:
                failures.append(str(e).strip())
    assert not failures, f"{len(failures)} plan(s) failed:\n" + "\n---\n".join(failures)


# ---- live attach on running guests -------------------------------------------------------------


def attach_live(dom, xml):
    """virsh attach-device --live; returns None or libvirt's error message."""
    import libvirt

    try:
        dom.attachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        return None
    except libvirt.libvirtError as e:
        return str(e)


@pytest.mark.parametrize("vid,reserved,runs_out", LIVE_VARIANTS,
                         ids=[v + ("-reserved" if r else "") for v, r, _ in LIVE_VARIANTS])
def test_live_attach(vid, reserved, runs_out, make_base, conn, guests, sk):
    base = make_base(vid)
    live_name = f"{base.name}-live{'-r' if reserved else ''}"
    xml = sktest.strip_for_redefine(base.xml, live_name)
    if reserved:
        xml = sk.reserve_xml(xml)
    dom = guests.define(xml)
    dom.create()
    imgdir = sktest.scratch_dir()
    outcomes = []
    try:
        # Each device twice, so that guests run out of slots and refusals get checked too.
        for n in (1, 2):
            for i, (dev_name, model, _) in enumerate(DEVICES):
                key, dev_xml = make_device(i, model, n, imgdir)
                what = f"{live_name}: live {dev_name} #{n}"
                live_before = guests.live_xml(dom)
                plan, refusal = sk.plan(live_before, dev_xml, "--live")
                if plan is None:
                    # slotkeeper says no: libvirt, left to itself, must fail as well.
                    err = attach_live(dom, dev_xml)
                    assert err is not None, \
                        f"{what}: slotkeeper refused ({refusal}) but libvirt attached it"
                    outcomes.append(f"{dev_name} #{n}: refused; libvirt too: {err}")
                    continue
                planned = sktest.parse_addr_string(plan["address"])
                dev_addr_xml = sk.plan_output(live_before, dev_xml, "--live",
                                              "--print-device-xml")
                assert sktest.pci_address(ET.fromstring(dev_addr_xml)) == planned, \
                    f"{what}: --print-device-xml differs from the plan's {plan['address']}"
                err = attach_live(dom, dev_addr_xml)
                assert err is None, f"{what}: libvirt refused the planned {plan['address']}: {err}"
                live_after = guests.live_xml(dom)
                assert_addresses_kept(live_before, live_after, what)
                got = address_map(live_after).get(key)
                assert got == planned, f"{what}: live XML has {got}, planned {plan['address']}"
                outcomes.append(f"{dev_name} #{n}: attached at {fmt_addr(planned)}")
    finally:
        print("\n".join(outcomes))
        guests.remove(live_name)
        shutil.rmtree(imgdir, ignore_errors=True)
    assert any("attached" in o for o in outcomes), f"{live_name}: nothing was attached"
    if runs_out:
        assert any("refused" in o for o in outcomes), f"{live_name}: never ran out of slots"
