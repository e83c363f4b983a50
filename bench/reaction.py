#!/usr/bin/python3
"""Reaction time: a plain `virsh attach-device` (no address: libvirt takes one of the spare root
ports) until slotkeeperd has put a replacement spare into the persistent XML.

  live+config, running guest: libvirt emits a device-added event, the service reconciles.
  config only, shut-off guest: libvirt 9.0 emits no device event; the service notices at its
  next periodic rescan ([service] rescan-seconds, default 30) unless another event comes.

The baseline is the `virsh attach-device` call itself, measured in the same run. The script also
records what `virsh event --all --loop` sees during a config-only attach.

    /usr/bin/python3 bench/reaction.py [--samples 8] [--config-samples 3] [--rescan-seconds N]"""

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
PER_GUEST = 3


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


def define(doms, suffix):
    """A q35 guest with nothing to boot (SeaBIOS forever: a live attach needs no guest OS),
    opted in through its metadata."""
    return doms.define(q35_xml(doms.prefix + suffix))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=9, help="live+config attaches")
    ap.add_argument("--log", default="/tmp/skbench-reaction-slotkeeperd.log",
                    help="the service's log (--verbose)")
    ap.add_argument("--config-samples", type=int, default=3)
    ap.add_argument("--rescan-seconds", type=int, default=None,
                    help="the service's [service] rescan-seconds (default: its own, 30)")
    args = ap.parse_args()
    conn = open_libvirt()
    doms = bench_guest.domains(conn)
    tmp = tempfile.mkdtemp(prefix="skbench-react-")
    bus = PrivateBus(prefix="skbench-bus-")
    extra = ("" if args.rescan_seconds is None
             else f"[service]\nrescan-seconds={args.rescan_seconds}\n")
    daemon = skbench.Daemon(bus, "qemu:///system", extra_config=extra, verbose=True,
                            log=args.log)
    try:
        daemon.wait_name()
        # A running guest has the ports it booted with: PER_GUEST live attaches each.
        lives = [define(doms, f"react-live{i}")
                 for i in range((args.samples + PER_GUEST - 1) // PER_GUEST)]
        cold = define(doms, "react-config")
        for dom in lives + [cold]:
            if wait_spares(dom, SPARES, 60) is None:
                raise RuntimeError(f"{dom.name()} got no spares")
        time.sleep(2)
        for dom in lives:
            dom.create()
        print(f"machine: {skbench.machine()}")
        rows = {"live": [], "config": []}
        calls = {"live": [], "config": []}
        foreign = {"live": 0, "config": 0}
        lost_devices = {"live": 0, "config": 0}
        seq = 0
        work = [("live", lives[i // PER_GUEST]) for i in range(args.samples)]
        work += [("config", cold)] * args.config_samples
        for kind, dom in work:
            if True:
                seq += 1
                wait_spares(dom, SPARES, 60)
                time.sleep(1)
                path = os.path.join(tmp, f"{seq}.xml")
                with open(path, "w") as f:
                    f.write(f"<interface type='user'><mac address='52:54:00:ee:00:{seq:02x}'/>"
                            "<model type='virtio'/></interface>")
                events = None
                if kind == "config" and seq == args.samples + 1:
                    events = subprocess.Popen(
                        ["virsh", "-c", "qemu:///system", "event", "--all", "--loop",
                         "--timestamp"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        text=True)
                    time.sleep(1)
                mark = f"to the persistent definition of '{dom.name()}'"
                ours = daemon.log().count(mark)
                flags = ("--live", "--config") if kind == "live" else ("--config",)
                start, end = virsh("attach-device", dom.name(), path, *flags)
                if len(free_ports(inactive_xml(dom))) >= SPARES:
                    done = end  # already replaced when we first looked
                else:
                    done = wait_spares(dom, SPARES, 120)
                if events:
                    time.sleep(2)
                    events.terminate()
                    out = events.communicate()[0]
                    mine = [line for line in out.splitlines() if dom.name() in line]
                    print(f"virsh event --all --loop during `attach-device --config` of "
                          f"{dom.name()}: {mine or 'no event for the domain'}")
                if done is None:
                    print(f"{kind}: no replacement spare within 120 s")
                    continue
                time.sleep(0.2)
                # The service's define must not have dropped the device virsh just attached.
                mac = f"52:54:00:ee:00:{seq:02x}"
                if mac not in inactive_xml(dom):
                    lost_devices[kind] += 1
                    print(f"{kind}: the attached device {mac} is gone from the persistent XML")
                # Every slotkeeperd on the host that manages opted-in domains (other test runs)
                # may have been first: count only the replacements this service made.
                if daemon.log().count(mark) == ours:
                    foreign[kind] += 1
                    print(f"{kind}: replacement spare after {1000 * (done - end):.0f} ms, made "
                          "by another slotkeeperd on this host: not counted")
                    continue
                rows[kind].append(done - end)
                calls[kind].append(end - start)
                print(f"{kind}: virsh attach {1000 * (end - start):.0f} ms, replacement spare "
                      f"{1000 * (done - end):.0f} ms after it returned")
        print("summary (median, p95; ratio to the virsh attach-device call of the same run):")
        for kind in ("live", "config"):
            if not rows[kind]:
                continue
            med, p95 = skbench.stats(rows[kind])
            base = skbench.stats(calls[kind])[0]
            print(f"  {kind:<6} replacement spare after {med * 1000:.0f} ms median, "
                  f"{p95 * 1000:.0f} ms p95 over {len(rows[kind])} attaches; virsh attach "
                  f"itself {base * 1000:.0f} ms; ratio {med / base:.1f}; {foreign[kind]} "
                  "replaced by another slotkeeperd, not counted; the attached device lost from "
                  f"the persistent XML {lost_devices[kind]} times")
    finally:
        doms.cleanup()
        daemon.stop()
        bus.close()
        conn.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
