#!/usr/bin/python3
"""Attach latency on one booted TCG guest (live + config, virtio NIC): through slotkeeper's CLI
and a raw D-Bus AttachDevice call, against the baselines `virsh attach-device --live --config`
and libvirt's API (virDomainAttachDeviceFlags) with an explicit free address, measured
interleaved in the same run. Each cycle attaches and detaches with the same method and waits
until the guest has let the device go.

    /usr/bin/python3 bench/attach-latency.py [--cycles 50] [--log FILE]

With --log the service runs with --verbose and its log has one line per job saying where the
time went (waiting, lookup, reading the definitions, the libvirt call, reading again).
SLOTKEEPERD=PATH picks the service binary (default: build/src/daemon/slotkeeperd)."""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import skbench  # noqa: E402  (first: it puts tests/lib on sys.path)
import guest as bench_guest  # noqa: E402

from skbus import PrivateBus  # noqa: E402
from skclient import opts  # noqa: E402
from sklibvirt import inactive_xml, live_xml, open_libvirt  # noqa: E402
from sknames import BUS_NAME, MANAGER_IFACE, MANAGER_PATH  # noqa: E402
from skpci import device_address, free_ports  # noqa: E402
from skxml import nic  # noqa: E402

METHODS = ["virsh", "api", "cli", "dbus"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cycles", type=int, default=50)
    ap.add_argument("--log", default=None,
                    help="keep the service's --verbose log here (each job's timeline)")
    args = ap.parse_args()

    import libvirt
    from gi.repository import Gio, GLib

    conn = open_libvirt()
    doms = bench_guest.domains(conn)
    files = bench_guest.guest_files()
    tmp = tempfile.mkdtemp(prefix="skbench-lat-")
    bus = PrivateBus(prefix="skbench-bus-")
    daemon = skbench.Daemon(bus, "qemu:///system", log=args.log, verbose=args.log is not None)
    g = None
    try:
        daemon.wait_name()
        g = bench_guest.Guest(doms, files, "lat", spare_ports=6)
        dom = g.dom
        deadline = time.monotonic() + 60
        while len(free_ports(inactive_xml(dom))) < 6 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)
        g.boot()
        print(f"machine: {skbench.machine()}")
        print(f"guest {g.name} booted; {args.cycles} cycles per method, interleaved")
        dbus = bus.connection()
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=bus.address)
        flags = libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG
        options = opts(live=True, config=True)
        times = {m: [] for m in METHODS}
        detach_times = {m: [] for m in METHODS}
        rng = random.Random(1)

        def dbus_args(xml):
            # Built before the clock starts, as the baselines' XML is: PyGObject takes about
            # 0.2 ms to build these, which is the client library's time, not the service's.
            return GLib.Variant("(ssa{sv})", (g.name, xml, options))

        def dbus_call(method, args, reply):
            dbus.call_sync(BUS_NAME, MANAGER_PATH, MANAGER_IFACE, method, args,
                           GLib.VariantType.new(reply) if reply else None,
                           Gio.DBusCallFlags.NONE, 60000, None)

        def run(argv):
            proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(argv)}: {proc.stderr}")

        seq = 0
        for cycle in range(args.cycles):
            order = METHODS[:]
            rng.shuffle(order)
            for method in order:
                seq += 1
                mac = f"52:54:00:be:{seq // 256:02x}:{seq % 256:02x}"
                # The baselines get an explicit address free in both definitions, found
                # outside the timing (slotkeeper does that work inside its call).
                free = sorted(set(free_ports(live_xml(dom))) & set(free_ports(inactive_xml(dom))))
                explicit = nic("virtio", mac, bus=free[0])
                plain = nic("virtio", mac)
                path = os.path.join(tmp, f"{seq}.xml")
                with open(path, "w") as f:
                    f.write(explicit if method in ("virsh", "api") else plain)
                args = dbus_args(plain)
                start = time.monotonic()
                if method == "virsh":
                    run(["virsh", "-q", "-c", "qemu:///system", "attach-device", g.name, path,
                         "--live", "--config"])
                elif method == "api":
                    dom.attachDeviceFlags(explicit, flags)
                elif method == "cli":
                    run([skbench.SLOTKEEPER, "--user", "attach-device", g.name, path, "--live",
                         "--config"])
                else:
                    dbus_call("AttachDevice", args, "(ss)")
                times[method].append(time.monotonic() - start)
                addr = device_address(live_xml(dom), mac)
                assert addr is not None and addr == device_address(inactive_xml(dom), mac), \
                    f"{method}: {mac} not at one address in both definitions"
                time.sleep(0.3)  # let the guest take the device, and slotkeeper top up
                args = dbus_args(plain)
                start = time.monotonic()
                if method == "virsh":
                    run(["virsh", "-q", "-c", "qemu:///system", "detach-device", g.name, path,
                         "--live", "--config"])
                elif method == "api":
                    dom.detachDeviceFlags(explicit, flags)
                elif method == "cli":
                    run([skbench.SLOTKEEPER, "--user", "detach-device", g.name, path, "--live",
                         "--config"])
                else:
                    dbus_call("DetachDevice", args, None)
                detach_times[method].append(time.monotonic() - start)
                while device_address(live_xml(dom), mac) is not None:
                    time.sleep(0.05)
                time.sleep(0.3)
        base = {m: skbench.stats(times[m]) for m in METHODS}
        print(f"{'method':<44} {'median':>9} {'p95':>9}  ratio to virsh (median, p95)")
        labels = {
            "virsh": "baseline: virsh attach-device, explicit addr",
            "api": "baseline: libvirt API, explicit address",
            "cli": "slotkeeper attach-device (CLI)",
            "dbus": "D-Bus AttachDevice (raw call)",
        }
        for m in METHODS:
            med, p95 = base[m]
            print(f"{labels[m]:<44} {med * 1000:8.1f}ms {p95 * 1000:8.1f}ms  "
                  f"{med / base['virsh'][0]:.2f}, {p95 / base['virsh'][1]:.2f}")
        print(f"D-Bus call / libvirt API: median {base['dbus'][0] / base['api'][0]:.2f}, "
              f"p95 {base['dbus'][1] / base['api'][1]:.2f}")
        print("detach (median ms): " + ", ".join(
            f"{m} {skbench.stats(detach_times[m])[0] * 1000:.1f}" for m in METHODS))
    finally:
        if g:
            g.remove()
        daemon.stop()
        bus.close()
        conn.close()
        shutil.rmtree(files, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
