"""Tests of the offline slotkeeper CLI (plan, reserve, slots): no libvirt needed.

Run by meson ('meson test --suite cli'), or by hand:

    SLOTKEEPER=build/src/cli/slotkeeper SK_TEST_DATA=tests/data \\
        /usr/bin/python3 -m pytest -q tests/cli/test_cli.py

Expected addresses are derived from libvirt 9.0's placement rules (the project's
libvirt-pci-rules.md reference; "§N" below is its section N) and the fixture descriptions in
tests/data/README.md, not copied from the CLI's output.
"""

import collections
import hashlib
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SK = os.environ.get("SLOTKEEPER")
DATA = os.environ.get("SK_TEST_DATA") or os.path.join(HERE, "..", "data")
DEV = os.path.join(DATA, "devices")

# Fixtures with a PCI bus (everything but the hand-written bad ones).
PCI_FIXTURES = [
    "pc-bridge", "pc-default", "pc-full", "pc-hotplug-off", "pc-noacpi",
    "q35-bare", "q35-cap", "q35-default", "q35-dmi", "q35-full", "q35-hotplug-off",
    "q35-legacy-chain", "q35-live", "q35-live-inactive", "q35-root-full", "q35-switch",
    "q35-virt-manager", "virt-aarch64", "virt-aarch64-mmio",
]
PERSISTENT_FIXTURES = [f for f in PCI_FIXTURES if f != "q35-live"]

# Free hotplug slots (pcie, pci) per fixture, worked out from README.md and the rules (§5.2,
# §11.2): root/downstream ports count unless hotplug='off'; bridges count slots 1-31; pci-root
# counts slots 1-31 only with <acpi/> and without hotplug='off'; pcie-root and dmi never.
EXPECTED_FREE_HOTPLUG = {
    "q35-default": (1, 0),        # bus 3 is the one spare
    "q35-bare": (0, 0),           # no root ports at all
    "q35-virt-manager": (1, 0),   # bus 7
    "q35-legacy-chain": (1, 30),  # spare root port; bridge slots 1-31 minus the rtl8139
    "q35-hotplug-off": (2, 0),    # ports 3 and 4 (2 is empty but hotplug='off')
    "q35-full": (0, 0),
    "q35-cap": (0, 0),
    "q35-switch": (2, 0),         # downstream ports 4 and 6 (5 is hotplug='off')
    "q35-dmi": (0, 30),           # pci-bridge slots 1-31 minus the e1000; dmi takes none
    "q35-root-full": (1, 0),
    "q35-live": (3, 0),           # 3, 5, 6
    "q35-live-inactive": (3, 0),  # 4, 5, 6
    "virt-aarch64": (1, 0),
    "virt-aarch64-mmio": (0, 0),  # no root ports: everything on virtio-mmio
    "pc-default": (0, 26),        # pci-root 1-31 minus 01 (PIIX3), 02 (vga), 03-05
    "pc-noacpi": (0, 0),          # no <acpi/>: pci-root takes no hotplug
    "pc-hotplug-off": (0, 0),
    "pc-bridge": (0, 57),         # pci-root 27 free + pci-bridge 30 free
    "pc-full": (0, 0),
}

ONLINE_VERBS = ["list", "attach-device", "detach-device", "policy", "reconcile", "monitor",
                "status"]

# Hand-written inputs for the bad-input tests; each is written into the test's own directory.
EXTRA_FILES = {
    "net-root5.xml": """<interface type='user'>
  <mac address='52:54:00:5c:d9:01'/>
  <model type='virtio'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
</interface>
""",
    "net-fn1.xml": """<interface type='user'>
  <mac address='52:54:00:5c:d9:02'/>
  <model type='virtio'/>
  <address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x1'/>
</interface>
""",
    "net-bus3.xml": """<interface type='user'>
  <mac address='52:54:00:5c:d9:03'/>
  <model type='virtio'/>
  <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>
</interface>
""",
    "net-bus4.xml": """<interface type='user'>
  <mac address='52:54:00:5c:d9:04'/>
  <model type='virtio'/>
  <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
</interface>
""",
    "net-slot1-on-port.xml": """<interface type='user'>
  <mac address='52:54:00:5c:d9:05'/>
  <model type='virtio'/>
  <address type='pci' domain='0x0000' bus='0x03' slot='0x01' function='0x0'/>
</interface>
""",
    "net-no-bus.xml": """<interface type='user'>
  <mac address='52:54:00:5c:d9:06'/>
  <model type='virtio'/>
  <address type='pci' domain='0x0000' bus='0x09' slot='0x00' function='0x0'/>
</interface>
""",
    "net-bad-slot.xml": """<interface type='user'>
  <mac address='52:54:00:5c:d9:07'/>
  <model type='virtio'/>
  <address type='pci' domain='0x0000' bus='0x03' slot='0x20' function='0x0'/>
</interface>
""",
    "unknown-device.xml": "<frobnicator model='x'/>\n",
    "two-roots.xml": "<interface type='user'><model type='virtio'/></interface><x/>\n",
    "empty.xml": "",
    # An internal entity: harmless by itself, but DOCTYPEs are refused outright.
    "doctype-device.xml": """<?xml version="1.0"?>
<!DOCTYPE interface [ <!ENTITY m "virtio"> ]>
<interface type='user'>
  <model type='&m;'/>
</interface>
""",
    # An external entity reading a local file (XXE) in the domain XML.
    "xxe-domain.xml": """<?xml version="1.0"?>
<!DOCTYPE domain [ <!ENTITY leak SYSTEM "secret.txt"> ]>
<domain type='qemu'>
  <name>&leak;</name>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
  <devices><controller type='pci' index='0' model='pcie-root'/></devices>
</domain>
""",
    # Exponential entity expansion ("billion laughs").
    "laughs-device.xml": """<?xml version="1.0"?>
<!DOCTYPE interface [
  <!ENTITY a "aaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<interface type='user'><model type='&d;'/></interface>
""",
    "secret.txt": "SK-SECRET-MARKER-7f3a\n",
}


# ---------------------------------------------------------------------------------------------
# helpers


def fx(name):
    return os.path.join(DATA, name + ".xml")


def dev(name):
    return os.path.join(DEV, name + ".xml")


def _tree_digest(top):
    """name -> sha256 of every file under top (the whole state a run could have touched)."""
    digest = {}
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                digest[os.path.relpath(path, top)] = hashlib.sha256(f.read()).hexdigest()
    return digest


@pytest.fixture(scope="session")
def sk():
    if not SK:
        pytest.fail("set SLOTKEEPER to the built slotkeeper binary (meson test sets it)")
    if not os.access(SK, os.X_OK):
        pytest.fail(f"SLOTKEEPER={SK} is not an executable file")
    if not os.path.isfile(fx("q35-default")):
        pytest.fail(f"SK_TEST_DATA={DATA} does not hold the test fixtures")
    return SK


