"""Bad inputs get the documented error names, with a message, and change nothing."""

import time

import pytest

import skdaemon
from skdaemon import free_ports, inactive_xml, nic


@pytest.fixture(scope="module")
def target(domains, service):
    """A managed shut-off guest with its spares, settled."""
    return skdaemon.settled(domains.new_q35("errors"))


@pytest.fixture
def unchanged(target):
    """Asserts after the test that the guest's definition is exactly as before."""
    before = inactive_xml(target)
    yield target
    time.sleep(1)
    assert inactive_xml(target) == before, "a refused call changed the definition"


GOOD_NIC = nic("virtio", "52:54:00:d7:10:01")


@pytest.mark.parametrize("xml", [
    "<interface type='user'><model type='virtio'/>",  # not well-formed
    "",
    "<interface type='user'><model type='virtio'/></interface> trailing",
])
def test_malformed_xml(client, unchanged, xml):
    client.expect_error("InvalidXml", client.attach, unchanged.name(), xml, config=True)


@pytest.mark.parametrize("xml", [
    "<domain type='qemu'><name>x</name></domain>",  # a domain, not a device
    "<nosuchdevice/>",
])
def test_not_a_device(client, unchanged, xml):
    err = pytest.raises(skdaemon.DBusFailure, client.attach, unchanged.name(), xml, config=True)
    assert err.value.name in (skdaemon.ERROR_PREFIX + "InvalidDevice",
                              skdaemon.ERROR_PREFIX + "InvalidXml"), err.value


def test_bad_address(client, unchanged):
    xml = ("<interface type='user'><model type='virtio'/>"
           "<address type='pci' domain='0x0000' bus='0x77' slot='0x00' function='0x0'/>"
           "</interface>")
    err = pytest.raises(skdaemon.DBusFailure, client.attach, unchanged.name(), xml, config=True)
    assert err.value.name in (skdaemon.ERROR_PREFIX + "InvalidAddress",
                              skdaemon.ERROR_PREFIX + "InvalidDevice"), err.value


def test_unknown_domain(client, target):
    bogus = skdaemon.PREFIX + "no-such-domain"
    client.expect_error("NoSuchDomain", client.attach, bogus, GOOD_NIC, config=True)
    client.expect_error("NoSuchDomain", client.detach, bogus, GOOD_NIC, config=True)
    client.expect_error("NoSuchDomain", client.get_domain, bogus)
    client.expect_error("NoSuchDomain", client.reconcile, bogus)
    client.expect_error("NoSuchDomain", client.set_policy, bogus, spare_ports=2)
    client.expect_error("NoSuchDomain", client.get_domain, "00000000-0000-0000-0000-000000000001")


def test_wrong_option_types(client, unchanged):
    _, GLib = skdaemon.gio()
    name = unchanged.name()
    for options in ({"live": GLib.Variant("s", "yes")},
                    {"config": GLib.Variant("u", 1)},
                    {"hotplug_require": "maybe"},
                    {"hotplug_require": GLib.Variant("b", False)},
                    {"no_such_option": True}):
        client.expect_error("InvalidArgument", client.attach, name, GOOD_NIC, **options)


def test_bad_policy(client, unchanged):
    _, GLib = skdaemon.gio()
    name = unchanged.name()
    for policy in ({"spare_ports": GLib.Variant("s", "4")},
                   {"legacy_bridge": "sometimes"},
                   {"managed": GLib.Variant("s", "yes")}):
        client.expect_error("InvalidArgument", client.set_policy, name, **policy)


def test_detach_of_absent_device(client, unchanged):
    """Detaching what is not there fails (libvirt's device-missing error, mapped to
    InvalidDevice) and changes nothing."""
    client.expect_error("InvalidDevice", client.detach, unchanged.name(),
                        nic("virtio", "52:54:00:d7:10:99"), config=True)


def test_plan_changes_nothing(client, unchanged):
    """Plan says what AttachDevice would do (here: add the legacy chain for an rtl8139) and
    changes nothing; a refusal is a normal reply with ok false."""
    name = unchanged.name()
    plan = client.manager("Plan", "(ssa{sv})", name, nic("rtl8139", "52:54:00:d7:10:02"),
                          skdaemon.opts(config=True), reply="(a{sv})")[0]
    assert plan["ok"] is True, plan
    assert skdaemon.parse_addr(plan["address"])
    models = {c["model"] for c in plan["controllers"]}
    assert {"pcie-root-port", "pcie-to-pci-bridge"} <= models, plan
    assert plan["reasons"], plan
    # A live plan for a shut-off guest is bad input, not a refusal.
    client.expect_error("Failed", client.manager, "Plan", "(ssa{sv})", name, GOOD_NIC,
                        skdaemon.opts(live=True), reply="(a{sv})")


def test_plan_refusal_is_a_reply(client, domains):
    dom = domains.new_q35("plan-never", policy={"legacy-bridge": "never"})
    skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= skdaemon.SPARE_PORTS, "spares")
    before = skdaemon.wait_stable(dom)
    plan = client.manager("Plan", "(ssa{sv})", dom.name(), nic("rtl8139", "52:54:00:d7:10:03"),
                          skdaemon.opts(config=True), reply="(a{sv})")[0]
    assert plan["ok"] is False, plan
    assert plan["error"] == skdaemon.ERROR_PREFIX + "NoFreeSlot", plan
    assert plan["message"].strip(), plan
    time.sleep(1)
    assert inactive_xml(dom) == before
