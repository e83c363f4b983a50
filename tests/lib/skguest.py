"""What QEMU itself reads, and the booting test guest.

QEMU runs as libvirt-qemu, so its files (disk images, the guest's kernel and initramfs, the
serial log) live in directories it can traverse, outside a possibly private source tree.

The test guest (tests/guest/build-guest.sh) is a q35 TCG guest booting Debian's cloud kernel
with a busybox initramfs that prints its PCI devices on the serial console whenever they change:
it is how the tests see a hotplugged device from inside the guest, and it acknowledges PCIe
hot-unplug, which a bootless guest never does.
"""

import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from skpaths import GUEST_CACHE, SOURCE_ROOT
from skpci import fmt_addr
from skrequire import have, unavailable

BOOT_TIMEOUT = 180  # TCG on a busy 2-core host; the guest usually reports in 5-15 s
HOTPLUG_TIMEOUT = 60
VIRTIO_VENDOR = "0x1af4"
REALTEK_VENDOR = "0x10ec"


def scratch_dir(prefix="sk-"):
    """A temporary directory QEMU (running as libvirt-qemu) can traverse."""
    path = tempfile.mkdtemp(prefix=prefix, dir="/var/tmp")
    os.chmod(path, 0o755)
    return path


def make_image(path, size="16M"):
    """A raw disk image QEMU may open read-write."""
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", path, size], check=True)
    os.chmod(path, 0o666)
    return path


def guest_files(prefix="sk-guest-"):
    """A new scratch directory holding vmlinuz + initrd.img of the test guest, built (or taken
    from GUEST_CACHE) by tests/guest/build-guest.sh and copied where QEMU can read them whatever
    the permissions of the source and build trees. The caller removes it."""
    script = os.path.join(SOURCE_ROOT, "tests", "guest", "build-guest.sh")
    if not have("apt-get", "dpkg-deb", "cpio") or not os.path.exists("/bin/busybox"):
        unavailable("building the test guest needs apt-get, dpkg-deb, cpio and busybox-static")
    proc = subprocess.run([script, GUEST_CACHE], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        unavailable(f"cannot build the test guest: {proc.stderr.strip()}")
    cache = proc.stdout.strip().splitlines()[-1]
    dest = scratch_dir(prefix)
    for name in ("vmlinuz", "initrd.img"):
        shutil.copy(os.path.join(cache, name), dest)
        os.chmod(os.path.join(dest, name), 0o644)
    return dest


def guest_xml(name, files, serial, memory_mib=256, metadata=""):
    """The test guest's domain XML: kernel and initramfs from @files, console into the file
    @serial; @metadata (skoptin.metadata()) for a guest the service should manage."""
    return f"""<domain type='qemu'>
  <name>{name}</name>{metadata}
  <memory unit='MiB'>{memory_mib}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>{files}/vmlinuz</kernel>
    <initrd>{files}/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <features><acpi/></features>
  <on_reboot>destroy</on_reboot>
  <devices>
    <controller type='pci' model='pcie-root'/>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
    <video><model type='none'/></video>
    <serial type='file'><source path='{serial}'/></serial>
  </devices>
</domain>"""


class SerialLog:
    """The guest's serial console (a file written by virtlogd) and its PCI device blocks."""

    BLOCK = re.compile(r"SK-PCI-BEGIN\r?\n(.*?)SK-PCI-END", re.S)
    LINE = re.compile(r"^PCI (\S+) (0x[0-9a-f]{4}) (0x[0-9a-f]{4})\s*$", re.M)

    def __init__(self, path):
        self.path = path

    def text(self):
        try:
            with open(self.path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def blocks(self):
        """Every complete device list so far: [{sysfs path: (vendor, device)}]."""
        return [{m.group(1): (m.group(2), m.group(3)) for m in self.LINE.finditer(b)}
                for b in self.BLOCK.findall(self.text())]

    def wait(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            blocks = self.blocks()
            if blocks and predicate(blocks[-1]):
                return blocks[-1]
            time.sleep(0.5)
        tail = self.text()[-3000:]
        pytest.fail(f"timed out after {timeout}s waiting for {what}; serial console:\n{tail}",
                    pytrace=False)


def sysfs_path(topo, address):
    """The guest's sysfs path of a device at libvirt @address behind a root port, or behind
    a pcie-to-pci-bridge on a root port: the regex matches the guest-assigned bus numbers."""
    bus, slot = address[1], address[2]
    model = topo.model(bus)
    if model == "pcie-root-port":
        port = topo.controller_address(bus)
        assert port[1] == 0, "root port not on pcie-root"
        return re.compile(r"^/sys/devices/pci0000:00/0000:00:%02x\.%x/0000:[0-9a-f]{2}:00\.0$"
                          % (port[2], port[3]))
    if model == "pcie-to-pci-bridge":
        bridge = topo.controller_address(bus)
        port = topo.controller_address(bridge[1])
        assert topo.model(bridge[1]) == "pcie-root-port" and port[1] == 0
        return re.compile(r"^/sys/devices/pci0000:00/0000:00:%02x\.%x/0000:[0-9a-f]{2}:00\.0/"
                          r"0000:[0-9a-f]{2}:%02x\.0$" % (port[2], port[3], slot))
    pytest.fail(f"unexpected bus model {model} for {fmt_addr(address)}")


def devices_at(block, pattern, vendor):
    """The sysfs paths in a device @block that match @pattern and have @vendor."""
    return [p for p, (v, _) in block.items() if pattern.match(p) and v == vendor]