class Runner:
    """Runs slotkeeper in a private working directory with a private TMPDIR."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.tmpdir = os.path.join(workdir, "tmp")
        os.mkdir(self.tmpdir)
        for name, text in EXTRA_FILES.items():
            with open(os.path.join(workdir, name), "w") as f:
                f.write(text)

    def path(self, name):
        return os.path.join(self.workdir, name)

    def run(self, *args):
        env = dict(os.environ)
        env.update({"LC_ALL": "C.UTF-8", "TMPDIR": self.tmpdir, "G_DEBUG": "fatal-criticals"})
        return subprocess.run([self.binary, *args], cwd=self.workdir, env=env,
                              capture_output=True, text=True, timeout=60)

    def ok(self, *args):
        proc = self.run(*args)
        assert proc.returncode == 0, f"{args}: exit {proc.returncode}, stderr {proc.stderr!r}"
        assert proc.stderr == "", f"{args}: unexpected stderr {proc.stderr!r}"
        assert proc.stdout.endswith("\n")
        return proc.stdout

    def json(self, *args):
        return json.loads(self.ok(*args))

    def xml(self, *args):
        return ET.fromstring(self.ok(*args))

    def fails(self, status, args, words, json_error=None):
        """A refused run: exit @status, nothing on stdout, exactly one 'slotkeeper: ' line on
        stderr naming the problem (every entry of @words, case-insensitively), no file
        written (working dir, TMPDIR and the fixtures are unchanged). With --json, stdout
        holds one JSON object instead: ok false, the D-Bus error name @json_error (short
        form) and the same message as stderr."""
        before_work = _tree_digest(self.workdir)
        before_data = _tree_digest(DATA)
        proc = self.run(*args)
        assert proc.returncode == status, (
            f"{args}: exit {proc.returncode}, want {status}; stderr {proc.stderr!r}")
        if json_error is None:
            assert proc.stdout == "", f"{args}: stdout must be empty, got {proc.stdout!r}"
        else:
            obj = json.loads(proc.stdout)
            assert obj["ok"] is False, obj
            assert obj["error"] == "org.slotkeeper.SlotKeeper1.Error." + json_error, obj
            words = [*words, *obj["message"].split()[:3]]
        lines = proc.stderr.split("\n")
        assert len(lines) == 2 and lines[1] == "", (
            f"{args}: want exactly one line on stderr, got {proc.stderr!r}")
        line = lines[0]
        assert line.startswith("slotkeeper: "), line
        assert len(line) > len("slotkeeper: ") + 10, line
        for word in words:
            assert word.lower() in line.lower(), f"{args}: {word!r} not in {line!r}"
        if status == 2:
            assert "--help" in line, f"usage errors point to --help: {line!r}"
        assert _tree_digest(self.workdir) == before_work, f"{args}: wrote into the working dir"
        assert _tree_digest(DATA) == before_data, f"{args}: changed the fixtures"
        assert os.listdir(self.tmpdir) == [], f"{args}: left files in TMPDIR"
        return line

    def write(self, name, text):
        path = self.path(name)
        with open(path, "w") as f:
            f.write(text)
        return path


@pytest.fixture
def cli(sk, tmp_path):
    return Runner(sk, str(tmp_path))


def pci_addr(el):
    """(domain, bus, slot, function) of an <address type='pci'> element."""
    return tuple(int(el.get(k, "0"), 0) for k in ("domain", "bus", "slot", "function"))


def parse_addr(text):
    m = re.fullmatch(r"([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])", text)
    assert m, f"not a PCI address: {text!r}"
    return tuple(int(g, 16) for g in m.groups())


def element_key(el, counters):
    """A key that names the same device or controller before and after an edit."""
    tag = el.tag
    if tag == "controller":
        return ("controller", el.get("type"), el.get("index"))
    if tag == "interface" and el.find("mac") is not None:
        return ("interface", el.find("mac").get("address"))
    if tag == "disk" and el.find("target") is not None:
        return ("disk", el.find("target").get("dev"))
    counters[tag] += 1
    return (tag, counters[tag])


def pci_elements(domain):
    """key -> (element, normalised PCI address with its multifunction attribute)."""
    devices = domain.find("devices")
    assert devices is not None, "no <devices>"
    out = {}
    counters = collections.Counter()
    for el in devices:
        addr = el.find("address")
        if addr is None or addr.get("type") != "pci":
            continue
        key = element_key(el, counters)
        assert key not in out, f"duplicate element {key}"
        out[key] = (el, pci_addr(addr) + (addr.get("multifunction"),))
    return out


def all_pci_addresses(domain):
    return [v[1][:4] for v in pci_elements(domain).values()]


def pci_controllers(domain):
    return {int(c.get("index")): c for c in domain.iter("controller") if c.get("type") == "pci"}


def check_new_controller(domain, ctrl):
    """The <controller> in @domain matches the plan's JSON description @ctrl."""
    el = pci_controllers(domain).get(ctrl["index"])
    assert el is not None, f"controller index {ctrl['index']} missing from the XML"
    assert el.get("model") == ctrl["model"]
    model = el.find("model")
    if ctrl["model_name"]:
        assert model is not None and model.get("name") == ctrl["model_name"]
    addr = el.find("address")
    assert addr is not None and addr.get("type") == "pci"
    assert pci_addr(addr) == parse_addr(ctrl["address"])
    target = el.find("target")
    for attr, key in (("chassis", "chassis"), ("port", "port"), ("chassisNr", "chassis_nr")):
        if ctrl[key] == -1:
            assert target is None or target.get(attr) is None, f"unexpected {attr}"
        else:
            assert target is not None and int(target.get(attr), 0) == ctrl[key], attr
    # What libvirt itself would fill in (rules §1.1, §11.4).
    _, _, slot, function = pci_addr(addr)
    if ctrl["model"] == "pcie-root-port":
        assert ctrl["chassis"] == ctrl["index"]
        assert ctrl["port"] == (slot << 3) | function
        assert ctrl["model_name"] == "pcie-root-port"
    elif ctrl["model"] == "pci-bridge":
        assert ctrl["chassis_nr"] == ctrl["index"]
        assert pci_addr(addr)[1] < ctrl["index"], "a pci-bridge's index must exceed its bus"
    elif ctrl["model"] == "pcie-to-pci-bridge":
        assert ctrl["model_name"] == "pcie-pci-bridge"
        assert (slot, function) == (0, 0)
        parent = pci_controllers(domain)[pci_addr(addr)[1]]
        assert parent.get("model") in ("pcie-root-port", "pcie-switch-downstream-port")


def canon(el):
    """An element as comparable data, ignoring whitespace between elements."""
    return (el.tag, sorted(el.attrib.items()), (el.text or "").strip(),
            [canon(c) for c in el])


def is_new_element(el, before):
    """True if @el (a device without a MAC) is not one of @before's elements."""
    return all(canon(o) != canon(el) for o in before.find("devices").findall(el.tag))


def assert_preserved(before, after):
    """Every PCI address of @before is in @after, on the same element, unchanged."""
    old = pci_elements(before)
    new = pci_elements(after)
    for key, (_, addr) in old.items():
        assert key in new, f"{key} lost its PCI address (or vanished)"
        assert new[key][1] == addr, f"{key} moved: {addr} -> {new[key][1]}"
    assert after.findtext("name") == before.findtext("name")
    assert after.findtext("uuid") == before.findtext("uuid")
    old_tags = collections.Counter(el.tag for el in before.find("devices"))
    new_tags = collections.Counter(el.tag for el in after.find("devices"))
    assert not (old_tags - new_tags), f"elements removed: {old_tags - new_tags}"
    return old, new


# ---------------------------------------------------------------------------------------------
# help, version, verbs


def test_program_help_lists_every_verb(cli):
    for args in (["--help"], ["-h"], ["help"]):
        out = cli.ok(*args)
        assert out.startswith("Usage:")
        for verb in ["plan", "reserve", "slots"] + ONLINE_VERBS:
            assert re.search(rf"^\s+{re.escape(verb)}\s", out, re.M), f"{verb} not in {args}"
        for opt in ("--system", "--user", "--json", "--version"):
            assert opt in out


def test_version(cli):
    assert re.fullmatch(r"slotkeeper \d+\.\d+\.\d+\n", cli.ok("--version"))


VERB_OPTIONS = {
    "plan": ["--domain-xml", "--config-xml", "--live", "--config", "--current", "--persistent",
             "--hotplug-require", "--print-xml", "--print-device-xml", "--spare-ports",
             "--legacy-bridge", "--root-port-cap", "--json"],
    "reserve": ["--domain-xml", "--spare-ports", "--legacy-bridge", "--root-port-cap",
                "--print-xml", "--json"],
    "slots": ["--domain-xml", "--json"],
    "attach-device": ["--live", "--config", "--current", "--persistent", "--hotplug-require"],
    "detach-device": ["--live", "--config", "--current", "--persistent"],
    "policy": ["--spare-ports", "--legacy-bridge", "--managed"],
    "list": [],
    "reconcile": [],
    "monitor": [],
    "status": [],
}


@pytest.mark.parametrize("verb", sorted(VERB_OPTIONS))
@pytest.mark.parametrize("form", ["VERB --help", "VERB -h", "help VERB", "--json VERB --help"])
def test_verb_help(cli, verb, form):
    args = [verb if w == "VERB" else w for w in form.split()]
    out = cli.ok(*args)
    assert f"slotkeeper {verb}" in out, out
    for opt in VERB_OPTIONS[verb]:
        assert re.search(rf"{re.escape(opt)}\b", out), f"{opt} missing from '{form}': {out}"
    if verb in ONLINE_VERBS:
        assert "slotkeeperd" in out


