"""A blocking libvirt call for one domain does not stall D-Bus for the others: a live detach
from a guest with no OS blocks in libvirt for about 5 s (it waits for an unplug the guest never
acknowledges); meanwhile properties, GetManagedObjects and a Plan for another domain answer at
once."""

import time

import skdaemon
from skdaemon import free_ports, nic

FAST = 2.0  # seconds: far below libvirt's 5 s wait for the unplug


def test_other_domains_answer_during_a_blocking_call(client, domains):
    _, GLib = skdaemon.gio()
    Gio, _ = skdaemon.gio()
    busy = domains.new_q35("busy")
    other = domains.new_q35("other")
    for dom in (busy, other):
        skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= skdaemon.SPARE_PORTS, "spares")
        skdaemon.wait_stable(dom)
    busy.create()
    mac = "52:54:00:d7:60:01"
    client.attach(busy.name(), nic("virtio", mac), live=True)

    done = []
    started = time.monotonic()
    client.conn.call(
        skdaemon.BUS_NAME, skdaemon.MANAGER_PATH, skdaemon.MANAGER_IFACE, "DetachDevice",
        GLib.Variant("(ssa{sv})", (busy.name(), nic("virtio", mac), skdaemon.opts(live=True))),
        None, Gio.DBusCallFlags.NONE, 120000, None,
        lambda conn, res: done.append((time.monotonic() - started, res, conn)))
    client.pump(0.3)  # the call reaches the service and its worker blocks in libvirt

    timings = {}
    t = time.monotonic()
    client.properties(skdaemon.MANAGER_PATH, skdaemon.MANAGER_IFACE)
    timings["Manager properties"] = time.monotonic() - t
    t = time.monotonic()
    objects = client.managed_objects()
    timings["GetManagedObjects"] = time.monotonic() - t
    t = time.monotonic()
    plan = client.manager("Plan", "(ssa{sv})", other.name(), nic("virtio", "52:54:00:d7:60:02"),
                          skdaemon.opts(config=True), reply="(a{sv})")[0]
    timings["Plan for another domain"] = time.monotonic() - t
    t = time.monotonic()
    client.properties(skdaemon.domain_path(other.UUIDString()))
    timings["another domain's properties"] = time.monotonic() - t
    blocked_for = time.monotonic() - started

    deadline = time.monotonic() + 60
    while not done and time.monotonic() < deadline:
        client.pump(0.1)
    assert done, "DetachDevice never replied"
    elapsed, res, conn = done[0]
    try:
        conn.call_finish(res)
    except GLib.Error:
        pass  # libvirt may report the unacknowledged unplug; only the timing matters here

    assert plan["ok"] is True, plan
    assert skdaemon.domain_path(other.UUIDString()) in objects
    slow = {k: round(v, 2) for k, v in timings.items() if v > FAST}
    # (Observed with libvirt 9.0: while one thread waits in virDomainDetachDeviceFlags, some
    # later calls by other threads on the same virConnect wait too, while a second connection
    # answers at once - so a single shared connection is enough to fail this.)
    assert not slow, f"calls stalled while another domain's libvirt call blocked: {slow}"
    # The check is only meaningful if the detach really was still blocking meanwhile.
    assert elapsed > blocked_for, \
        f"the detach replied after {elapsed:.1f}s, before the other calls were done " \
        f"({blocked_for:.1f}s): nothing blocked, the test proved nothing"
