"""Shared helpers for the integration tests: the slotkeeper CLI, libvirt guests and the PCI
addresses found in libvirt's own domain XML.

Every check here reads libvirt's XML (or the guest's view), never slotkeeper's opinion of
itself: free slots, hotplug capability and addresses are recomputed from the XML libvirt
returns after it accepted a definition.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pytest

URI = os.environ.get("SK_LIBVIRT_URI", "qemu:///system")
# Every domain these tests define is named PREFIX...; the pid lets concurrent runs on one host
# coexist and lets a later run remove what an interrupted one left behind.
STEM = "skit-p"
PREFIX = f"{STEM}{os.getpid()}-"
SPARE_PORTS = 4  # slotkeeper's default spare target
ROOT_PORT_CAP = {"x86_64": 14, "aarch64": 28}

SOURCE_ROOT = os.environ.get(
    "SK_SOURCE_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
)
TEST_DATA = os.environ.get("SK_TEST_DATA", os.path.join(SOURCE_ROOT, "tests", "data"))
GUEST_CACHE = os.environ.get("SK_GUEST_CACHE", os.path.join(SOURCE_ROOT, "build", "guest-cache"))


def required():
    """True when missing prerequisites must fail the tests (CI) rather than skip them."""
    for var in ("SK_REQUIRE_INTEGRATION", "CI"):
        val = os.environ.get(var, "").strip().lower()
        if val and val not in ("0", "false", "no"):
            return True
    return False


def unavailable(reason):
    """Skip with @reason, or fail with it under CI."""
    if required():
        pytest.fail(f"integration prerequisite missing (CI requires it): {reason}", pytrace=False)
    pytest.skip(reason)


def scratch_dir(prefix="skit-"):
    """A temporary directory QEMU (running as libvirt-qemu) can traverse."""
    path = tempfile.mkdtemp(prefix=prefix, dir="/var/tmp")
    os.chmod(path, 0o755)
    return path


def make_image(path, size="16M"):
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", path, size], check=True)
    os.chmod(path, 0o666)
    return path


# ---- the CLI -------------------------------------------------------------------------------


class Slotkeeper:
    """Runs the built slotkeeper binary on XML text (written to numbered files in @workdir)."""

    def __init__(self, path, workdir):
        self.path = path
        self.workdir = workdir
        self.counter = 0

    def write(self, name, text):
        self.counter += 1
        path = os.path.join(self.workdir, f"{self.counter:03d}-{name}")
        with open(path, "w") as f:
            f.write(text)
        return path

    def run(self, *args, check=True):
        cmd = [self.path, *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            pytest.fail(
                f"{' '.join(cmd)} exited {proc.returncode}\nstderr: {proc.stderr}"
                f"\nstdout: {proc.stdout}",
                pytrace=False,
            )
        if proc.returncode not in (0, 1):
            # 2 is a usage error and anything else a crash: never a refusal.
            pytest.fail(
                f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr}", pytrace=False
            )
        return proc

    def reserve_xml(self, domain_xml):
        path = self.write("domain.xml", domain_xml)
        return self.run("reserve", "--domain-xml", path, "--print-xml").stdout

    def _plan_args(self, domain_xml, device_xml, flags, config_xml):
        args = ["plan", "--domain-xml", self.write("domain.xml", domain_xml)]
        if config_xml is not None:
            args += ["--config-xml", self.write("config.xml", config_xml)]
        return args + [self.write("device.xml", device_xml), *flags]

    def plan(self, domain_xml, device_xml, *flags, config_xml=None):
        """Runs plan --json; returns (plan dict, None) or (None, refusal message)."""
        args = self._plan_args(domain_xml, device_xml, flags, config_xml)
        proc = self.run(*args, "--json", check=False)
        if proc.returncode != 0:
            assert proc.stderr.strip(), "a refused plan must say why on stderr"
            assert not proc.stdout, "a refused plan must print nothing on stdout"
            return None, proc.stderr.strip()
        plan = json.loads(proc.stdout)
        assert plan.get("ok") is True, plan
        return plan, None

    def plan_output(self, domain_xml, device_xml, *flags, config_xml=None):
        """plan with --print-xml or --print-device-xml in @flags; the output must be XML."""
        out = self.run(*self._plan_args(domain_xml, device_xml, flags, config_xml)).stdout
        ET.fromstring(out)
        return out


# ---- PCI addresses in libvirt's XML ---------------------------------------------------------

ADDR_RE = re.compile(r"^(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$")


def parse_addr_string(text):
    """'0000:01:02.3' -> (0, 1, 2, 3)."""
    m = ADDR_RE.match(text or "")
    assert m, f"not a PCI address: {text!r}"
    return tuple(int(g or "0", 16) for g in m.groups())


def fmt_addr(addr):
    return "%04x:%02x:%02x.%x" % addr


def _int(value):
    return int(value, 0) if value else 0


def pci_address(elem):
    """The guest PCI address of a device element, or None (only its own <address> child)."""
    a = elem.find("address")
    if a is None or a.get("type") != "pci":
        return None
    return tuple(_int(a.get(k)) for k in ("domain", "bus", "slot", "function"))


def element_key(elem, ordinal):
    """A key naming the same device in two versions of a domain's XML."""
    tag = elem.tag
    if tag == "controller":
        # USB2 companions (ehci + uhci1-3) share one index.
        model = elem.get("model") if elem.get("type") == "usb" else None
        return (tag, elem.get("type"), elem.get("index"), model)
    if tag == "interface":
        mac = elem.find("mac")
        if mac is not None:
            return (tag, mac.get("address").lower())
    if tag == "disk":
        target = elem.find("target")
        if target is not None:
            return (tag, target.get("dev"))
    return (tag, ordinal)