@pytest.mark.parametrize("verb", ONLINE_VERBS)
def test_online_verbs_need_daemon(cli, verb):
    args = {"attach-device": ["vm", dev("net-virtio")], "detach-device": ["vm", dev("net-virtio")],
            "policy": ["vm", "--spare-ports", "2"], "reconcile": ["vm"]}.get(verb, [])
    cli.fails(1, [verb, *args], [verb, "slotkeeperd"])
    cli.fails(1, ["--system", verb, *args], [verb, "slotkeeperd"])


def test_online_forms_of_offline_verbs_need_daemon(cli):
    cli.fails(1, ["plan", "vm", dev("net-virtio")], ["plan DOMAIN", "slotkeeperd", "--domain-xml"])
    cli.fails(1, ["slots", "vm"], ["slots DOMAIN", "slotkeeperd", "--domain-xml"])


# ---------------------------------------------------------------------------------------------
# bad input: exit 1, one line, nothing on stdout, nothing written

BAD_INPUT = [
    # (id, args, words the message must contain); {w} is the test's working directory.
    ("malformed-domain-plan", ["plan", "--domain-xml", fx("malformed"), dev("net-virtio")],
     ["malformed.xml", "well-formed"]),
    ("malformed-domain-slots", ["slots", "--domain-xml", fx("malformed")], ["well-formed"]),
    ("malformed-domain-reserve", ["reserve", "--domain-xml", fx("malformed")], ["well-formed"]),
    ("malformed-device", ["plan", "--domain-xml", fx("q35-default"), fx("malformed")],
     ["device", "well-formed"]),
    ("two-root-device", ["plan", "--domain-xml", fx("q35-default"), "{w}/two-roots.xml"],
     ["two-roots.xml"]),
    ("empty-domain", ["slots", "--domain-xml", "{w}/empty.xml"], ["empty.xml"]),
    ("empty-device", ["plan", "--domain-xml", fx("q35-default"), "{w}/empty.xml"],
     ["empty.xml"]),
    ("not-a-domain-slots", ["slots", "--domain-xml", fx("not-a-domain")], ["network", "domain"]),
    ("not-a-domain-plan", ["plan", "--domain-xml", fx("not-a-domain"), dev("net-virtio")],
     ["network", "domain"]),
    ("not-a-domain-reserve", ["reserve", "--domain-xml", fx("not-a-domain")], ["network"]),
    ("network-as-device", ["plan", "--domain-xml", fx("q35-default"), fx("not-a-domain")],
     ["unknown device", "network"]),
    ("unknown-device-element", ["plan", "--domain-xml", fx("q35-default"),
                                "{w}/unknown-device.xml"], ["frobnicator"]),
    ("s390-plan", ["plan", "--domain-xml", fx("s390-ccw"), dev("net-virtio")], ["s390", "ccw"]),
    ("s390-slots", ["slots", "--domain-xml", fx("s390-ccw")], ["s390", "ccw"]),
    ("s390-reserve", ["reserve", "--domain-xml", fx("s390-ccw")], ["s390", "ccw"]),
    # Requested address taken: q35-live-inactive has its NIC on bus 3, q35-live on bus 4.
    ("address-taken-config", ["plan", "--domain-xml", fx("q35-live-inactive"), "--config",
                              "{w}/net-bus3.xml"], ["0000:03:00.0", "in use"]),
    ("address-taken-live", ["plan", "--domain-xml", fx("q35-live"), "--live",
                            "{w}/net-bus4.xml"], ["0000:04:00.0", "in use"]),
    # Free in the live XML, taken in the persistent one: --live --config must refuse it.
    ("address-taken-config-twin", ["plan", "--domain-xml", fx("q35-live"), "--config-xml",
                                   fx("q35-live-inactive"), "--live", "--config",
                                   "{w}/net-bus3.xml"], ["0000:03:00.0", "persistent"]),
    # pcie-root never takes hotplug (rules §5.2).
    ("live-at-pcie-root", ["plan", "--domain-xml", fx("q35-live"), "--live",
                           "{w}/net-root5.xml"], ["0000:00:05.0", "hotplug"]),
    # Only function 0 can be hotplugged (rules §5.1.2).
    ("live-function-1", ["plan", "--domain-xml", fx("q35-live"), "--live", "{w}/net-fn1.xml"],
     ["function"]),
    # A root port has only slot 0 (rules §1.1).
    ("slot-1-on-root-port", ["plan", "--domain-xml", fx("q35-default"), "--config",
                             "{w}/net-slot1-on-port.xml"], ["0000:03:01.0"]),
    ("address-on-missing-bus", ["plan", "--domain-xml", fx("q35-default"), "--config",
                                "{w}/net-no-bus.xml"], ["0000:09:00.0"]),
    ("address-slot-out-of-range", ["plan", "--domain-xml", fx("q35-default"), "--config",
                                   "{w}/net-bad-slot.xml"], ["slot"]),
    # Unsatisfiable: 14 root ports is the x86_64 cap, all occupied.
    ("q35-cap-virtio-config", ["plan", "--domain-xml", fx("q35-cap"), "--config",
                               dev("net-virtio")], ["14", "cap"]),
    ("legacy-bridge-never", ["plan", "--domain-xml", fx("q35-bare"), "--config",
                             "--legacy-bridge", "never", dev("net-rtl8139")], ["never"]),
    # A running guest never gains a bridge, so a PCI-only NIC has nowhere to go live.
    ("rtl8139-live-no-bridge", ["plan", "--domain-xml", fx("q35-live"), "--live",
                                dev("net-rtl8139")], ["rtl8139", "slot"]),
    ("sound-live", ["plan", "--domain-xml", fx("q35-live"), "--live", dev("sound-ich9")],
     ["sound", "--config"]),
    ("pc-full-no-slot", ["plan", "--domain-xml", fx("pc-full"), "--config", dev("net-e1000")],
     ["e1000", "slot"]),
    ("live-on-persistent-xml", ["plan", "--domain-xml", fx("q35-default"), "--live",
                                dev("net-virtio")], ["q35-default.xml", "running"]),
    ("config-xml-other-domain", ["plan", "--domain-xml", fx("q35-live"), "--config-xml",
                                 fx("q35-default"), "--live", "--config", dev("net-virtio")],
     ["uuid"]),
    ("config-xml-is-live", ["plan", "--domain-xml", fx("q35-live"), "--config-xml",
                            fx("q35-live"), "--live", "--config", dev("net-virtio")],
     ["--inactive"]),
    ("reserve-print-xml-live", ["reserve", "--domain-xml", fx("q35-live"), "--print-xml"],
     ["--inactive"]),
    ("missing-domain-file", ["plan", "--domain-xml", "{w}/nope.xml", dev("net-virtio")],
     ["nope.xml"]),
    ("missing-device-file", ["plan", "--domain-xml", fx("q35-default"), "{w}/nope.xml"],
     ["nope.xml"]),
    ("missing-slots-file", ["slots", "--domain-xml", "{w}/nope.xml"], ["nope.xml"]),
    ("directory-as-domain", ["slots", "--domain-xml", "{w}/tmp"], ["tmp"]),
    ("doctype-device", ["plan", "--domain-xml", fx("q35-default"), "{w}/doctype-device.xml"],
     ["DOCTYPE"]),
    ("xxe-domain", ["slots", "--domain-xml", "{w}/xxe-domain.xml"], ["DOCTYPE"]),
    ("laughs-device", ["plan", "--domain-xml", fx("q35-default"), "{w}/laughs-device.xml"],
     ["DOCTYPE"]),
    # Endless input: read only up to the limit.
    ("dev-zero-domain", ["slots", "--domain-xml", "/dev/zero"], ["too large", "10485760"]),
    ("dev-zero-device", ["plan", "--domain-xml", fx("q35-default"), "/dev/zero"],
     ["too large", "65536"]),
]


@pytest.mark.parametrize("args,words", [(a, w) for _, a, w in BAD_INPUT],
                         ids=[i for i, _, _ in BAD_INPUT])
