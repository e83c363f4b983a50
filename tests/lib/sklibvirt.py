"""The libvirt side of the tests: one connection to the real libvirtd, the test domains each run
defines (named by suite and pid, so that concurrent runs on one host coexist and a later run
removes what an interrupted one left behind) and polls of libvirt's XML."""

import os
import re
import time
import xml.etree.ElementTree as ET

import pytest

from skrequire import unavailable
from skxml import q35_xml

URI = os.environ.get("SK_LIBVIRT_URI", "qemu:///system")
# How long a poll of libvirt's XML waits by default: the time the service gets to react to
# something (a reconcile, an event) on a busy 2-core host.
SETTLE_TIMEOUT = 60


def open_libvirt():
    """A connection to URI, or skip/fail saying what is missing."""
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
    """Skip/fail unless libvirt can run @arch @machine guests with TCG."""
    import libvirt

    try:
        conn.getDomainCapabilities(None, arch, machine, "qemu")
    except libvirt.libvirtError as e:
        unavailable(f"libvirt cannot run {arch} {machine} guests with TCG: {e}")


def inactive_xml(dom):
    """The persistent (next-boot) definition."""
    import libvirt

    return dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)


def live_xml(dom):
    return dom.XMLDesc(0)


def wait_xml(dom, predicate, what, timeout=SETTLE_TIMEOUT, live=False):
    """Polls libvirt's XML of @dom until @predicate(xml) holds; returns that XML."""
    deadline = time.monotonic() + timeout
    xml = None
    while time.monotonic() < deadline:
        xml = live_xml(dom) if live else inactive_xml(dom)
        if predicate(xml):
            return xml
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout}s waiting for {what}; last XML:\n{xml}",
                pytrace=False)


def wait_stable(dom, seconds=3.0, timeout=SETTLE_TIMEOUT):
    """Waits until the persistent XML stops changing for @seconds; returns it."""
    deadline = time.monotonic() + timeout
    last = inactive_xml(dom)
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        cur = inactive_xml(dom)
        if cur != last:
            last, since = cur, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return cur
    pytest.fail(f"the persistent XML kept changing for {timeout}s", pytrace=False)


def domain_prefix(stem):
    """The name prefix of this process's domains: @stem, the pid, '-'."""
    return f"{stem}{os.getpid()}-"


class Domains:
    """The domains one run defines (named @stem<pid>-...): define() records them, cleanup()
    destroys and undefines them, remove_stale() removes those of runs whose process is gone."""

    inactive_xml = staticmethod(inactive_xml)
    live_xml = staticmethod(live_xml)

    def __init__(self, conn, stem):
        self.conn = conn
        self.stem = stem
        self.prefix = domain_prefix(stem)
        self.names = set()

    def define(self, xml):
        import libvirt

        name = ET.fromstring(xml).findtext("name")
        assert name.startswith(self.prefix), name
        self.names.add(name)
        try:
            return self.conn.defineXML(xml)
        except libvirt.libvirtError as e:
            pytest.fail(f"libvirt rejected the definition of {name}: {e}\n{xml}", pytrace=False)

    def new_q35(self, suffix, **kw):
        """A bootless q35 guest (skxml.q35_xml) named prefix + @suffix."""
        return self.define(q35_xml(self.prefix + suffix, **kw))

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
        """Leftovers of earlier runs (same stem) whose process is gone."""
        for dom in self.conn.listAllDomains():
            m = re.match(re.escape(self.stem) + r"(\d+)-", dom.name())
            if m and not os.path.exists(f"/proc/{m.group(1)}"):
                self.remove(dom.name())

    def cleanup(self):
        for name in sorted(self.names):
            self.remove(name)
        self.names.clear()


def domains_for_fixture(conn, stem):
    """The body of a suite's domains fixture: yields a Domains for @stem once stale ones are
    gone, and removes every domain it defined afterwards."""
    d = Domains(conn, stem)
    d.remove_stale()
    yield d
    d.cleanup()