def element_keys(xml):
    """The keys of every device and controller in a domain XML."""
    root = ET.fromstring(xml) if isinstance(xml, str) else xml
    ordinals = {}
    keys = set()
    for elem in root.find("devices"):
        ordinal = ordinals.get(elem.tag, 0)
        ordinals[elem.tag] = ordinal + 1
        keys.add(element_key(elem, ordinal))
    return keys


def address_map(xml):
    """{element key: PCI address} for every device and controller with a PCI address."""
    root = ET.fromstring(xml) if isinstance(xml, str) else xml
    out = {}
    ordinals = {}
    for elem in root.find("devices"):
        ordinal = ordinals.get(elem.tag, 0)
        ordinals[elem.tag] = ordinal + 1
        addr = pci_address(elem)
        if addr is not None:
            key = element_key(elem, ordinal)
            assert key not in out, f"two elements named {key}"
            out[key] = addr
    return out


def assert_addresses_kept(before, after, what):
    """Every PCI address in @before is still there, unchanged, in @after."""
    old = address_map(before)
    new = address_map(after)
    moved = {k: (fmt_addr(v), fmt_addr(new[k]) if k in new else None)
             for k, v in old.items() if new.get(k) != v}
    assert not moved, f"{what}: pre-existing PCI addresses changed (old, new): {moved}"
    return old, new