def test_bad_input(cli, args, words):
    args = [a.replace("{w}", cli.workdir) for a in args]
    line = cli.fails(1, args, words)
    assert "SK-SECRET-MARKER" not in line


@pytest.mark.parametrize("extra", [[], ["--json"], ["--print-xml"]])
def test_bad_input_with_output_flags(cli, extra):
    """The output format never changes a refusal into output; --json prints the refusal (or
    error) as JSON, with the exit status unchanged."""
    json = "--json" in extra
    cli.fails(1, ["plan", "--domain-xml", fx("q35-cap"), "--config", *extra, dev("net-virtio")],
              ["cap"], json_error="NoFreeSlot" if json else None)
    cli.fails(1, ["plan", "--domain-xml", fx("malformed"), "--config", *extra,
                  dev("net-virtio")], ["well-formed"], json_error="InvalidXml" if json else None)


def test_json_refusal_has_remedy(cli):
    """A refused plan under --json is the whole plan dictionary: why, and what to do."""
    proc = cli.run("plan", "--json", "--domain-xml", fx("q35-live"), "--live",
                   dev("net-rtl8139"))
    assert proc.returncode == 1, proc
    plan = json.loads(proc.stdout)
    assert plan["ok"] is False
    assert plan["error"] == "org.slotkeeper.SlotKeeper1.Error.NoFreeSlot"
    assert plan["message"] in proc.stderr and plan["remedy"] in proc.stderr
    assert "--config" in plan["remedy"]


def test_json_usage_error(cli):
    proc = cli.run("--json", "plan", "--domain-xml", fx("q35-default"))
    assert proc.returncode == 2
    obj = json.loads(proc.stdout)
    assert obj["error"] == "org.slotkeeper.SlotKeeper1.Error.InvalidArgument"
    assert "DEVICE.xml" in obj["message"]


def test_refusal_remedy_fits_the_flags(cli):
    line = cli.fails(1, ["plan", "--domain-xml", fx("pc-full"), "--config", dev("net-e1000")],
                     ["e1000"])
    assert "with --config" not in line, line


USAGE_ERRORS = [
    ("no-verb", [], ["verb"]),
    ("global-json-only", ["--json"], ["verb"]),
    ("unknown-verb", ["frobnicate"], ["frobnicate"]),
    ("help-unknown-verb", ["help", "frobnicate"], ["frobnicate"]),
    ("unknown-global-option", ["--bogus", "slots"], ["--bogus"]),
    ("system-and-user", ["--system", "--user", "slots", "--domain-xml", fx("q35-default")],
     ["--system", "--user"]),
    ("unknown-plan-option", ["plan", "--bogus"], ["--bogus"]),
    ("plan-missing-argument", ["plan", "--domain-xml"], ["--domain-xml"]),
    ("plan-no-device", ["plan", "--domain-xml", fx("q35-default")], ["DEVICE.xml"]),
    ("plan-no-domain", ["plan"], ["--domain-xml"]),
    ("plan-two-devices", ["plan", "--domain-xml", fx("q35-default"), dev("net-virtio"),
                          dev("net-e1000")], ["DEVICE.xml"]),
    ("hotplug-require-maybe", ["plan", "--domain-xml", fx("q35-default"), "--hotplug-require",
                               "maybe", dev("net-virtio")], ["maybe"]),
    ("current-and-config", ["plan", "--domain-xml", fx("q35-default"), "--current", "--config",
                            dev("net-virtio")], ["--current"]),
    ("print-xml-and-device-xml", ["plan", "--domain-xml", fx("q35-default"), "--print-xml",
                                  "--print-device-xml", dev("net-virtio")], ["--print-xml"]),
    ("json-and-print-xml", ["plan", "--domain-xml", fx("q35-default"), "--json", "--print-xml",
                            dev("net-virtio")], ["--json"]),
    ("live-print-xml", ["plan", "--domain-xml", fx("q35-live"), "--live", "--print-xml",
                        dev("net-virtio")], ["--print-xml"]),
    ("live-file-print-xml", ["plan", "--domain-xml", fx("q35-live"), "--print-xml",
                             dev("net-virtio")], ["--print-xml"]),
    ("config-xml-config-only", ["plan", "--domain-xml", fx("q35-default"), "--config-xml",
                                fx("q35-default"), "--config", dev("net-virtio")],
     ["--config-xml"]),
    ("spare-ports-negative", ["plan", "--domain-xml", fx("q35-default"), "--spare-ports", "-1",
                              dev("net-virtio")], ["--spare-ports"]),
    ("spare-ports-word", ["reserve", "--domain-xml", fx("q35-default"), "--spare-ports", "abc"],
     ["--spare-ports"]),
    ("legacy-bridge-bad", ["reserve", "--domain-xml", fx("q35-default"), "--legacy-bridge",
                           "sometimes"], ["sometimes"]),
    ("root-port-cap-300", ["reserve", "--domain-xml", fx("q35-default"), "--root-port-cap",
                           "300"], ["--root-port-cap"]),
    ("reserve-no-domain", ["reserve"], ["--domain-xml"]),
    ("reserve-extra-arg", ["reserve", "--domain-xml", fx("q35-default"), "extra"], ["extra"]),
    ("reserve-json-print-xml", ["reserve", "--domain-xml", fx("q35-default"), "--json",
                                "--print-xml"], ["--json"]),
    ("slots-no-domain", ["slots"], ["--domain-xml"]),
    ("slots-extra-arg", ["slots", "--domain-xml", fx("q35-default"), "extra"], ["extra"]),
    ("slots-print-xml", ["slots", "--domain-xml", fx("q35-default"), "--print-xml"],
     ["--print-xml"]),
]


@pytest.mark.parametrize("args,words", [(a, w) for _, a, w in USAGE_ERRORS],
                         ids=[i for i, _, _ in USAGE_ERRORS])
def test_usage_error(cli, args, words):
    cli.fails(2, args, words, json_error="InvalidArgument" if "--json" in args else None)


def test_xxe_does_not_read_files(cli):
    """An external entity is refused before anything reads it; even refused, nothing leaks."""
    for args in (["slots", "--domain-xml", cli.path("xxe-domain.xml")],
                 ["slots", "--json", "--domain-xml", cli.path("xxe-domain.xml")]):
        proc = cli.run(*args)
        assert proc.returncode == 1
        assert "SK-SECRET-MARKER" not in proc.stdout + proc.stderr


# Hostile inputs: the limits of src/core/sk-xml.h (device XML: 64 KiB, nesting 32, 1024
# elements, 64 attributes per element, attribute values of 4 KiB; domain XML: 10 MiB, nesting
# 128), encoded DOCTYPEs, NUL bytes and addresses out of range. The offline verbs use the same
# core as the service, so the limits and messages are the same.
_NIC_HEAD = "<interface type='user'><model type='virtio'/>"
_NIC_TAIL = "</interface>"
_DOMAIN = open(fx("q35-default"), encoding="utf-8").read() if os.path.isfile(fx("q35-default")) \
    else "<domain/>"
