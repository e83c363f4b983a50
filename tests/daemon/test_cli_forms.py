"""The online and offline forms of `slots` and `plan` print the same thing for the same
definition: `slotkeeper slots DOMAIN` (asking slotkeeperd) and `slotkeeper slots --domain-xml
FILE` (FILE from libvirt) give identical JSON and identical text, refusals included."""

import json
import os

import pytest

import skdaemon
from skdaemon import free_ports, inactive_xml, live_xml, nic



@pytest.fixture(scope="module")
def cli(cli):
    """conftest's CLI, its exit status checked here (0 unless told)."""
    return lambda *args, status=0: cli(*args, status=status)


@pytest.fixture(scope="module")
def guest(domains, service):
    dom = domains.new_q35("forms", extra_devices=nic("virtio", "52:54:00:d7:f0:01"))
    skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= skdaemon.SPARE_PORTS, "spares")
    skdaemon.wait_stable(dom)
    return dom


def write(workdir, name, text):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def both(cli, online, offline, status=0):
    """(online, offline) outputs, JSON and text, which must be equal."""
    for extra in (["--json"], []):
        a = cli(*online, *extra, status=status)
        b = cli(*offline, *extra, status=status)
        if extra:
            assert json.loads(a.stdout) == json.loads(b.stdout), (a.stdout, b.stdout)
        else:
            assert a.stdout == b.stdout, f"online:\n{a.stdout}\noffline:\n{b.stdout}"
        assert a.stderr == b.stderr


def test_slots_of_the_persistent_definition(cli, guest, workdir):
    path = write(workdir, "forms-inactive.xml", inactive_xml(guest))
    both(cli, ["slots", guest.name(), "--inactive"], ["slots", "--domain-xml", path])
    out = json.loads(cli("slots", guest.name(), "--inactive", "--json").stdout)
    assert out["definition"] == "persistent"
    assert out["free_hotplug_slots"]["pcie"] == len(free_ports(inactive_xml(guest)))


def test_slots_of_a_shut_off_guest_say_persistent(cli, guest):
    """Without --inactive a shut-off guest has only its persistent definition, and says so."""
    text = cli("slots", guest.name()).stdout
    assert "persistent definition" in text.splitlines()[0], text
    assert text.splitlines()[-1] == \
        f"free hotplug slots: {len(free_ports(inactive_xml(guest)))} pcie, 0 pci"


def test_plans_and_running_slots(cli, guest, workdir):
    device = write(workdir, "forms-nic.xml", nic("virtio", "52:54:00:d7:f0:02"))
    rtl = write(workdir, "forms-rtl.xml", nic("rtl8139", "52:54:00:d7:f0:03"))
    inactive = write(workdir, "forms-inactive.xml", inactive_xml(guest))
    both(cli, ["plan", guest.name(), device, "--config"],
         ["plan", "--domain-xml", inactive, device, "--config"])

    guest.create()
    try:
        live = write(workdir, "forms-live.xml", live_xml(guest))
        inactive = write(workdir, "forms-inactive.xml", inactive_xml(guest))
        both(cli, ["slots", guest.name()], ["slots", "--domain-xml", live])
        both(cli, ["plan", guest.name(), device, "--live", "--config"],
             ["plan", "--domain-xml", live, "--config-xml", inactive, device, "--live",
              "--config"])
        # A refusal: the same dictionary, the same one line, exit 1 either way.
        both(cli, ["plan", guest.name(), rtl, "--live"],
             ["plan", "--domain-xml", live, rtl, "--live"], status=1)
    finally:
        guest.destroy()
