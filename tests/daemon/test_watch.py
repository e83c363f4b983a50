"""Changes libvirt sends no event for - `virsh attach-device --config`, `detach-device
--config`, `virsh define` of an edited definition - are seen at once: the service watches the
files libvirt saves definitions to and reads that domain again through libvirt's API. With the
periodic rescan switched off, a spare taken that way is back within seconds, five times in a
row (bench/reaction.py measures how fast)."""

import os
import subprocess
import time

import pytest

import skdaemon
from skdaemon import SPARE_PORTS, free_ports, inactive_xml, nic

# Generous for a loaded CI machine; the rescan this replaces came every 30 s.
REPLACE_TIMEOUT = 5


@pytest.fixture(scope="module")
def service(bus, workdir, conn):
    s = skdaemon.Service(bus, workdir)
    with open(s.config, "a") as f:
        f.write("[service]\nrescan-seconds=0\n")
    s.start()
    yield s
    s.stop()


def virsh(*args):
    proc = subprocess.run(["virsh", "-q", "-c", skdaemon.URI, *args], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, f"virsh {' '.join(args)}: {proc.stderr}"


def replaced(dom, what):
    """The spares are back to the policy within REPLACE_TIMEOUT seconds of @what."""
    started = time.monotonic()
    skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= SPARE_PORTS,
                      f"the spare {what} took to be replaced", timeout=REPLACE_TIMEOUT)
    return time.monotonic() - started


def test_config_only_changes_are_seen(service, domains, workdir):
    if skdaemon.URI not in ("qemu:///system", "qemu:///session"):
        pytest.skip(f"no definition directory to watch for {skdaemon.URI}")
    dom = domains.new_q35("watch")
    skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= SPARE_PORTS, "spares")
    skdaemon.wait_stable(dom)
    times = []
    for i in range(5):
        path = os.path.join(workdir, f"watch-{i}.xml")
        with open(path, "w") as f:
            f.write(nic("virtio", f"52:54:00:d7:e3:{i:02x}"))
        virsh("attach-device", dom.name(), path, "--config")
        times.append(replaced(dom, "attach-device --config"))
        skdaemon.wait_stable(dom, seconds=1)
    # A detach --config frees a port: nothing to add, nothing moves.
    before = inactive_xml(dom)
    virsh("detach-device", dom.name(), os.path.join(workdir, "watch-0.xml"), "--config")
    after = skdaemon.wait_stable(dom, seconds=2)
    assert len(free_ports(after)) == len(free_ports(before)) + 1
    # A define of an edited definition that uses a spare.
    edited = inactive_xml(dom).replace(
        "</devices>", nic("virtio", "52:54:00:d7:e3:ff") + "</devices>", 1)
    virsh("define", write(workdir, "watch-edited.xml", edited))
    times.append(replaced(dom, "define"))
    assert max(times) < REPLACE_TIMEOUT, times


def write(workdir, name, text):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write(text)
    return path