HOSTILE_FILES = [
    # (id, verb args before the file, file content (bytes), words the message must contain)
    ("device-size", ["plan", "--domain-xml", fx("q35-default")],
     (_NIC_HEAD + " " * 65536 + _NIC_TAIL).encode(), ["too large", "limit 65536"]),
    ("device-depth", ["plan", "--domain-xml", fx("q35-default")],
     (_NIC_HEAD + "<x>" * 40 + "</x>" * 40 + _NIC_TAIL).encode(), ["depth 33", "limit 32"]),
    ("device-elements", ["plan", "--domain-xml", fx("q35-default")],
     (_NIC_HEAD + "<a/>" * 1100 + _NIC_TAIL).encode(), ["too many elements", "limit 1024"]),
    ("device-attributes", ["plan", "--domain-xml", fx("q35-default")],
     ("<interface type='user'" + "".join(f" a{i}='x'" for i in range(65)) + ">"
      "<model type='virtio'/>" + _NIC_TAIL).encode(), ["too many attributes", "limit 64"]),
    ("device-attribute-length", ["plan", "--domain-xml", fx("q35-default")],
     (_NIC_HEAD + "<alias name='" + "v" * 4097 + "'/>" + _NIC_TAIL).encode(),
     ["4097 bytes", "limit 4096"]),
    ("device-nul", ["plan", "--domain-xml", fx("q35-default")],
     (_NIC_HEAD + _NIC_TAIL).encode() + b"\0<disk/>", ["NUL"]),
    ("device-utf7-doctype", ["plan", "--domain-xml", fx("q35-default")],
     b"<?xml version='1.0' encoding='UTF-7'?>\n+ADw-+ACE-DOCTYPE i SYSTEM "
     b"'file:///etc/passwd'+AD4-<interface type='user'/>", ["DOCTYPE"]),
    ("device-two-roots", ["plan", "--domain-xml", fx("q35-default")],
     (_NIC_HEAD + _NIC_TAIL + _NIC_HEAD + _NIC_TAIL).encode(), ["Extra content"]),
    ("device-bus-out-of-range", ["plan", "--domain-xml", fx("q35-default"), "--config"],
     (_NIC_HEAD + "<address type='pci' bus='0x100'/>" + _NIC_TAIL).encode(), ["bus='0x100'"]),
    ("device-function-junk", ["plan", "--domain-xml", fx("q35-default"), "--config"],
     (_NIC_HEAD + "<address type='pci' function='0x1g'/>" + _NIC_TAIL).encode(), ["function"]),
    ("domain-depth", ["slots", "--domain-xml"],
     _DOMAIN.replace("</domain>", "<metadata>" + "<x>" * 200 + "</x>" * 200 +
                     "</metadata></domain>").encode(), ["depth 129", "limit 128"]),
    ("domain-size", ["reserve", "--domain-xml"],
     _DOMAIN.encode() + b" " * (10 * 1024 * 1024), ["too large", "limit 10485760"]),
]


@pytest.mark.parametrize("args,content,words", [c[1:] for c in HOSTILE_FILES],
                         ids=[c[0] for c in HOSTILE_FILES])
def test_hostile_input(cli, args, content, words):
    path = cli.path("hostile.xml")
    with open(path, "wb") as f:
        f.write(content)
    line = cli.fails(1, [*args, path], words)
    assert len(line) < 2048, f"message of {len(line)} bytes"
    assert "root:" not in line


# ---------------------------------------------------------------------------------------------
# plan --json: documented keys, addresses from libvirt's rules

# The wire schema (docs/json.md): the same keys online (D-Bus Plan) and offline.
PLAN_KEYS = {"ok", "effect", "live", "config", "device", "element", "model", "connection",
             "connection_description", "controllers", "companions", "reasons"}
PLAN_OPTIONAL_KEYS = {"address", "no_pci_reason"}
CONTROLLER_KEYS = {"index", "model", "model_name", "chassis", "port", "chassis_nr", "address",
                   "purpose"}
COMPANION_KEYS = {"element", "type", "model", "index", "address", "purpose", "live", "config",
                  "xml"}


def check_plan_json(plan):
    assert PLAN_KEYS <= set(plan) <= PLAN_KEYS | PLAN_OPTIONAL_KEYS, plan.keys()
    assert plan["ok"] is True
    assert plan["connection"] in ("pcie", "pci", "pci-or-pcie", "none") or \
        plan["element"] == "controller"
    needs_pci = plan["connection"] != "none"
    assert ("no_pci_reason" in plan) == (not needs_pci)
    assert isinstance(plan["live"], bool) and isinstance(plan["config"], bool)
    assert plan["effect"] in ("now", "next-boot", "none")
    assert "address" not in plan or parse_addr(plan["address"])
    assert ("address" in plan) == needs_pci
    assert isinstance(plan["reasons"], list) and plan["reasons"]
    assert all(isinstance(r, str) and r for r in plan["reasons"])
    for comp in plan["companions"]:
        assert set(comp) == COMPANION_KEYS
        assert comp["element"] == "controller" and comp["purpose"] and comp["xml"]
        assert comp["address"] == "" or parse_addr(comp["address"])
    for ctrl in plan["controllers"]:
        assert set(ctrl) == CONTROLLER_KEYS
        assert isinstance(ctrl["index"], int) and 0 < ctrl["index"] <= 255
        parse_addr(ctrl["address"])
        assert ctrl["purpose"]


def ctl(index, model, address, chassis=-1, port=-1):
    """An expected new controller (only the fields the rules fix)."""
    return {"index": index, "model": model, "address": address, "chassis": chassis,
            "port": port}


