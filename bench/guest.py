"""A booted test guest for the benchmarks: the tiny q35 guest of tests/guest (Debian's cloud
kernel + a busybox initramfs, so the guest acknowledges PCIe hot-unplug; tests/lib/skguest.py),
opted into slotkeeper's management through its metadata, named skbench-<pid>-<suffix>."""

import os

import skbench  # noqa: F401  (puts tests/lib on sys.path)
import skguest
import sklibvirt
import skoptin

STEM = "skbench-"


def domains(conn):
    """The benchmark's domains on @conn, after removing those of benchmark runs that died."""
    d = sklibvirt.Domains(conn, STEM)
    d.remove_stale()
    return d


def guest_files():
    """A directory with the guest's kernel and initramfs (the caller removes it)."""
    return skguest.guest_files("skbench-guest-")


class Guest:
    def __init__(self, domains, files, suffix, spare_ports=4, memory_mib=160):
        self.domains = domains
        self.name = domains.prefix + suffix
        self.serial = os.path.join(files, suffix + ".log")
        policy = skoptin.metadata(isolated=True, **{"spare-ports": spare_ports})
        self.dom = domains.define(skguest.guest_xml(self.name, files, self.serial,
                                                    memory_mib=memory_mib, metadata=policy))

    def boot(self):
        self.dom.create()
        skguest.SerialLog(self.serial).wait(lambda b: b, skguest.BOOT_TIMEOUT,
                                            "the guest's PCI device list")

    def remove(self):
        self.domains.remove(self.name)
