"""Hostile requests: oversized, deeply nested or entity-laden device XML, addresses out of
range, oversized option dictionaries and domain arguments. Each is refused with the documented
error name, and the domain's persistent definition stays byte-identical (checked by the
`unchanged` fixture of test_errors). No external entity is ever fetched: a local HTTP listener
named in the XML must see no connection."""

import socket

import pytest

import skdaemon
from skdaemon import nic
from test_errors import target, unchanged  # noqa: F401  (fixtures, shared on purpose)

DEVICE_MAX = 65536
GOOD_NIC = nic("virtio", "52:54:00:d7:20:01")
HEAD = "<interface type='user'><mac address='52:54:00:d7:20:02'/><model type='virtio'/>"
TAIL = "</interface>"


def nested(depth):
    """A NIC whose elements nest @depth deep in all (the <interface> is depth 1)."""
    return HEAD + "<x>" * (depth - 1) + "</x>" * (depth - 1) + TAIL


def raw_call(client, method, params, reply=None):
    """Client.call with ready-made parameters (for a{sv} with repeated keys)."""
    Gio, GLib = skdaemon.gio()
    rtype = GLib.VariantType.new(reply) if reply else None
    try:
        res = client.conn.call_sync(skdaemon.BUS_NAME, skdaemon.MANAGER_PATH,
                                    skdaemon.MANAGER_IFACE, method, params, rtype,
                                    Gio.DBusCallFlags.NONE, 120 * 1000, None)
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e)
        if name is None:
            raise
        raise skdaemon.DBusFailure(name, e.message) from None
    finally:
        client.pump()
    return res.unpack()


def repeated_options(n, key="config", value=True):
    """An a{sv} of @n entries, all with the same known key."""
    _, GLib = skdaemon.gio()
    entry = GLib.Variant.new_dict_entry(GLib.Variant("s", key),
                                        GLib.Variant("v", GLib.Variant("b", value)))
    return GLib.Variant.new_array(None, [entry] * n)


def plan_params(name, xml, options):
    _, GLib = skdaemon.gio()
    return GLib.Variant.new_tuple(GLib.Variant("s", name), GLib.Variant("s", xml), options)


def check_message(err, *fragments):
    assert len(err.message) < 2048, f"error message of {len(err.message)} bytes"
    for fragment in fragments:
        assert fragment in err.message, f"{err.name}: '{err.message}' lacks '{fragment}'"


# (id, device XML, error name, fragments the message must contain)
LIMITS = [
    ("size", HEAD + " " * (DEVICE_MAX - len(HEAD) - len(TAIL) + 1) + TAIL, "InvalidArgument",
     ["too large", f"{DEVICE_MAX + 1} bytes", f"limit {DEVICE_MAX}"]),
    ("size-1mib", HEAD + "<!--" + "x" * (1 << 20) + "-->" + TAIL, "InvalidArgument",
     ["too large", f"limit {DEVICE_MAX}"]),
    ("depth-33", nested(33), "InvalidArgument", ["depth 33", "limit 32"]),
    ("depth-1000", nested(1000), "InvalidArgument", ["limit 32"]),
    ("elements", HEAD + "<a/>" * 1100 + TAIL, "InvalidArgument", ["too many elements",
                                                                  "limit 1024"]),
    ("attributes", "<interface type='user'" + "".join(f" a{i}='x'" for i in range(70)) + ">"
     "<model type='virtio'/>" + TAIL,
     "InvalidArgument", ["too many attributes", "limit 64"]),
    ("attribute-length", HEAD + "<alias name='" + "v" * 5000 + "'/>" + TAIL, "InvalidArgument",
     ["5000 bytes", "limit 4096"]),
]