# (id, domain fixture, device, flags, address, connection, effect, expected new controllers)
# The addresses follow from the rules: a device that requires hotplug takes the first empty,
# hotplug-capable, compatible slot in bus index order (§4.2, §11.2); legacy PCI on PCIe gets a
# root port + pcie-to-pci-bridge and lands on bridge slot 1 (§4.4); new root ports get the
# lowest unused index, chassis = index, port = slot << 3 | function and function 0 of the
# lowest empty pcie-root slot or a free function of an aggregate slot (§11.4).
PLAN_CASES = [
    ("q35-default-virtio", "q35-default", "net-virtio", ["--config"], "0000:03:00.0", "pcie",
     "next-boot", []),
    ("q35-default-e1000e", "q35-default", "net-e1000e", ["--config"], "0000:03:00.0", "pcie",
     "next-boot", []),
    ("q35-default-no-flags", "q35-default", "net-virtio", [], "0000:03:00.0", "pcie",
     "next-boot", []),
    ("q35-default-hotplug-no", "q35-default", "net-virtio", ["--config", "--hotplug-require",
                                                             "no"], "0000:00:02.0", "pcie",
     "next-boot", []),
    ("q35-default-rtl8139-hotplug-no", "q35-default", "net-rtl8139",
     ["--config", "--hotplug-require", "no"], "0000:00:02.0", "pci", "next-boot", []),
    ("q35-cap-hotplug-no", "q35-cap", "net-virtio", ["--config", "--hotplug-require", "no"],
     "0000:00:03.0", "pcie", "next-boot", []),
    ("q35-bare-rtl8139", "q35-bare", "net-rtl8139", ["--config"], "0000:02:01.0", "pci",
     "next-boot", [ctl(1, "pcie-root-port", "0000:00:01.0", 1, 0x8),
                   ctl(2, "pcie-to-pci-bridge", "0000:01:00.0")]),
    # No model: rtl8139 on x86 (rules §2), so the same as above.
    ("q35-bare-default-nic", "q35-bare", "net-default", ["--config"], "0000:02:01.0", "pci",
     "next-boot", [ctl(1, "pcie-root-port", "0000:00:01.0", 1, 0x8),
                   ctl(2, "pcie-to-pci-bridge", "0000:01:00.0")]),
    ("q35-bare-virtio-transitional", "q35-bare", "net-virtio-transitional", ["--config"],
     "0000:02:01.0", "pci", "next-boot",
     [ctl(1, "pcie-root-port", "0000:00:01.0", 1, 0x8),
      ctl(2, "pcie-to-pci-bridge", "0000:01:00.0")]),
    # The bridge gets its own root port; the spare port (bus 3) stays a spare.
    ("q35-default-lsilogic", "q35-default", "scsi-lsilogic", ["--config"], "0000:05:01.0",
     "pci", "next-boot", [ctl(4, "pcie-root-port", "0000:00:01.3", 4, 0xb),
                          ctl(5, "pcie-to-pci-bridge", "0000:04:00.0")]),
    ("q35-legacy-chain-e1000", "q35-legacy-chain", "net-e1000", ["--config"], "0000:02:02.0",
     "pci", "next-boot", []),
    ("q35-dmi-e1000", "q35-dmi", "net-e1000", ["--config"], "0000:02:02.0", "pci", "next-boot",
     []),
    # Port 2 is empty but hotplug='off'; a device that requires hotplug skips it.
    ("q35-hotplug-off-virtio", "q35-hotplug-off", "net-virtio", ["--config"], "0000:03:00.0",
     "pcie", "next-boot", []),
    ("q35-switch-virtio", "q35-switch", "net-virtio", ["--config"], "0000:04:00.0", "pcie",
     "next-boot", []),
    ("q35-root-full-disk", "q35-root-full", "disk-virtio", ["--config"], "0000:02:00.0", "pcie",
     "next-boot", []),
    # pcie-root is full: hotplug-require=no falls back to the empty root port.
    ("q35-root-full-hotplug-no", "q35-root-full", "net-e1000e",
     ["--config", "--hotplug-require", "no"], "0000:02:00.0", "pcie", "next-boot", []),
    # No empty pcie-root slot: the bridge's port is packed into aggregate slot 1 (00:01.2).
    ("q35-root-full-rtl8139", "q35-root-full", "net-rtl8139", ["--config"], "0000:04:01.0",
     "pci", "next-boot", [ctl(3, "pcie-root-port", "0000:00:01.2", 3, 0xa),
                          ctl(4, "pcie-to-pci-bridge", "0000:03:00.0")]),
    ("q35-virt-manager-rng", "q35-virt-manager", "rng-virtio", ["--config"], "0000:07:00.0",
     "pcie", "next-boot", []),
    ("explicit-free-address", "q35-default", "net-virtio-addr", ["--config"], "0000:03:00.0",
     "pcie", "next-boot", []),
    # Live: the first empty hotplug port of the running guest (3; 4 has the live NIC).
    ("q35-live-live", "q35-live", "net-virtio", ["--live"], "0000:03:00.0", "pcie", "now", []),
    ("q35-live-current", "q35-live", "net-virtio", ["--current"], "0000:03:00.0", "pcie", "now",
     []),
    # A running guest has no non-hotplug placement: --hotplug-require no changes nothing live.
    ("q35-live-live-hotplug-no", "q35-live", "net-virtio", ["--live", "--hotplug-require", "no"],
     "0000:03:00.0", "pcie", "now", []),
    # Live and persistent: free in both (live 3, 5, 6; persistent 4, 5, 6) -> 5 (rules §11.3).
    ("q35-live-both", "q35-live", "net-virtio", ["--live", "--config", "--config-xml",
                                                 "q35-live-inactive"], "0000:05:00.0", "pcie",
     "now", []),
    ("q35-live-persistent", "q35-live", "net-virtio", ["--persistent", "--config-xml",
                                                       "q35-live-inactive"], "0000:05:00.0",
     "pcie", "now", []),
    ("q35-live-both-hotplug-no", "q35-live", "net-virtio",
     ["--live", "--config", "--config-xml", "q35-live-inactive", "--hotplug-require", "no"],
     "0000:05:00.0", "pcie", "now", []),
    ("virt-aarch64-default-nic", "virt-aarch64", "net-default", ["--config"], "0000:04:00.0",
     "pcie", "next-boot", []),
    # pc: everything is conventional PCI; pci-root with <acpi/> takes hotplug (slots 1-5 used).
    ("pc-default-virtio", "pc-default", "net-virtio", ["--config"], "0000:00:06.0", "pci",
     "next-boot", []),
    ("pc-default-e1000e", "pc-default", "net-e1000e", ["--config"], "0000:00:06.0", "pci",
     "next-boot", []),
    ("pc-bridge-e1000", "pc-bridge", "net-e1000", ["--config"], "0000:00:05.0", "pci",
     "next-boot", []),
    # No ACPI: pci-root takes no hotplug, so a pci-bridge (chassisNr = index) is added.
    ("pc-noacpi-e1000", "pc-noacpi", "net-e1000", ["--config"], "0000:01:01.0", "pci",
     "next-boot", [ctl(1, "pci-bridge", "0000:00:06.0")]),
    ("pc-hotplug-off-virtio", "pc-hotplug-off", "net-virtio", ["--config"], "0000:01:01.0",
     "pci", "next-boot", [ctl(1, "pci-bridge", "0000:00:04.0")]),
    # No PCI slot at all.
    ("sata-disk", "q35-default", "disk-sata", ["--config"], None, "none", "next-boot", []),
    # virtio-mmio cannot be hot-unplugged: a PCI address on a new root port (the guest has none).
    ("aarch64-mmio-virtio", "virt-aarch64-mmio", "net-virtio", ["--config"], "0000:01:00.0",
     "pcie", "next-boot", [ctl(1, "pcie-root-port", "0000:00:01.0", 1, 0x8)]),
    ("aarch64-mmio-virtio-hotplug-no", "virt-aarch64-mmio", "net-virtio",
     ["--config", "--hotplug-require", "no"], None, "none", "next-boot", []),
    # The lsilogic controller libvirt would add goes onto a new bridge, named in "companions".
    ("q35-default-scsi-disk", "q35-default", "disk-scsi", ["--config"], None, "none",
     "next-boot", [ctl(4, "pcie-root-port", "0000:00:01.3", 4, 0xb),
                   ctl(5, "pcie-to-pci-bridge", "0000:04:00.0")]),
]


def plan_args(domain, device, flags):
    flags = [fx(f) if i > 0 and flags[i - 1] == "--config-xml" else f
             for i, f in enumerate(flags)]
    return ["plan", "--domain-xml", fx(domain), *flags, dev(device)]


@pytest.mark.parametrize("domain,device,flags,address,connection,effect,controllers",
                         [c[1:] for c in PLAN_CASES], ids=[c[0] for c in PLAN_CASES])
def test_plan_json(cli, domain, device, flags, address, connection, effect, controllers):
    plan = cli.json(*plan_args(domain, device, ["--json", *flags]))
    check_plan_json(plan)
    assert plan["connection"] == connection
    assert plan["effect"] == effect
    assert plan.get("address") == address
    got = [{k: c[k] for k in ("index", "model", "address", "chassis", "port")}
           for c in plan["controllers"]]
    assert got == controllers
    for c in plan["controllers"]:
        assert c["chassis_nr"] == (c["index"] if c["model"] == "pci-bridge" else -1)
        assert c["model_name"] == {"pcie-root-port": "pcie-root-port",
                                   "pcie-to-pci-bridge": "pcie-pci-bridge",
                                   "pci-bridge": "pci-bridge"}[c["model"]]
    # The global --json gives the same plan.
    again = cli.json("--json", *plan_args(domain, device, flags))
    assert again == plan


def test_plan_text_matches_json(cli):
    """The human plan states the same address and controllers as --json."""
    for _, domain, device, flags, *_ in PLAN_CASES:
        plan = cli.json(*plan_args(domain, device, ["--json", *flags]))
        text = cli.ok(*plan_args(domain, device, flags))
        m = re.search(r"^address:\s+(\S+)$", text, re.M)
        assert m, text
        assert m.group(1) == plan.get("address", "none")
        for c in plan["controllers"]:
            assert re.search(rf"^\s+{c['index']}\s+{c['model']}\s.*{c['address']}", text, re.M)
        if not plan["controllers"]:
            assert "controllers to add: none" in text


def test_plan_live_both_differs_from_each_alone(cli):
    """--live --config must not simply take the live choice (3, used in the persistent
    definition) or the persistent choice (4, used live)."""
    live = cli.json(*plan_args("q35-live", "net-virtio", ["--json", "--live"]))
    conf = cli.json(*plan_args("q35-live-inactive", "net-virtio", ["--json", "--config"]))
    assert live["address"] == "0000:03:00.0"
    assert conf["address"] == "0000:04:00.0"


def test_plan_spare_ports_cap_option(cli):
    """--root-port-cap above 14 lifts the cap that refuses q35-cap (rules: 240 fit)."""
    plan = cli.json(*plan_args("q35-cap", "net-virtio", ["--json", "--config",
                                                         "--root-port-cap", "16"]))
    assert [c["model"] for c in plan["controllers"]] == ["pcie-root-port"]
    new = plan["controllers"][0]
    assert new["index"] == 15 and new["chassis"] == 15
    # Root ports 1-14 fill 00:01.0-00:02.5; the next is 00:02.6 (port 0x16).
    assert new["address"] == "0000:00:02.6" and new["port"] == 0x16
    assert plan["address"] == "0000:0f:00.0"


# ---------------------------------------------------------------------------------------------
# --print-xml: valid domain, nothing moved, new controllers and device where planned

PRINT_XML_CASES = [c for c in PLAN_CASES if "--live" not in c[3] and "--current" not in c[3]]


@pytest.mark.parametrize("domain,device,flags", [c[1:4] for c in PRINT_XML_CASES],
                         ids=[c[0] for c in PRINT_XML_CASES])
