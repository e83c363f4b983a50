"""The Manager's Event signal (what `slotkeeper monitor` shows): reconciled, attached, detached,
refused and policy-changed, each with the domain's name and a message; and the monitor verb
printing them."""

import os
import signal
import subprocess
import time

import pytest

import skdaemon
from skdaemon import MANAGER_IFACE, free_ports, nic


def events(client, kind, name):
    return [s[3][1] for s in client.signals
            if s[1] == MANAGER_IFACE and s[2] == "Event" and s[3][0] == kind
            and s[3][1].get("domain") == name]


def wait_event(client, kind, name, timeout=skdaemon.SETTLE_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = events(client, kind, name)
        if found:
            return found[-1]
        client.pump(0.2)
    pytest.fail(f"no Event {kind!r} for {name} within {timeout}s; signals: "
                f"{[s[2:] for s in client.signals][-20:]}", pytrace=False)


@pytest.fixture(scope="module")
def monitor(bus, service, workdir):
    """`slotkeeper --user monitor` running for the whole module; yields a function returning
    what it printed so far."""
    cli = os.environ.get("SLOTKEEPER")
    if not cli or not os.access(cli, os.X_OK):
        skdaemon.unavailable("SLOTKEEPER is not set to the built CLI")
    out_path = os.path.join(workdir, "monitor.out")
    out = open(out_path, "w")
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=bus.address)
    proc = subprocess.Popen([cli, "--user", "monitor"], stdout=out, stderr=subprocess.STDOUT,
                            env=env)
    out.close()
    time.sleep(1)

    def text():
        with open(out_path, errors="replace") as f:
            return f.read()

    yield text
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_events_of_a_domain_life(client, domains, monitor):
    client.signals.clear()
    dom = domains.new_q35("events")
    name = dom.name()
    ev = wait_event(client, "reconciled", name)
    assert ev["message"].strip() and ev.get("uuid") == dom.UUIDString(), ev
    skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= skdaemon.SPARE_PORTS, "spares")
    skdaemon.wait_stable(dom)

    mac = "52:54:00:d7:50:01"
    _, address = client.attach(name, nic("virtio", mac), config=True)
    ev = wait_event(client, "attached", name)
    assert ev.get("address") == address, ev

    client.detach(name, nic("virtio", mac), config=True)
    wait_event(client, "detached", name)

    client.set_policy(name, legacy_bridge="never")
    wait_event(client, "policy-changed", name)

    client.expect_error("NoFreeSlot", client.attach, name, nic("rtl8139", "52:54:00:d7:50:02"),
                        config=True)
    ev = wait_event(client, "refused", name)
    assert ev["message"].strip(), ev

    # The monitor printed them, naming the domain.
    kinds = ("attached", "detached", "refused")

    def lines():
        return [line for line in monitor().splitlines() if name in line]

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(any(k in x for x in lines()) for k in kinds):
        time.sleep(0.2)
    text = monitor()
    found = lines()
    for kind in kinds:
        assert any(kind in line for line in found), \
            f"monitor printed no {kind!r} line for {name}:\n{text}"
