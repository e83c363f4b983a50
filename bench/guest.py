"""A booted test guest for the benchmarks: the tiny q35 guest of tests/guest (Debian's cloud
kernel + a busybox initramfs, so the guest acknowledges PCIe hot-unplug), opted into
slotkeeper's management through its metadata, named skbench-<pid>-<suffix>."""

import os
import re
import shutil
import subprocess
import tempfile

import skbench

from test_guest_sees_device import BOOT_TIMEOUT, SerialLog, guest_xml  # noqa: E402

PREFIX = f"skbench-{os.getpid()}-"


def guest_files():
    cache = os.environ.get("SK_GUEST_CACHE", os.path.join(skbench.BUILD, "guest-cache"))
    script = os.path.join(skbench.ROOT, "tests", "guest", "build-guest.sh")
    proc = subprocess.run([script, cache], capture_output=True, text=True, check=True)
    cache = proc.stdout.strip().splitlines()[-1]
    dest = tempfile.mkdtemp(prefix="skbench-guest-", dir="/var/tmp")
    os.chmod(dest, 0o755)
    for name in ("vmlinuz", "initrd.img"):
        shutil.copy(os.path.join(cache, name), dest)
        os.chmod(os.path.join(dest, name), 0o644)
    return dest


class Guest:
    def __init__(self, conn, files, suffix, spare_ports=4, memory_mib=160):
        self.conn = conn
        self.name = PREFIX + suffix
        self.serial = os.path.join(files, suffix + ".log")
        xml = guest_xml(self.name, files, self.serial)
        xml = re.sub(r"<memory unit='MiB'>\d+</memory>",
                     f"<memory unit='MiB'>{memory_mib}</memory>", xml)
        xml = xml.replace(f"<name>{self.name}</name>",
                          f"<name>{self.name}</name>"
                          f"{skbench.metadata(**{'spare-ports': spare_ports})}")
        self.dom = conn.defineXML(xml)

    def boot(self):
        self.dom.create()
        SerialLog(self.serial).wait(lambda b: b, BOOT_TIMEOUT, "the guest's PCI device list")

    def remove(self):
        import libvirt

        for fn in (self.dom.destroy, self.dom.undefine):
            try:
                fn()
            except libvirt.libvirtError:
                pass


def remove_stale(conn):
    for dom in conn.listAllDomains():
        m = re.match(r"skbench-(\d+)-", dom.name())
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            for fn in (dom.destroy, dom.undefine):
                try:
                    fn()
                except Exception:
                    pass