def test_plan_print_xml(cli, domain, device, flags):
    plan = cli.json(*plan_args(domain, device, ["--json", *flags]))
    after = cli.xml(*plan_args(domain, device, ["--print-xml", *flags]))
    config_src = flags[flags.index("--config-xml") + 1] if "--config-xml" in flags else domain
    before = ET.parse(fx(config_src)).getroot()
    assert after.tag == "domain"
    assert after.get("id") is None, "a define-able XML has no id"
    old, new = assert_preserved(before, after)

    for ctrl in plan["controllers"]:
        assert ("controller", "pci", str(ctrl["index"])) not in old
        check_new_controller(after, ctrl)

    # The device: one more element of its kind, at the planned address (or with none).
    dev_root = ET.parse(dev(device)).getroot()
    tag = dev_root.tag
    before_n = len(before.find("devices").findall(tag))
    added = after.find("devices").findall(tag)
    new_ctrls = len(plan["controllers"]) if tag == "controller" else 0
    assert len(added) == before_n + 1 + new_ctrls
    mac = dev_root.find("mac")
    if mac is not None:
        mine = [el for el in added if el.find("mac") is not None
                and el.find("mac").get("address") == mac.get("address")]
    else:
        mine = [el for el in added if is_new_element(el, before) and el.get("type") != "pci"]
    assert len(mine) == 1
    addr = mine[0].find("address")
    if "address" not in plan:
        assert addr is None or addr.get("type") != "pci"
    else:
        assert addr is not None and addr.get("type") == "pci"
        assert pci_addr(addr) == parse_addr(plan["address"])

    # Nothing else got a PCI address (the companions got theirs).
    extra = set(new) - set(old)
    assert len(extra) == len(plan["controllers"]) + ("address" in plan) + \
        len([c for c in plan["companions"] if c["address"]])

    # No two functions share an address.
    addrs = all_pci_addresses(after)
    assert len(addrs) == len(set(addrs)), "double use of a PCI address"


def test_plan_print_xml_is_accepted_again(cli):
    """Planning the same device again on the printed XML gives another, free slot; and
    printing that XML with a taken explicit address is refused."""
    first = cli.ok(*plan_args("q35-bare", "net-rtl8139", ["--config", "--print-xml"]))
    path = cli.write("step1.xml", first)
    second = cli.json("plan", "--json", "--domain-xml", path, "--config", dev("net-e1000"))
    assert second["controllers"] == []
    assert second["address"] == "0000:02:02.0"
    taken = cli.write("taken.xml", """<interface type='user'>
  <mac address='52:54:00:5c:d9:99'/>
  <model type='e1000'/>
  <address type='pci' domain='0x0000' bus='0x02' slot='0x01' function='0x0'/>
</interface>
""")
    cli.fails(1, ["plan", "--domain-xml", path, "--config", taken], ["0000:02:01.0"])


# ---------------------------------------------------------------------------------------------
# reserve

RESERVE_KEYS = {"ok", "effect", "live", "config", "free_hotplug_slots", "short_of_policy",
                "controllers", "reasons"}


RESERVE_POLICIES = {
    "default": [],
    "many-spares-eager": ["--spare-ports", "64", "--legacy-bridge", "eager"],
    "no-spares": ["--spare-ports", "0"],
}


@pytest.mark.parametrize("policy", sorted(RESERVE_POLICIES))
@pytest.mark.parametrize("domain", PERSISTENT_FIXTURES)
def test_reserve_print_xml(cli, domain, policy):
    opts = RESERVE_POLICIES[policy]
    plan = cli.json("reserve", "--json", *opts, "--domain-xml", fx(domain))
    assert set(plan) == RESERVE_KEYS
    assert plan["ok"] is True
    assert plan["effect"] in ("next-boot", "none")
    for ctrl in plan["controllers"]:
        assert set(ctrl) == CONTROLLER_KEYS
    if policy == "no-spares":
        assert plan["controllers"] == []
    slots_before = cli.json("slots", "--json", "--domain-xml", fx(domain))
    assert plan["free_hotplug_slots"] == slots_before["free_hotplug_slots"]

    out = cli.ok("reserve", "--print-xml", *opts, "--domain-xml", fx(domain))
    after = ET.fromstring(out)
    before = ET.parse(fx(domain)).getroot()
    assert after.tag == "domain"
    old, new = assert_preserved(before, after)
    for ctrl in plan["controllers"]:
        assert ("controller", "pci", str(ctrl["index"])) not in old
        check_new_controller(after, ctrl)
    assert len(set(new) - set(old)) == len(plan["controllers"])
    addrs = all_pci_addresses(after)
    assert len(addrs) == len(set(addrs)), "double use of a PCI address"
    # Chassis must be unique across root and downstream ports (QEMU refuses duplicates), and
    # root ports stay within the x86_64 / aarch64 cap.
    ports = [c for c in pci_controllers(after).values()
             if c.get("model") in ("pcie-root-port", "pcie-switch-downstream-port")]
    chassis = [int(c.find("target").get("chassis"), 0) for c in ports]
    assert len(chassis) == len(set(chassis))
    n_root = sum(1 for c in ports if c.get("model") == "pcie-root-port")
    assert n_root <= (28 if after.find("os/type").get("arch") == "aarch64" else 14)
    indexes = sorted(pci_controllers(after))
    assert indexes == list(range(len(indexes))), "controller indexes have no gaps"

    # Idempotence: a second reserve on the output adds nothing, and its XML is the same.
    path = cli.write("reserved.xml", out)
    again = cli.json("reserve", "--json", *opts, "--domain-xml", path)
    assert again["controllers"] == []
    assert cli.ok("reserve", "--print-xml", *opts, "--domain-xml", path) == out
    first = cli.ok("reserve", *opts, "--domain-xml", path)
    assert first.startswith(("nothing to add", "nothing can be added")), first

    # New controllers add free hotplug slots (they never take any away).
    slots_after = cli.json("slots", "--json", "--domain-xml", path)
    gained = [slots_after["free_hotplug_slots"][k] - slots_before["free_hotplug_slots"][k]
              for k in ("pcie", "pci")]
    assert min(gained) >= 0
    if plan["controllers"]:
        assert max(gained) > 0


def test_reserve_q35_default_exact(cli):
    """q35-default: 1 spare, the policy wants 4, so root ports 4-6 packed after ports 1-3 at
    00:01.3-5, chassis = index, port = 0x8 + function (rules §11.4)."""
    plan = cli.json("reserve", "--json", "--domain-xml", fx("q35-default"))
    assert plan["free_hotplug_slots"] == {"pcie": 1, "pci": 0}
    assert plan["effect"] == "next-boot"
    got = [(c["index"], c["model"], c["model_name"], c["chassis"], c["port"], c["address"])
           for c in plan["controllers"]]
    assert got == [(4, "pcie-root-port", "pcie-root-port", 4, 0xb, "0000:00:01.3"),
                   (5, "pcie-root-port", "pcie-root-port", 5, 0xc, "0000:00:01.4"),
                   (6, "pcie-root-port", "pcie-root-port", 6, 0xd, "0000:00:01.5")]
    path = cli.write("r.xml", cli.ok("reserve", "--print-xml", "--domain-xml", fx("q35-default")))
    assert cli.json("slots", "--json", "--domain-xml", path)["free_hotplug_slots"] == \
        {"pcie": 4, "pci": 0}


def test_reserve_spare_ports_option(cli):
    plan = cli.json("reserve", "--json", "--spare-ports", "6", "--domain-xml", fx("q35-bare"))
    # q35-bare has no video, so 00:01 is free: six ports packed at 00:01.0-5.
    assert [c["address"] for c in plan["controllers"]] == \
        [f"0000:00:01.{f}" for f in range(6)]
    assert [c["index"] for c in plan["controllers"]] == [1, 2, 3, 4, 5, 6]
    out = cli.ok("reserve", "--print-xml", "--spare-ports", "6", "--domain-xml", fx("q35-bare"))
    fn0 = pci_controllers(ET.fromstring(out))[1].find("address")
    assert fn0.get("multifunction") == "on", "function 0 of a shared slot needs multifunction"
    none = cli.json("reserve", "--json", "--spare-ports", "0", "--domain-xml", fx("q35-bare"))
    assert none["controllers"] == []