STRUCTURE = [
    ("two-elements", GOOD_NIC + GOOD_NIC, "InvalidXml"),
    ("element-and-junk", GOOD_NIC + "<", "InvalidXml"),
    ("comment-only", "<!-- nothing -->", "InvalidXml"),
    ("doctype-file", "<!DOCTYPE interface SYSTEM 'file:///etc/passwd'>" + GOOD_NIC, "InvalidXml"),
    ("entity-file", "<!DOCTYPE i [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
     "<interface type='user'><alias name='&x;'/><model type='virtio'/></interface>",
     "InvalidXml"),
    ("billion-laughs", "<!DOCTYPE i [<!ENTITY a 'lol'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;'>"
     "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;'>]>"
     "<interface type='user'><alias name='&d;'/></interface>", "InvalidXml"),
    ("doctype-utf7", "<?xml version='1.0' encoding='UTF-7'?>\n"
     "+ADw-+ACE-DOCTYPE i SYSTEM 'file:///etc/passwd'+AD4-" + GOOD_NIC, "InvalidXml"),
    ("undefined-entity", "<interface type='&x;'/>", "InvalidXml"),
    ("domain-not-device", "<domain type='qemu'><name>x</name><devices>" + GOOD_NIC +
     "</devices></domain>", "InvalidDevice"),
]


@pytest.mark.parametrize("xml,error,fragments", [c[1:] for c in LIMITS],
                         ids=[c[0] for c in LIMITS])
def test_device_limits(client, unchanged, xml, error, fragments):  # noqa: F811
    name = unchanged.name()
    for call in (lambda: client.attach(name, xml, config=True),
                 lambda: client.detach(name, xml, config=True),
                 lambda: client.manager("Plan", "(ssa{sv})", name, xml,
                                        skdaemon.opts(config=True), reply="(a{sv})")):
        err = client.expect_error(error, call)
        check_message(err, *fragments)


@pytest.mark.parametrize("xml,error", [c[1:] for c in STRUCTURE], ids=[c[0] for c in STRUCTURE])
def test_device_structure(client, unchanged, xml, error):  # noqa: F811
    err = client.expect_error(error, client.attach, unchanged.name(), xml, config=True)
    check_message(err)
    assert "root:" not in err.message, "a file's content leaked into the reply"
    if error != "InvalidDevice":
        err = client.expect_error(error, client.detach, unchanged.name(), xml, config=True)
        assert "root:" not in err.message


FIELDS = [("domain", "0x10000"), ("bus", "0x100"), ("slot", "0x20"), ("function", "8"),
          ("bus", "0xzz"), ("slot", "-1"), ("function", "1e3"), ("domain", "4294967296"),
          ("slot", " 1")]


@pytest.mark.parametrize("field,value", FIELDS, ids=[f"{f}={v}" for f, v in FIELDS])
def test_address_out_of_range(client, unchanged, field, value):  # noqa: F811
    xml = HEAD + f"<address type='pci' {field}='{value}'/>" + TAIL
    err = client.expect_error("InvalidAddress", client.attach, unchanged.name(), xml, config=True)
    check_message(err, f"{field}=")


@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1 that must never be connected to."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock.getsockname()[1]
    try:
        conn, peer = sock.accept()
        conn.close()
        pytest.fail(f"something fetched an external entity: connection from {peer}")
    except BlockingIOError:
        pass
    finally:
        sock.close()


def test_no_network_entities(client, unchanged, listener):  # noqa: F811
    url = f"http://127.0.0.1:{listener}/"
    name = unchanged.name()
    for xml in (f"<!DOCTYPE interface SYSTEM '{url}'>" + GOOD_NIC,
                f"<!DOCTYPE interface PUBLIC '-//x//EN' '{url}x.dtd'>" + GOOD_NIC,
                f"<!DOCTYPE i [<!ENTITY x SYSTEM '{url}'>]>"
                "<interface type='user'><alias name='&x;'/></interface>",
                f"<!DOCTYPE i [<!ENTITY % p SYSTEM '{url}'> %p;]>" + GOOD_NIC):
        client.expect_error("InvalidXml", client.attach, name, xml, config=True)
        client.expect_error("InvalidXml", client.detach, name, xml, config=True)
    # XInclude is not processed either (read-only Plan: the element is just unknown content).
    xinclude = (HEAD + f"<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' href='{url}'/>"
                + TAIL)
    plan = client.manager("Plan", "(ssa{sv})", name, xinclude, skdaemon.opts(config=True),
                          reply="(a{sv})")[0]
    assert plan["ok"], plan


