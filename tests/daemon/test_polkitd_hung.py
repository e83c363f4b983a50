"""polkitd hung (SIGSTOP) under slotkeeperd: Debian's real polkitd on a private bus that plays
the system bus (test_polkitd.py's fixtures), the service with --polkit and
[service] auth-timeout-seconds set low. A check that may not ask the user is refused within
5 s, an interactive one after the configured time; both say that polkit did not answer, change
nothing, and hold up no other call meanwhile. After SIGCONT polkit is asked again as usual."""

import time

import pytest

import skdaemon
from skauth import settled
from skdaemon import inactive_xml, nic
from skfault import PROMPT, manager_call, stopped, timed
from test_polkitd import bus, placed_files, polkitd  # noqa: F401 (fixtures)

NO_INTERACTION_TIMEOUT = 5  # sk-auth.c: SK_POLKIT_TIMEOUT_MS
AUTH_TIMEOUT = 3  # [service] auth-timeout-seconds in this module's config
SLACK = 2.0  # seconds, for a busy machine


@pytest.fixture(scope="module")
def service(bus, workdir, conn, polkitd):  # noqa: F811 (the fixtures imported above)
    svc = skdaemon.Service(bus, workdir)
    with open(svc.config, "a") as f:
        f.write(f"[service]\nauth-timeout-seconds={AUTH_TIMEOUT}\n")
    svc.extra_args = ["--polkit"]
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def client(bus, service):  # noqa: F811
    c = skdaemon.Client(bus)
    yield c
    c.close()


def attach_options(quiet):
    """--config, and with @quiet auth.no_user_interaction (no password dialog)."""
    _, GLib = skdaemon.gio()
    options = skdaemon.opts(config=True)
    if quiet:
        options["auth.no_user_interaction"] = GLib.Variant("b", True)
    return options


def attach_call(client, dom, mac, quiet):
    return manager_call(client, "AttachDevice", "(ssa{sv})", dom.name(), nic("virtio", mac),
                        attach_options(quiet))


def attach_now(client, dom, mac):
    client.manager("AttachDevice", "(ssa{sv})", dom.name(), nic("virtio", mac),
                   attach_options(True), reply="(ss)")


def test_polkitd_hung(client, domains, polkitd):  # noqa: F811
    target = settled(domains.new_q35("pkhung-a"))
    other = settled(domains.new_q35("pkhung-b"))
    target_path = skdaemon.domain_path(target.UUIDString())
    other_path = skdaemon.domain_path(other.UUIDString())
    # polkit answers root at once while it runs.
    attach_now(client, target, "52:54:00:d7:fa:01")
    settled(target)
    before = inactive_xml(target)
    before_other = inactive_xml(other)

    timings = {}
    with stopped(polkitd.proc.pid):
        quiet = attach_call(client, target, "52:54:00:d7:fa:02", quiet=True)
        asking = attach_call(client, target, "52:54:00:d7:fa:03", quiet=False)
        client.pump(0.5)
        # Reads need no authorization; neither they nor another domain's object wait.
        timings["GetSlots"], _ = timed(client.domain, target_path, "GetSlots", "(a{sv})", {},
                                       reply="(aa{sv})")
        timings["Plan"], _ = timed(client.domain, target_path, "Plan", "(sa{sv})",
                                   nic("virtio", "52:54:00:d7:fa:04"), {}, reply="(a{sv})")
        timings["other's properties"], _ = timed(client.properties, other_path)
        timings["other's GetSlots"], _ = timed(client.domain, other_path, "GetSlots",
                                               "(a{sv})", {}, reply="(aa{sv})")
        timings["GetManagedObjects"], _ = timed(client.managed_objects)
        for call in (asking, quiet):
            call.wait(max(AUTH_TIMEOUT, NO_INTERACTION_TIMEOUT) + SLACK + 5)
    timings["no_user_interaction"] = quiet.elapsed
    timings["interactive"] = asking.elapsed
    print({k: round(v, 2) for k, v in timings.items()})
    print(f"no_user_interaction: {quiet.reply}\ninteractive: {asking.reply}")

    slow = {k: v for k, v in timings.items() if k not in ("no_user_interaction", "interactive")
            and v > PROMPT}
    assert not slow, f"calls waited for the hung polkitd: {slow}"
    for what, call, timeout in (("no_user_interaction", quiet, NO_INTERACTION_TIMEOUT),
                                ("interactive", asking, AUTH_TIMEOUT)):
        assert call.reply[:2] == ("error", skdaemon.ERROR_PREFIX + "NotAuthorized"), \
            (what, call.reply)
        assert "polkit did not answer" in call.reply[2], (what, call.reply)
        assert timeout - 0.5 <= call.elapsed <= timeout + SLACK, (what, call.elapsed)

    # Nothing was changed, also not once polkitd answered the stale checks.
    time.sleep(1)
    assert inactive_xml(target) == before
    assert inactive_xml(other) == before_other
    # polkit is asked again as before.
    started = time.monotonic()
    attach_now(client, target, "52:54:00:d7:fa:05")
    print(f"authorized again in {time.monotonic() - started:.2f}s")
    assert "52:54:00:d7:fa:05" in inactive_xml(target)