class Topology:
    """The PCI buses of a domain, as libvirt's XML describes them."""

    HOTPLUG_PORTS = ("pcie-root-port", "pcie-switch-downstream-port")
    PCI_BRIDGES = ("pci-bridge", "pcie-to-pci-bridge")

    def __init__(self, xml):
        self.root = ET.fromstring(xml) if isinstance(xml, str) else xml
        ostype = self.root.find("os/type")
        self.arch = ostype.get("arch")
        self.acpi = self.root.find("features/acpi") is not None
        self.controllers = {}
        for c in self.root.findall("devices/controller[@type='pci']"):
            self.controllers[int(c.get("index"))] = c
        self.used = set()
        for addr in address_map(self.root).values():
            self.used.add((addr[1], addr[2]))

    def model(self, index):
        c = self.controllers.get(index)
        return c.get("model") if c is not None else None

    def hotplug_off(self, index):
        t = self.controllers[index].find("target")
        return t is not None and t.get("hotplug") == "off"

    @property
    def has_pcie_root(self):
        return self.model(0) == "pcie-root"

    def root_ports(self):
        return [i for i, c in self.controllers.items() if c.get("model") == "pcie-root-port"]

    def free_ports(self):
        """Empty root/downstream ports that take hotplug."""
        return [i for i, c in sorted(self.controllers.items())
                if c.get("model") in self.HOTPLUG_PORTS and not self.hotplug_off(i)
                and (i, 0) not in self.used]

    def free_pci_slots(self):
        """Free hotplug slots for conventional PCI devices: (bus, slot)."""
        out = []
        for i, c in sorted(self.controllers.items()):
            model = c.get("model")
            if model in self.PCI_BRIDGES:
                out += [(i, s) for s in range(1, 32) if (i, s) not in self.used]
            elif model == "pci-root" and self.acpi and not self.hotplug_off(i):
                # Slot 1 is the PIIX3 chipset (ISA bridge, IDE, USB) even when not listed.
                out += [(i, s) for s in range(2, 32) if (i, s) not in self.used]
        return out

    def bus_takes_hotplug(self, bus, slot):
        model = self.model(bus)
        if model in self.HOTPLUG_PORTS:
            return slot == 0 and not self.hotplug_off(bus)
        if model in self.PCI_BRIDGES:
            return 1 <= slot <= 31
        if model == "pci-root":
            return self.acpi and not self.hotplug_off(bus) and 1 <= slot <= 31
        return False

    def controller_address(self, index):
        return pci_address(self.controllers[index])


# ---- libvirt guests -------------------------------------------------------------------------


def open_libvirt():
    """A connection to qemu:///system, or skip/fail saying what is missing."""
    try:
        import libvirt
    except ImportError as e:
        unavailable(f"python3-libvirt is not importable ({e}); run scripts/setup-host.sh")
    libvirt.registerErrorHandler(lambda *args: None, None)  # errors arrive as exceptions
    try:
        return libvirt.open(URI)
    except libvirt.libvirtError as e:
        unavailable(f"cannot connect to {URI} ({e}); run scripts/setup-host.sh to start libvirtd")


def require_emulator(conn, arch, machine):
    import libvirt

    try:
        conn.getDomainCapabilities(None, arch, machine, "qemu")
    except libvirt.libvirtError as e:
        unavailable(f"libvirt cannot run {arch} {machine} guests with TCG: {e}")


class Guests:
    """Defines domains named skit-*, and destroys + undefines them at the end."""

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
            pytest.fail(f"libvirt rejected the definition of {name}: {e}\n{xml}", pytrace=False)

    def inactive_xml(self, dom):
        import libvirt

        return dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)

    def live_xml(self, dom):
        return dom.XMLDesc(0)

    def remove(self, name):
        import libvirt

        try:
            dom = self.conn.lookupByName(name)
        except libvirt.libvirtError:
            return
        try:
            if dom.isActive():
                dom.destroy()
        except libvirt.libvirtError:
            pass
        try:
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        except libvirt.libvirtError:
            pass

    def remove_stale(self):
        """Leftovers of test runs whose process is gone."""
        for dom in self.conn.listAllDomains():
            m = re.match(re.escape(STEM) + r"(\d+)-", dom.name())
            if m and not os.path.exists(f"/proc/{m.group(1)}"):
                self.remove(dom.name())

    def cleanup(self):
        for name in sorted(self.names):
            self.remove(name)
        self.names.clear()


def strip_for_redefine(xml, name):
    """A copy of a domain XML with a new name and no uuid (so it defines a new domain)."""
    root = ET.fromstring(xml)
    root.find("name").text = name
    uuid = root.find("uuid")
    if uuid is not None:
        root.remove(uuid)
    root.set("type", "qemu")
    return ET.tostring(root, encoding="unicode")


# ---- test devices ---------------------------------------------------------------------------


def nic(model, mac):
    return (f"<interface type='user'><mac address='{mac}'/><model type='{model}'/>"
            "</interface>")


def virtio_disk(path, target):
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{path}'/><target dev='{target}' bus='virtio'/></disk>")


def have(*programs):
    return all(shutil.which(p) for p in programs)
