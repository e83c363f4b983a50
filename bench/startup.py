#!/usr/bin/python3
"""Start-up with many defined domains: slotkeeperd against libvirt's test driver with a node XML
of N small inactive q35 domains (opted in through their metadata, none with a spare port yet).
Measures the time until READY=1 (sd_notify), until every domain is reconciled (its spares
added: the service's log names each domain it changed) and the service's peak RSS; the
baseline is `virsh list --all` opening the same node XML in the same run (time and peak RSS).

    /usr/bin/python3 bench/startup.py [--domains 1000] [--runs 3] [--system] [--idle-seconds 60]

With --idle-seconds the idle service's CPU use (share of one core, from /proc) is measured
after the reconciles, next to libvirtd's over the same interval.

The test driver keeps everything in memory and gives each connection its own copy of the node
XML: nothing outside the service sees its changes, so this touches no real domain."""

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import skbench  # noqa: E402  (first: it puts tests/lib on sys.path)

from skbus import PrivateBus  # noqa: E402
from skoptin import metadata  # noqa: E402

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"
SHUTOFF = 5  # VIR_DOMAIN_SHUTOFF
OPT_IN = metadata(isolated=True)  # skbench.Daemon manages only the domains that opt in


def node_xml(count):
    parts = ["<node>"]
    for i in range(count):
        parts.append(
            f"<domain type='test' xmlns:test='{TEST_NS}'><name>skb-{i:04d}</name>"
            f"<uuid>{uuid.UUID(int=(0x5b << 120) + i)}</uuid>{OPT_IN}"
            "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features>"
            "<devices><controller type='pci' index='0' model='pcie-root'/>"
            "<interface type='user'><mac address='52:54:00:%02x:%02x:01'/>"
            "<model type='virtio'/></interface></devices>"
            f"<test:runstate>{SHUTOFF}</test:runstate></domain>" % (i // 256, i % 256))
    parts.append("</node>")
    return "\n".join(parts)


def qemu_xml(i):
    """One small inactive q35 domain for qemu:///system (same layout as node_xml's)."""
    return (f"<domain type='qemu'><name>skb-{i:04d}</name>"
            f"<uuid>{uuid.UUID(int=(0x5b << 120) + i)}</uuid>{OPT_IN}"
            "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features>"
            "<devices><controller type='usb' model='none'/><memballoon model='none'/>"
            "<interface type='user'><mac address='52:54:00:%02x:%02x:01'/>"
            "<model type='virtio'/></interface></devices></domain>" % (i // 256, i % 256))


def system_define(count):
    import libvirt
    conn = libvirt.open("qemu:///system")
    try:
        system_undefine(conn)
        start = time.monotonic()
        for i in range(count):
            conn.defineXML(qemu_xml(i))
        return time.monotonic() - start
    finally:
        conn.close()


def system_undefine(conn=None):
    import libvirt
    own = conn is None
    conn = conn or libvirt.open("qemu:///system")
    try:
        for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE):
            if dom.name().startswith("skb-"):
                dom.undefine()
    finally:
        if own:
            conn.close()


def baseline(uri):
    """Seconds and peak RSS (KiB) of `virsh list --all` on the same node XML."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    proc = subprocess.run(["virsh", "-c", uri, "list", "--all", "--name"], capture_output=True,
                          text=True, check=True)
    elapsed = time.monotonic() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(rss, before), len(proc.stdout.split())


def cpu_seconds(pid):
    """utime + stime of @pid, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def libvirtd_pid():
    out = subprocess.run(["pidof", "libvirtd"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def idle_cpu(daemon, seconds):
    """The share of one core the idle service used over @seconds, and libvirtd's meanwhile."""
    lvd = libvirtd_pid()
    s0, l0, t0 = cpu_seconds(daemon.proc.pid), lvd and cpu_seconds(lvd), time.monotonic()
    time.sleep(seconds)
    s1, l1, t1 = cpu_seconds(daemon.proc.pid), lvd and cpu_seconds(lvd), time.monotonic()
    return 100 * (s1 - s0) / (t1 - t0), (100 * (l1 - l0) / (t1 - t0) if lvd else None)


def run_once(uri, count, workers, idle_seconds=0):
    bus = PrivateBus(prefix="skbench-bus-")
    extra = f"[service]\nworkers={workers}\n" if workers else ""
    daemon = skbench.Daemon(bus, uri, extra_config=extra, notify=True)
    try:
        ready = daemon.wait_ready()
        pattern = re.compile(r"to the persistent definition of 'skb-(\d{4})'")
        deadline = time.monotonic() + 300
        done = set()
        while time.monotonic() < deadline:
            done = set(pattern.findall(daemon.log()))
            if len(done) >= count:
                break
            if daemon.proc.poll() is not None:
                raise RuntimeError(f"slotkeeperd exited:\n{daemon.log()[-3000:]}")
            time.sleep(0.02)
        reconciled = time.monotonic() - daemon.started
        if len(done) < count:
            raise RuntimeError(f"only {len(done)} of {count} domains reconciled in 300 s")
        time.sleep(1)  # whatever the reconcile left in memory
        rss = daemon.peak_rss_kib()
        # Check one answer end to end: the service's view of a domain.
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=bus.address)
        listing = subprocess.run([skbench.SLOTKEEPER, "--user", "list"], capture_output=True,
                                 text=True, env=env, timeout=60)
        managed = sum(1 for line in listing.stdout.splitlines() if line.startswith("skb-"))
        if idle_seconds:
            time.sleep(5)  # the last events of the reconciles
            own, lvd = idle_cpu(daemon, idle_seconds)
            lvd_text = f", libvirtd {lvd:.2f}% meanwhile" if lvd is not None else ""
            print(f"idle for {idle_seconds} s with {count} managed domains: slotkeeperd used "
                  f"{own:.2f}% of a core{lvd_text}")
        return ready, reconciled, rss, managed
    finally:
        daemon.stop()
        bus.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--domains", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=0,
                    help="[service] workers (default: the service's default, 4); with the test "
                    "driver every worker connection holds its own copy of all the domains")
    ap.add_argument("--idle-seconds", type=int, default=0,
                    help="after the reconciles, measure the idle service's CPU this long")
    ap.add_argument("--system", action="store_true",
                    help="define the domains in qemu:///system instead (real driver; they are "
                    "defined afresh for each run and undefined afterwards; needs root)")
    args = ap.parse_args()
    if args.system:
        return main_system(args)

    tmp = tempfile.mkdtemp(prefix="skbench-node-")
    try:
        path = os.path.join(tmp, "node.xml")
        with open(path, "w") as f:
            f.write(node_xml(args.domains))
        uri = f"test://{path}"
        print(f"machine: {skbench.machine()}")
        print(f"{args.domains} inactive q35 domains in {uri} ({os.path.getsize(path)} bytes)")
        base_t, base_rss, listed = baseline(uri)
        assert listed == args.domains, f"virsh listed {listed} domains"
        print(f"baseline: virsh list --all: {base_t:.3f} s, peak RSS {base_rss / 1024:.1f} MiB")
        rows = []
        for run in range(args.runs):
            ready, reconciled, rss, managed = run_once(uri, args.domains, args.workers)
            rows.append((ready, reconciled, rss))
            print(f"run {run + 1}: READY after {ready:.3f} s, all {args.domains} reconciled "
                  f"after {reconciled:.3f} s, peak RSS {rss / 1024:.1f} MiB "
                  f"({managed} domains listed by `slotkeeper list`)")
        ready = sorted(r[0] for r in rows)[len(rows) // 2]
        reconciled = sorted(r[1] for r in rows)[len(rows) // 2]
        rss = max(r[2] for r in rows)
        print(f"median READY {ready:.3f} s ({ready / base_t:.1f}x virsh list), median all "
              f"reconciled {reconciled:.3f} s ({reconciled / base_t:.1f}x virsh list; target "
              f"< 5 s), max peak RSS {rss / 1024:.1f} MiB ({rss / base_rss:.1f}x virsh list; "
              "target < 64 MiB)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main_system(args):
    uri = "qemu:///system"
    print(f"machine: {skbench.machine()}")
    try:
        rows = []
        base_t = base_rss = None
        for run in range(args.runs):
            took = system_define(args.domains)
            print(f"defined {args.domains} inactive q35 domains in {uri} in {took:.1f} s")
            if base_t is None:
                base_t, base_rss, _ = baseline(uri)
                print(f"baseline: virsh list --all: {base_t:.3f} s, peak RSS "
                      f"{base_rss / 1024:.1f} MiB")
            ready, reconciled, rss, managed = run_once(uri, args.domains, args.workers,
                                                       args.idle_seconds)
            rows.append((ready, reconciled, rss))
            print(f"run {run + 1}: READY after {ready:.3f} s, all {args.domains} reconciled "
                  f"after {reconciled:.3f} s, peak RSS {rss / 1024:.1f} MiB "
                  f"({managed} domains listed by `slotkeeper list`)")
        ready = sorted(r[0] for r in rows)[len(rows) // 2]
        reconciled = sorted(r[1] for r in rows)[len(rows) // 2]
        rss = max(r[2] for r in rows)
        print(f"median READY {ready:.3f} s ({ready / base_t:.1f}x virsh list), median all "
              f"reconciled {reconciled:.3f} s ({reconciled / base_t:.1f}x virsh list), max "
              f"peak RSS {rss / 1024:.1f} MiB ({rss / base_rss:.1f}x virsh list)")
    finally:
        system_undefine()


if __name__ == "__main__":
    main()
