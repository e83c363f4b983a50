"""Authorization by the real polkitd: Debian's /usr/lib/polkit-1/polkitd runs on a private bus
that plays the system bus, reads the shipped policy/org.slotkeeper.SlotKeeper1.policy, and
decides with a JavaScript rule that looks at the details slotkeeperd passes (domain, verb).

polkitd only reads actions from /usr/share/polkit-1/actions and rules from
/etc/polkit-1/rules.d, so the test places the two files there for its run and removes them
afterwards (an action file already installed by a package is used as it is)."""

import os
import subprocess
import time

import pytest

import skdaemon
import skpolkit
from skauth import (ACTION, NOBODY, gdbus, gv_string, macs, polkit_service, settled, slotkeeper,
                    write_device)
from skauth import cli  # noqa: F401  (a fixture, shared on purpose)
from skdaemon import inactive_xml, nic

RULES_DIR = "/etc/polkit-1/rules.d"

RULE = """// slotkeeper's test_polkitd.py (removed after the test)
polkit.addRule(function(action, subject) {
    if (action.id == "%(action)s" && subject.user == "nobody" &&
        action.lookup("domain") == "%(domain)s" && action.lookup("verb") == "attach-device")
        return polkit.Result.YES;
});
"""


@pytest.fixture(scope="module")
def placed_files():
    """The action and a rule granting nobody attach-device on this module's guest only."""
    skpolkit.require()
    name = skdaemon.PREFIX + "polkitd"
    placed = [p for p in [skpolkit.place_action()] if p]
    os.makedirs(RULES_DIR, exist_ok=True)
    rule_path = os.path.join(RULES_DIR, f"10-slotkeeper-test-{os.getpid()}.rules")
    with open(rule_path, "w") as f:
        f.write(RULE % {"action": ACTION, "domain": name})
    os.chmod(rule_path, 0o644)
    placed.append(rule_path)
    yield name
    for path in placed:
        os.unlink(path)


@pytest.fixture(scope="module")
def bus(placed_files):
    b = skpolkit.system_bus()
    yield b
    b.close()


@pytest.fixture(scope="module")
def polkitd(bus, workdir):
    p = skpolkit.Polkitd(bus, workdir)
    yield p
    p.stop()


@pytest.fixture(scope="module")
def service(bus, workdir, conn, polkitd):
    s = polkit_service(bus, workdir)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def guest(domains, service, placed_files):
    return settled(domains.define(skdaemon.q35_xml(placed_files)))


def test_polkitd_knows_the_action(bus, polkitd):
    """The shipped .policy, as polkitd reads it: nobody but an active local admin, who must
    authenticate (and is remembered for a while)."""
    res = subprocess.run(["pkaction", "--action-id", ACTION, "--verbose"], capture_output=True,
                         text=True, env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address))
    assert res.returncode == 0, res.stderr
    fields = dict(line.strip().split(":", 1) for line in res.stdout.splitlines()[1:]
                  if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    assert fields["implicit any"] == "no", res.stdout
    assert fields["implicit inactive"] == "no", res.stdout
    assert fields["implicit active"] == "auth_admin_keep", res.stdout


def test_rule_sees_domain_and_verb(bus, guest, cli, workdir):
    """The rule grants attach-device on this guest only: attach works as nobody, detach (not
    granted, and nobody has no session to authenticate in) is refused and changes nothing."""
    mac = "52:54:00:a8:00:01"
    dev = write_device(workdir, "nic.xml", nic("virtio", mac))
    res = slotkeeper(bus, cli, NOBODY, "attach-device", guest.name(), dev, "--config",
                     "--no-ask-password")
    assert res.returncode == 0, res.stderr
    after_attach = inactive_xml(guest)
    assert mac in macs(after_attach)
    res = slotkeeper(bus, cli, NOBODY, "detach-device", guest.name(), dev, "--config",
                     "--no-ask-password")
    assert res.returncode != 0 and "not authorized" in res.stderr.lower(), res
    time.sleep(1)
    assert inactive_xml(guest) == after_attach
    # root is the administrator polkit always lets through
    res = slotkeeper(bus, cli, 0, "detach-device", guest.name(), dev, "--config")
    assert res.returncode == 0, res.stderr
    assert mac not in macs(inactive_xml(guest))


def test_rule_does_not_cover_other_domains(bus, guest, domains, service):
    other = settled(domains.new_q35("polkitd-other"))
    before = inactive_xml(other)
    ok, out = gdbus(bus, NOBODY, skdaemon.MANAGER_PATH,
                    skdaemon.MANAGER_IFACE + ".AttachDevice", gv_string(other.name()),
                    gv_string(nic("virtio", "52:54:00:a8:00:02").replace("'", '"')),
                    "{'config': <true>, 'auth.no_user_interaction': <true>}")
    assert not ok and "org.slotkeeper.SlotKeeper1.Error.NotAuthorized" in out, out
    time.sleep(1)
    assert inactive_xml(other) == before
