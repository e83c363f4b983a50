#!/usr/bin/python3
"""Reaction time: somebody else takes a spare hotplug port with plain virsh, and slotkeeperd puts
a replacement into the persistent XML. Four kinds of change, each timed from the moment the virsh
command returned until the persistent XML has the policy's spares again:

  live     `virsh attach-device --live --config` on a running guest (libvirt emits an event)
  attach   `virsh attach-device --config` on a shut-off guest (libvirt 9.0 emits none)
  detach   `virsh detach-device --config` of an empty spare root port (none either)
  define   `virsh define` of the persistent XML with one more NIC (a lifecycle event)

The config-only kinds are seen through the watch on libvirt's definition directory; the periodic
rescan is switched off (rescan-seconds=0) so that it cannot help. The baseline is the virsh call
itself, measured in the same run.

    /usr/bin/python3 bench/reaction.py [--samples 20] [--kinds live,attach,detach,define]"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import skbench  # noqa: E402  (first: it puts tests/lib on sys.path)
import guest as bench_guest  # noqa: E402

from skbus import PrivateBus  # noqa: E402
from sklibvirt import inactive_xml, open_libvirt  # noqa: E402
from skpci import free_ports  # noqa: E402
from skxml import q35_xml  # noqa: E402

SPARES = 4
LIVE_PER_GUEST = 3  # a running guest keeps the ports it booted with
COLD_PER_GUEST = 5  # each attach or define keeps its NIC: a fresh guest before the root-port cap
KINDS = ["live", "attach", "detach", "define"]


def virsh(*args):
    start = time.monotonic()
    proc = subprocess.run(["virsh", "-q", "-c", "qemu:///system", *args], capture_output=True,
                          text=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"virsh {' '.join(args)}: {proc.stderr}")
    return start, time.monotonic()


def wait_spares(dom, count, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(free_ports(inactive_xml(dom))) >= count:
            return time.monotonic()
        time.sleep(0.005)
    return None


def nic(seq):
    return (f"<interface type='user'><mac address='52:54:00:ee:{seq // 256:02x}:{seq % 256:02x}'/>"
            "<model type='virtio'/></interface>")


def spare_port_xml(dom):
    """An empty spare root port of @dom's persistent definition, as a detach wants it."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(inactive_xml(dom))
    index = free_ports(inactive_xml(dom))[-1]
    for ctrl in root.findall("devices/controller[@type='pci']"):
        if int(ctrl.get("index")) == index:
            return ET.tostring(ctrl, encoding="unicode")
    raise RuntimeError(f"no controller for free bus {index}")


def change(kind, dom, seq, tmp):
    """Makes one change of @kind; returns when virsh was called and when it returned."""
    path = os.path.join(tmp, f"{seq}.xml")
    if kind in ("live", "attach"):
        with open(path, "w") as f:
            f.write(nic(seq))
        flags = ("--live", "--config") if kind == "live" else ("--config",)
        return virsh("attach-device", dom.name(), path, *flags)
    if kind == "detach":
        with open(path, "w") as f:
            f.write(spare_port_xml(dom))
        return virsh("detach-device", dom.name(), path, "--config")
    with open(path, "w") as f:
        f.write(inactive_xml(dom).replace("</devices>", nic(seq) + "</devices>", 1))
    return virsh("define", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=20, help="changes of each kind")
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--log", default="/tmp/skbench-reaction-slotkeeperd.log",
                    help="the service's log (--verbose)")
    args = ap.parse_args()
    kinds = args.kinds.split(",")
    conn = open_libvirt()
    doms = bench_guest.domains(conn)
    tmp = tempfile.mkdtemp(prefix="skbench-react-")
    bus = PrivateBus(prefix="skbench-bus-")
    daemon = skbench.Daemon(bus, "qemu:///system", extra_config="[service]\nrescan-seconds=0\n",
                            verbose=True, log=args.log)
    try:
        daemon.wait_name()
        n_live = (args.samples + LIVE_PER_GUEST - 1) // LIVE_PER_GUEST if "live" in kinds else 0
        lives = [doms.define(q35_xml(doms.prefix + f"react-live{i}")) for i in range(n_live)]
        colds = {}

        def cold(kind, i):
            """The shut-off guest of the @i-th change of @kind, defined when first needed."""
            key = (kind, i // COLD_PER_GUEST if kind in ("attach", "define") else 0)
            if key not in colds:
                colds[key] = doms.define(q35_xml(doms.prefix + f"react-{kind}{key[1]}"))
                if wait_spares(colds[key], SPARES, 60) is None:
                    raise RuntimeError(f"{colds[key].name()} got no spares")
            return colds[key]

        for dom in lives:
            if wait_spares(dom, SPARES, 60) is None:
                raise RuntimeError(f"{dom.name()} got no spares")
        time.sleep(2)
        for dom in lives:
            dom.create()
        print(f"machine: {skbench.machine()}")
        rows = {k: [] for k in kinds}
        calls = {k: [] for k in kinds}
        missed = {k: 0 for k in kinds}
        seq = 0
        for kind in kinds:
            for i in range(args.samples):
                seq += 1
                dom = lives[i // LIVE_PER_GUEST] if kind == "live" else cold(kind, i)
                wait_spares(dom, SPARES, 60)
                time.sleep(0.5)  # settled: nothing of the last change still under way
                start, end = change(kind, dom, seq, tmp)
                done = wait_spares(dom, SPARES, 30)
                if done is None:
                    missed[kind] += 1
                    print(f"{kind}: no replacement spare within 30 s")
                    continue
                rows[kind].append(max(0.0, done - end))
                calls[kind].append(end - start)
        print("summary: replacement spare after the virsh call returned (median, p95, max); "
              "ratio of the median to the virsh call itself")
        for kind in kinds:
            if not rows[kind]:
                continue
            med, p95 = skbench.stats(rows[kind])
            base = skbench.stats(calls[kind])[0]
            print(f"  {kind:<7} {med * 1000:6.0f} ms {p95 * 1000:6.0f} ms "
                  f"{max(rows[kind]) * 1000:6.0f} ms over {len(rows[kind])} changes "
                  f"({missed[kind]} missed); virsh {base * 1000:.0f} ms; ratio {med / base:.2f}")
    finally:
        doms.cleanup()
        daemon.stop()
        bus.close()
        conn.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