def test_option_count(client, unchanged):  # noqa: F811
    name = unchanged.name()
    plan = raw_call(client, "Plan", plan_params(name, GOOD_NIC, repeated_options(32)),
                    "(a{sv})")[0]
    assert plan["ok"], plan
    for method in ("Plan", "AttachDevice", "DetachDevice"):
        with pytest.raises(skdaemon.DBusFailure) as err:
            raw_call(client, method, plan_params(name, GOOD_NIC, repeated_options(33)))
        assert err.value.name == skdaemon.ERROR_PREFIX + "InvalidArgument", err.value
        check_message(err.value, "too many options", "33 entries", "limit 32")


def test_policy_count(client, unchanged):  # noqa: F811
    _, GLib = skdaemon.gio()
    entry = GLib.Variant.new_dict_entry(GLib.Variant("s", "spare-ports"),
                                        GLib.Variant("v", GLib.Variant("u", 7)))
    params = GLib.Variant.new_tuple(GLib.Variant("s", unchanged.name()),
                                    GLib.Variant.new_array(None, [entry] * 33),
                                    GLib.Variant("a{sv}", {}))
    with pytest.raises(skdaemon.DBusFailure) as err:
        raw_call(client, "SetPolicy", params)
    assert err.value.name == skdaemon.ERROR_PREFIX + "InvalidArgument", err.value
    check_message(err.value, "too many policy entries", "limit 32")


def test_huge_option_values(client, unchanged):  # noqa: F811
    """Hostile keys and values are not echoed whole (nor cut inside a UTF-8 character)."""
    name = unchanged.name()
    _, GLib = skdaemon.gio()
    huge = "ä" * 200000
    for options in ({huge: True}, {"hotplug_require": huge}):
        err = client.expect_error("InvalidArgument", client.attach, name, GOOD_NIC, **options)
        check_message(err, "ä" * 10)
    err = client.expect_error("InvalidArgument", client.attach, name, GOOD_NIC,
                              live=GLib.Variant("a{ss}", {huge: huge}))
    check_message(err, "option 'live' must have type 'b'")
    err = client.expect_error("InvalidArgument", client.set_policy, name, legacy_bridge=huge)
    check_message(err, "legacy-bridge")


@pytest.mark.parametrize("domain", ["x'/><devices>", "../../../etc/passwd", "*", "%s%s%n"])
def test_domain_argument_lookalikes(client, unchanged, domain):  # noqa: F811
    client.expect_error("NoSuchDomain", client.attach, domain, GOOD_NIC, config=True)


def test_domain_argument_with_newline(client, unchanged):  # noqa: F811
    """A real name plus a newline is not that domain: refused as malformed, not resolved."""
    client.expect_error("InvalidArgument", client.attach, skdaemon.PREFIX + "errors\n",
                        GOOD_NIC, config=True)


# The domain argument is checked by sk_dbus_check_domain_arg() (src/daemon/sk-dbus-util.c) in
# sk_manager_resolve().
DOMAIN_ARG_CHECKED = True


@pytest.mark.parametrize("domain", ["x" * 1025, "a\x01b", "x" * (1 << 20)],
                         ids=["1025-bytes", "control-char", "1-mib"])
def test_domain_argument_limits(client, unchanged, domain):  # noqa: F811
    if DOMAIN_ARG_CHECKED:
        err = client.expect_error("InvalidArgument", client.attach, domain, GOOD_NIC,
                                  config=True)
        check_message(err, "domain name or UUID")
    else:
        client.expect_error("NoSuchDomain", client.attach, domain, GOOD_NIC, config=True)