def test_reserve_eager_bridge(cli):
    plan = cli.json("reserve", "--json", "--legacy-bridge", "eager", "--spare-ports", "0",
                    "--domain-xml", fx("q35-bare"))
    models = [c["model"] for c in plan["controllers"]]
    assert models == ["pcie-root-port", "pcie-to-pci-bridge"]
    port, bridge = plan["controllers"]
    assert parse_addr(bridge["address"])[1] == port["index"]


def test_reserve_respects_cap(cli):
    plan = cli.json("reserve", "--json", "--domain-xml", fx("q35-cap"))
    assert plan["controllers"] == []
    plan = cli.json("reserve", "--json", "--root-port-cap", "16", "--domain-xml", fx("q35-cap"))
    assert [c["index"] for c in plan["controllers"]] == [15, 16]


def test_reserve_text_pc_counts_pci_slots(cli):
    text = cli.ok("reserve", "--domain-xml", fx("pc-default"))
    first = text.splitlines()[0]
    assert "26 pci" in first, first
    assert "meet the policy" in first, first


@pytest.mark.parametrize("name", ["q35-cap", "pc-full"])
def test_reserve_text_says_policy_not_met(cli, name):
    first = cli.ok("reserve", "--domain-xml", fx(name)).splitlines()[0]
    assert "not met" in first, first


# ---------------------------------------------------------------------------------------------
# slots

SLOTS_BUS_KEYS = {"index", "model", "model_name", "address", "chassis", "port", "chassis_nr",
                  "bus_nr", "implicit", "hotplug", "hotplug_off", "accepts", "min_slot",
                  "max_slot", "occupants", "free_slots"}


def count_free_hotplug(slots):
    pcie = pci = 0
    for bus in slots["buses"]:
        if not bus["hotplug"]:
            continue
        if "pcie-device" in bus["accepts"]:
            pcie += len(bus["free_slots"])
        elif "pci-device" in bus["accepts"]:
            pci += len(bus["free_slots"])
    return pcie, pci


@pytest.mark.parametrize("domain", PCI_FIXTURES)
def test_slots_json(cli, domain):
    slots = cli.json("slots", "--json", "--domain-xml", fx(domain))
    assert set(slots) == {"name", "uuid", "arch", "machine", "definition", "buses",
                          "free_hotplug_slots", "unaddressed"}
    root = ET.parse(fx(domain)).getroot()
    assert slots["name"] == root.findtext("name")
    assert slots["uuid"] == root.findtext("uuid")
    assert slots["definition"] == ("running" if root.get("id") is not None else "persistent")
    os_type = root.find("os/type")
    assert slots["arch"] == os_type.get("arch")
    assert slots["machine"] == os_type.get("machine")
    assert slots["unaddressed"] == 0  # libvirt-made fixtures: everything is addressed

    buses = {b["index"]: b for b in slots["buses"]}
    assert sorted(buses) == [b["index"] for b in slots["buses"]], "buses in index order"
    assert set(buses) == set(pci_controllers(root)), "one bus per PCI controller"
    for bus in slots["buses"]:
        assert set(bus) == SLOTS_BUS_KEYS
        ctrl = pci_controllers(root)[bus["index"]]
        assert bus["model"] == ctrl.get("model")
        occupied = {s["slot"] for s in bus["occupants"]}
        assert all(s["kind"] in ("device", "controller", "chipset") for s in bus["occupants"])
        # A device's XML, for DetachDevice; nothing else carries one.
        assert all(("xml" in s) == (s["kind"] == "device") for s in bus["occupants"])
        want_free = [s for s in range(bus["min_slot"], bus["max_slot"] + 1) if s not in occupied]
        assert bus["free_slots"] == want_free, bus["index"]

    # Every PCI address in the XML shows up as an occupant in the right place.
    for key, (_, addr) in pci_elements(root).items():
        _, b, s, f, _ = addr
        assert any(o["slot"] == s and o["function"] == f for o in buses[b]["occupants"]), key
        assert s not in buses[b]["free_slots"]

    assert tuple(slots["free_hotplug_slots"][k] for k in ("pcie", "pci")) == count_free_hotplug(slots)
    assert count_free_hotplug(slots) == EXPECTED_FREE_HOTPLUG[domain]


def test_slots_hotplug_flags(cli):
    """hotplug='off' ports and pcie-root / dmi never take hotplug; bridges and ports do."""
    buses = {b["index"]: b for b in
             cli.json("slots", "--json", "--domain-xml", fx("q35-hotplug-off"))["buses"]}
    assert [buses[i]["hotplug"] for i in range(5)] == [False, False, False, True, True]
    buses = {b["index"]: b for b in
             cli.json("slots", "--json", "--domain-xml", fx("q35-dmi"))["buses"]}
    assert (buses[0]["hotplug"], buses[1]["hotplug"], buses[2]["hotplug"]) == \
        (False, False, True)
    assert (buses[1]["min_slot"], buses[1]["max_slot"]) == (0, 31)  # dmi: slots 0..31
    assert (buses[2]["min_slot"], buses[2]["max_slot"]) == (1, 31)  # pci-bridge: 1..31
    pc = {b["index"]: b for b in
          cli.json("slots", "--json", "--domain-xml", fx("pc-default"))["buses"]}
    assert pc[0]["hotplug"] is True and "pci-device" in pc[0]["accepts"]
    noacpi = cli.json("slots", "--json", "--domain-xml", fx("pc-noacpi"))["buses"]
    assert noacpi[0]["hotplug"] is False


@pytest.mark.parametrize("domain", PCI_FIXTURES)
def test_slots_text(cli, domain):
    text = cli.ok("slots", "--domain-xml", fx(domain))
    slots = cli.json("slots", "--json", "--domain-xml", fx(domain))
    lines = text.splitlines()
    assert lines[0].startswith(f"domain {slots['name']}")
    assert re.match(r"BUS\s+SLOT\s+OCCUPANT\s+HOTPLUG\s+FREE$", lines[1])
    for bus in slots["buses"]:
        pat = rf"^{bus['index']:02x}\s+-\s+controller {bus['index']}: {re.escape(bus['model'])}"
        m = re.search(pat + r".*\s(yes|no)\s+(\d+)$", text, re.M)
        assert m, f"no line for bus {bus['index']}"
        assert m.group(1) == ("yes" if bus["hotplug"] else "no")
        assert int(m.group(2)) == len(bus["free_slots"])
        # Free runs: every free slot is covered by exactly one "free" line of this bus.
        covered = []
        for fm in re.finditer(rf"^{bus['index']:02x}\s+([0-9a-f]{{2}})(?:-([0-9a-f]{{2}}))?\s+"
                              r"free \((\d+) slots?\)", text, re.M):
            first = int(fm.group(1), 16)
            last = int(fm.group(2), 16) if fm.group(2) else first
            assert int(fm.group(3)) == last - first + 1
            covered += range(first, last + 1)
        assert covered == bus["free_slots"]
    m = re.fullmatch(r"free hotplug slots: (\d+) pcie, (\d+) pci", lines[-1])
    assert m, lines[-1]
    assert (int(m.group(1)), int(m.group(2))) == EXPECTED_FREE_HOTPLUG[domain]


# ---------------------------------------------------------------------------------------------
# --print-device-xml


@pytest.mark.parametrize("domain,device,flags", [c[1:4] for c in PLAN_CASES],
                         ids=[c[0] for c in PLAN_CASES])
def test_print_device_xml(cli, domain, device, flags):
    plan = cli.json(*plan_args(domain, device, ["--json", *flags]))
    out = cli.xml(*plan_args(domain, device, ["--print-device-xml", *flags]))
    src = ET.parse(dev(device)).getroot()
    assert out.tag == src.tag
    assert out.attrib == src.attrib
    # Everything but the address is the user's XML, unchanged.
    assert [canon(c) for c in out if c.tag != "address"] == \
        [canon(c) for c in src if c.tag != "address"]
    addrs = out.findall("address")
    if "address" not in plan:
        assert addrs == [] or addrs[0].get("type") != "pci"
    else:
        assert len(addrs) == 1 and addrs[0].get("type") == "pci"
        assert pci_addr(addrs[0]) == parse_addr(plan["address"])
