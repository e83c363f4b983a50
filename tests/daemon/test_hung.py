"""Faults that hang rather than fail, against the real libvirtd:

- libvirtd hung (SIGSTOP) while calls are in flight: each call answers Unavailable within the
  keepalive bound (sk-connection.c: a ping every SK_KEEPALIVE_INTERVAL s, dead after
  SK_KEEPALIVE_COUNT unanswered ones), a call for another domain made meanwhile gets its own
  answer within the same bound instead of waiting behind the first, the main thread answers at
  once throughout, and after SIGCONT the same process reconnects by itself;
- one worker's libvirt connection dropped alone (virt-admin client-disconnect): the next calls
  succeed on a new connection, the main connection stays, nothing is lost;
- the message bus goes away under the service: it exits non-zero and says so.

libvirtd is shared with whatever else runs on the host: it is stopped only for as long as the
keepalive needs, and continued in a finally (and on SIGTERM from meson's timeout)."""

import os
import re
import shutil
import subprocess
import time

import skdaemon
from skdaemon import DBusFailure, Service, free_ports, inactive_xml, nic
from skfault import (PROMPT, AsyncCall, libvirtd_pids, manager_call, manager_props, stopped,
                     timed, wait_connected)

SLACK = 10.0  # seconds on top of the keepalive bound for a busy machine
SOURCE_ROOT = os.environ.get("SK_SOURCE_ROOT", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def keepalive_bound():
    """How long libvirt takes to declare a hung libvirtd dead, from the service's constants: the
    timer fires SK_KEEPALIVE_INTERVAL s after the last packet and sends a ping, and the
    connection is closed at the tick after SK_KEEPALIVE_COUNT unanswered pings."""
    with open(os.path.join(SOURCE_ROOT, "src", "daemon", "sk-connection.c")) as f:
        source = f.read()
    found = dict(re.findall(r"#define SK_KEEPALIVE_(INTERVAL|COUNT) (\d+)", source))
    assert set(found) == {"INTERVAL", "COUNT"}, "the keepalive constants moved"
    return int(found["INTERVAL"]) * (int(found["COUNT"]) + 1)


def libvirtd_pid():
    pids = libvirtd_pids()
    if len(pids) != 1:
        skdaemon.unavailable(f"not exactly one libvirtd process here: {pids}")
    return pids[0]


def slots_call(client, dom):
    return AsyncCall(client, skdaemon.domain_path(dom.UUIDString()), skdaemon.DOMAIN_IFACE,
                     "GetSlots", "(a{sv})", ({},))


# ---- libvirtd hung ------------------------------------------------------------------------


def watch_hang(client, calls, path, hung_at, timeout):
    """Until @calls are answered and Connected is false: reads the Manager's and the domain
    object @path's properties over and over, each of which must answer at once. Returns the
    slowest read and when Connected became false (seconds since @hung_at)."""
    lost_at = None
    slowest = 0.0
    while lost_at is None or any(c.reply is None for c in calls):
        assert time.monotonic() - hung_at < timeout, \
            f"after {timeout}s: Connected lost at {lost_at}, replies {[c.reply for c in calls]}"
        took, props = timed(manager_props, client)
        slowest = max(slowest, took)
        if lost_at is None and props["Connected"] is False:
            lost_at = time.monotonic() - hung_at
        took, _ = timed(client.properties, path)
        slowest = max(slowest, took)
        client.pump(0.2)
    return slowest, lost_at


def test_libvirtd_hung(bus, workdir, domains):
    """libvirtd stopped under two calls: an attach that starts on a worker whose connection is
    already open (it blocks inside a libvirt call) and, 2 s later, a read for another domain
    (on another worker, which has to open a connection first). Both must answer Unavailable
    within the keepalive bound, each from its own start, and the Manager and domain objects
    answer at once all along. After SIGCONT the same process reconnects by itself, and the
    refused attach has done nothing, neither then nor later."""
    bound = keepalive_bound() + SLACK
    svc = Service(bus, workdir)
    svc.start()
    client = skdaemon.Client(bus)
    try:
        first = domains.new_q35("hung-a")
        other = domains.new_q35("hung-b")
        for dom in (first, other):
            skdaemon.settled(dom)
        before = {d.name(): inactive_xml(d) for d in (first, other)}
        pid = svc.proc.pid
        mac = "52:54:00:d7:f9:01"
        first_path = skdaemon.domain_path(first.UUIDString())
        other_path = skdaemon.domain_path(other.UUIDString())
        # A worker with an open connection, waiting for its next job (GLib keeps it on the
        # pool for half a second).
        client.domain(first_path, "GetSlots", "(a{sv})", {}, reply="(aa{sv})")
        with stopped(libvirtd_pid()) as hung_at:
            inflight = manager_call(client, "AttachDevice", "(ssa{sv})", first.name(),
                                    nic("virtio", mac), skdaemon.opts(config=True))
            client.pump(2)
            assert inflight.reply is None, f"answered while libvirtd is stopped: {inflight.reply}"
            meanwhile = slots_call(client, other)
            slowest, lost_at = watch_hang(client, [inflight, meanwhile], other_path, hung_at,
                                          bound + 5)
            # Disconnected: the service answers by itself.
            took_down, result = timed(client.domain, other_path, "GetSlots", "(a{sv})", {},
                                      reply="(aa{sv})")
        continued_at = time.monotonic()
        replies = {"attach in flight": inflight, "GetSlots meanwhile": meanwhile}
        for what, call in replies.items():
            print(f"{what}: {call.reply} after {call.elapsed:.1f}s")
        print(f"bound {bound:.0f}s; Connected false after {lost_at:.1f}s; slowest property "
              f"read {slowest:.2f}s; GetSlots while down {took_down:.2f}s")
        for what, call in replies.items():
            assert call.reply[:2] == ("error", skdaemon.ERROR_PREFIX + "Unavailable"), \
                (what, call.reply)
            assert call.elapsed <= bound, (what, call.elapsed)
        assert lost_at <= bound
        assert slowest <= PROMPT, f"a property read waited {slowest:.1f}s for libvirtd"
        assert isinstance(result, DBusFailure) and result.name.endswith("Unavailable"), result
        assert took_down <= PROMPT

        # Recovery without a restart.
        wait_connected(client, True, 30)
        print(f"connected again {time.monotonic() - continued_at:.1f}s after SIGCONT")
        assert svc.running() and svc.proc.pid == pid
        for path in (first_path, other_path):
            client.domain(path, "GetSlots", "(a{sv})", {}, reply="(aa{sv})")
        # The refused attach did nothing, then or later; a new one works.
        mac2 = "52:54:00:d7:f9:02"
        client.attach(first.name(), nic("virtio", mac2), config=True)
        xml = inactive_xml(skdaemon.settled(first))
        assert mac2 in xml and mac not in xml
        assert inactive_xml(other) == before[other.name()]
    finally:
        client.close()
        svc.stop()


# ---- one worker's connection dropped ------------------------------------------------------


def virt_admin(*args):
    if not shutil.which("virt-admin"):
        skdaemon.unavailable("virt-admin is not installed (apt-get install libvirt-clients)")
    res = subprocess.run(["virt-admin", "-c", "libvirtd:///system"] + list(args),
                         capture_output=True, text=True, timeout=30)
    return res.returncode, res.stdout + res.stderr


def libvirt_clients(pid):
    """libvirtd's client ids of process @pid, oldest first (libvirtd numbers them upwards)."""
    rc, out = virt_admin("srv-clients-list", "libvirtd")
    assert rc == 0, out
    mine = []
    for client_id in re.findall(r"^\s*(\d+)\s+unix\b", out, re.M):
        rc, info = virt_admin("client-info", "libvirtd", client_id)
        m = re.search(r"^unix_process_id\s*:\s*(\d+)", info, re.M)
        if rc == 0 and m and int(m.group(1)) == pid:  # (a client may have left meanwhile)
            mine.append(int(client_id))
    return sorted(mine)


def test_worker_connection_dropped(bus, workdir, domains):
    """libvirtd drops the service's worker connection (virt-admin client-disconnect) and
    nothing else: the main connection stays (Connected never false, no reconnect), the next
    calls - made at once - succeed on a connection the worker opens again, and the device and
    the spares the domain had are all there."""
    svc = Service(bus, workdir)
    with open(svc.config, "a") as f:
        f.write("[service]\nworkers=1\n")  # one worker: the next job is its
    svc.start()
    client = skdaemon.Client(bus)
    try:
        dom = domains.new_q35("drop")
        skdaemon.settled(dom)
        path = skdaemon.domain_path(dom.UUIDString())
        mac = "52:54:00:d7:f9:11"
        client.attach(dom.name(), nic("virtio", mac), config=True)
        kept = inactive_xml(skdaemon.settled(dom))
        assert mac in kept and len(free_ports(kept)) == skdaemon.SPARE_PORTS
        for round_ in range(2):
            client.domain(path, "GetSlots", "(a{sv})", {}, reply="(aa{sv})")
            ids = libvirt_clients(svc.proc.pid)
            assert len(ids) >= 2, f"expected the main and a worker connection: {ids}"
            main, workers = ids[0], ids[1:]
            for client_id in workers:
                rc, out = virt_admin("client-disconnect", "libvirtd", str(client_id))
                assert rc == 0, out
            # At once: the worker may not have seen its connection close yet.
            slots = client.domain(path, "GetSlots", "(a{sv})", {}, reply="(aa{sv})")[0]
            assert slots, "no PCI tree"
            if round_ == 1:
                mac2 = "52:54:00:d7:f9:12"
                _, address = client.attach(dom.name(), nic("virtio", mac2), config=True)
            after = libvirt_clients(svc.proc.pid)
            print(f"round {round_}: connections {ids} -> dropped {workers} -> {after}")
            assert main in after and not set(workers) & set(after), after
            assert manager_props(client)["Connected"] is True
        log = svc.log()
        assert "lost the connection to libvirt" not in log, log
        assert "a worker's connection to" in log, "no worker found its connection closed"
        xml = inactive_xml(skdaemon.settled(dom))
        assert mac in xml and mac2 in xml, xml
        assert len(free_ports(xml)) == skdaemon.SPARE_PORTS, xml
        assert skdaemon.device_address(xml, mac) == skdaemon.device_address(kept, mac)
        assert skdaemon.device_address(xml, mac2) == skdaemon.parse_addr(address)
        assert path in client.managed_objects()
    finally:
        client.close()
        svc.stop()


# ---- the message bus goes away ------------------------------------------------------------


def test_bus_lost(workdir, conn):
    """The dbus-daemon is killed under a running service: it cannot serve anyone any more, so
    it must exit non-zero at once and its log must say that the bus connection was lost, not
    suggest that another slotkeeperd holds the name."""
    bus = skdaemon.PrivateBus()
    svc = Service(bus, workdir)
    try:
        svc.start()
        bus.proc.kill()
        bus.proc.wait(5)
        killed_at = time.monotonic()
        proc, svc.proc = svc.proc, None
        rc = proc.wait(skdaemon.STOP_TIMEOUT)
        print(f"slotkeeperd exited {rc} {time.monotonic() - killed_at:.2f}s after the bus")
        log = svc.log()
        assert rc not in (0, None) and rc > 0, f"exit status {rc}:\n{log}"
        assert "lost the connection to the message bus" in log, log
        assert "another slotkeeperd" not in log and "another process" not in log, log
    finally:
        svc.stop(check=False)
        bus.close()
