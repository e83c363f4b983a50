"""The Cockpit page "Hotplug slots", end to end in a real browser.

Debian's chromium (headless, driven by playwright-core through driver.mjs) loads the page from
a real cockpit-ws (--local-session=cockpit-bridge, loopback) whose bridge uses a private
dbus-daemon configured as the system bus with the shipped bus policy; the real polkitd reads the
shipped action; slotkeeperd (the build's, --polkit) manages the booting test guest on the real
libvirtd. The page is the one `meson install` puts in share/cockpit/slotkeeper.

What is checked is read from libvirt's XML and from the guest's own PCI list, never only from
the page or the service. The page must never report a console error, and never reload: a
marker set in the page at the start must still be there at the end.

Screenshots (light and dark, 1280x800 and 390x844, and the page inside the Cockpit shell) go
to BUILD/cockpit-screenshots; with SK_UPDATE_SCREENSHOTS=1 they are also copied to
docs/cockpit/ for docs/cockpit.md.
"""

import os
import re
import shutil
import subprocess
import time

import pytest

import skcockpit
import sklibvirt
import skpolkit
from skcockpit import BUILD_ROOT, Browser, CockpitWs
from skguest import (BOOT_TIMEOUT, HOTPLUG_TIMEOUT, VIRTIO_VENDOR, SerialLog, devices_at,
                     guest_xml, sysfs_path)
from sklibvirt import SETTLE_TIMEOUT, inactive_xml, live_xml, wait_xml
from skoptin import metadata
from skpci import SPARE_PORTS, Topology, device_address, fmt_addr, free_ports, parse_addr
from skservice import settled
from skxml import nic

STEM = "skck-"  # this suite's domains: skck-<pid>-...
MAC_FORM = "52:54:00:c0:c1:01"
MAC_VIRSH = "52:54:00:c0:c1:02"
MAC_RTL = "52:54:00:c0:c1:03"
MAC_READONLY = "52:54:00:c0:c1:04"
UI_TIMEOUT = 30000  # ms: the page reacting to a D-Bus signal
SETTLE = SETTLE_TIMEOUT
SHOTS = os.path.join(BUILD_ROOT, "cockpit-screenshots")
DOCS_SHOTS = os.path.join(skcockpit.SOURCE_ROOT, "docs", "cockpit")
TIMINGS = {}
NOTES = []


def timed(name):
    """Records how long a step took (printed at the end of the module)."""
    class Timer:
        def __enter__(self):
            self.start = time.monotonic()

        def __exit__(self, *exc):
            TIMINGS[name] = time.monotonic() - self.start
    return Timer()


# ---- the environment, once per module (conn, workdir and guest_files: tests/lib/skplugin.py) --


@pytest.fixture(scope="module")
def tools():
    skcockpit.require_tools()


@pytest.fixture(scope="module")
def npm_dir(tools):
    with timed("npm ci (playwright-core)"):
        return skcockpit.node_modules(BUILD_ROOT)


@pytest.fixture(scope="module")
def share(workdir, tools):
    """The page as meson install puts it, in a tree the user nobody can read."""
    return skcockpit.install_page(BUILD_ROOT, os.path.join(workdir, "dest"))


@pytest.fixture(scope="module")
def bus(tools):
    placed = skpolkit.place_action()
    b = skpolkit.system_bus()
    yield b
    b.close()
    if placed:
        os.unlink(placed)


@pytest.fixture(scope="module")
def polkitd(bus, workdir):
    p = skpolkit.Polkitd(bus, workdir)
    yield p
    p.stop()


@pytest.fixture(scope="module")
def service(bus, polkitd, workdir, conn):
    s = skcockpit.polkit_service(bus, workdir)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def domains(conn):
    yield from sklibvirt.domains_for_fixture(conn, STEM)


@pytest.fixture(scope="module")
def guest(domains, service, guest_files):
    """The booting test guest, managed (opted in through its metadata), with its spares, running
    and reporting its PCI devices: (domain, serial log)."""
    name = domains.prefix + "web"
    serial = os.path.join(guest_files, "cockpit.log")
    with timed("guest defined, spares added, booted"):
        dom = domains.define(guest_xml(name, guest_files, serial, metadata=metadata()))
        settled(dom)
        dom.create()
        log = SerialLog(serial)
        log.wait(lambda b: b, BOOT_TIMEOUT, "the guest's first PCI device list")
    return dom, log


@pytest.fixture(scope="module")
def root_ws(bus, share, workdir, service):
    ws = CockpitWs(bus, share, workdir)
    yield ws
    ws.stop()


@pytest.fixture(scope="module")
def page(npm_dir, workdir, root_ws, guest):
    """The page, loaded once as root (whose bridge polkit lets through) at 1280x800: every
    test below acts on this one page load."""
    b = Browser(npm_dir, workdir)
    with timed("page loaded and listing the guest"):
        b.call("viewport", width=1280, height=800)
        b.call("goto", url=root_ws.url())
        b.call("waitFor", selector="#app[data-ready=true]")
        b.call("evaluate", expression="() => { window.__skLoadedOnce = 'yes' }")
    yield b
    b.close()


# ---- page helpers ------------------------------------------------------------------------------


def row(name):
    return f"[data-sk=domain-row][data-name='{name}']"


def counts_in_page(b, name):
    """{'now': (pcie, pci) or None, 'next': (pcie, pci)} as the page's table shows them."""
    value = b.call("evaluate", arg=row(name), expression="""(sel) => {
        const r = document.querySelector(sel);
        if (!r) return null;
        const cell = key => {
            const c = r.querySelector(`[data-sk=${key}]`);
            return c.dataset.pcie === "" ? null : [Number(c.dataset.pcie), Number(c.dataset.pci)];
        };
        return {now: cell("free-now"), next: cell("free-next"),
                restart: r.querySelector("[data-sk=restart]").innerText.trim()};
    }""")["value"]
    assert value is not None, f"the page lists no {name}"
    return value


def libvirt_counts(dom):
    live, config = Topology(live_xml(dom)), Topology(inactive_xml(dom))
    return {"now": [len(live.free_ports()), len(live.free_pci_slots())],
            "next": [len(config.free_ports()), len(config.free_pci_slots())]}


def root_ports(xml):
    return Topology(xml).root_ports()


def wait_page(b, expression, arg=None, what="", timeout=UI_TIMEOUT):
    try:
        return b.call("waitForFunction", expression=expression, arg=arg, timeout=timeout)["value"]
    except skcockpit.BrowserError as e:
        if "Timeout" not in str(e):
            raise
        pytest.fail(f"the page did not show {what} within {timeout / 1000:.0f}s", pytrace=False)


def wait_counts_equal_libvirt(b, dom, timeout=SETTLE):
    deadline = time.monotonic() + timeout
    while True:
        want = libvirt_counts(dom)
        got = counts_in_page(b, dom.name())
        if got["now"] == want["now"] and got["next"] == want["next"]:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"page shows {got}, libvirt's XML has {want}", pytrace=False)
        time.sleep(0.5)


def not_reloaded(b):
    assert b.call("evaluate", expression="() => window.__skLoadedOnce")["value"] == "yes", \
        "the page was reloaded"


def tree_slot(b, address):
    """The tree's slot at @address: {kind, state, text} or None."""
    return b.call("evaluate", arg=address, expression="""(addr) => {
        const el = document.querySelector(`[data-sk=tree] .sk-slot[data-address="${addr}"]`);
        if (!el) return null;
        const t = el.querySelector("title");
        return {kind: el.dataset.kind, state: el.dataset.state, text: t ? t.textContent : ""};
    }""")["value"]


def select_guest(b, name):
    b.call("click", selector=f"{row(name)} [data-sk=select]")
    wait_page(b, f"() => document.querySelector('[data-sk=tree-card] h2').textContent.includes({name!r})"
              " && document.querySelector('[data-sk=tree]') !== null", what="the guest's tree")


def fill_nic(b, model, mac, scope="both"):
    b.call("check", selector="[data-sk=device-kind] input[value=nic]")
    b.call("select", selector="[data-sk=nic-model]", value=model)
    b.call("select", selector="[data-sk=nic-source]", value="user")
    b.call("fill", selector="[data-sk=nic-mac]", value=mac)
    b.call("check", selector=f"[data-sk=scope] input[value={scope}]")


def attach_disabled(b):
    return b.call("evaluate",
                  expression="() => document.querySelector('[data-sk=attach]').disabled")["value"]


def text(b, selector):
    return b.call("text", selector=selector)["value"]


def virsh(*args):
    res = subprocess.run(["virsh", "-c", sklibvirt.URI] + list(args), capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


def screenshot(b, name, **kw):
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, name)
    b.call("screenshot", path=path, **kw)
    if os.environ.get("SK_UPDATE_SCREENSHOTS") == "1":
        os.makedirs(DOCS_SHOTS, exist_ok=True)
        shutil.copy(path, os.path.join(DOCS_SHOTS, name))
    return path


# ---- the tests -------------------------------------------------------------------------------


def test_guest_listed_with_libvirt_counts(page, guest):
    """The guest is listed, managed, with free-slot counts equal to what libvirt's live and
    persistent XML have."""
    dom, _ = guest
    got = wait_counts_equal_libvirt(page, dom)
    assert got["now"][0] >= 1 and got["next"][0] >= SPARE_PORTS, got
    assert text(page, f"{row(dom.name())} [data-sk=managed]") == "yes"
    assert text(page, f"{row(dom.name())} [data-sk=state]") == "running"


def test_attach_virtio_nic_through_form(page, guest):
    """Plan first, then attach: libvirt's live and persistent XML hold the NIC at the planned
    address, the guest sees it behind that root port, and the tree shows it without reload."""
    dom, log = guest
    select_guest(page, dom.name())
    fill_nic(page, "virtio", MAC_FORM)
    assert attach_disabled(page), "Attach is possible before a plan was shown"

    with timed("form: plan shown"):
        page.call("click", selector="[data-sk=plan]")
        page.call("waitFor", selector="[data-sk=plan-result]")
    plan_text = text(page, "[data-sk=plan-result]")
    m = re.search(r"Plan: attach at (\S+)", plan_text)
    assert m, plan_text
    planned = m.group(1)
    assert "Why:" in plan_text, plan_text
    assert not attach_disabled(page)

    with timed("form: attach until libvirt has it"):
        page.call("click", selector="[data-sk=attach]")
        page.call("waitFor", selector="[data-sk=attach-success]")
    done = text(page, "[data-sk=attach-success]")
    assert f"Attached at {planned}" in done, done

    addr = parse_addr(planned)
    assert device_address(live_xml(dom), MAC_FORM) == addr, "live address differs from the plan"
    assert device_address(inactive_xml(dom), MAC_FORM) == addr, \
        "persistent address differs from the live one"

    with timed("guest sees the NIC"):
        pattern = sysfs_path(Topology(live_xml(dom)), addr)
        log.wait(lambda blk: devices_at(blk, pattern, VIRTIO_VENDOR), HOTPLUG_TIMEOUT,
                 f"the virtio NIC at {pattern.pattern} in the guest")

    with timed("tree shows the NIC"):
        wait_page(page, """(args) => {
            const el = document.querySelector(`[data-sk=tree] .sk-slot[data-address="${args[0]}"]`);
            return el && el.dataset.kind === "slot-device" && el.textContent.includes(args[1]);
        }""", [planned, MAC_FORM], f"the NIC at {planned} in the tree")
    slot = tree_slot(page, planned)
    assert slot["state"] == "both", slot
    wait_counts_equal_libvirt(page, dom)
    not_reloaded(page)


def test_plain_virsh_attach_seen_live(page, guest, workdir):
    """Someone else's plain virsh attach-device --live --config takes a spare: the page shows
    the running guest's count drop, then slotkeeper's replacement spare in the next-boot
    definition (a cold boot pending, the new port dashed in the tree), without reload."""
    dom, _ = guest
    name = dom.name()
    before = counts_in_page(page, name)
    # Record every value the page shows in the next-boot cell, to see the drop and the refill.
    page.call("evaluate", arg=row(name), expression="""(sel) => {
        window.__skNext = [];
        const note = () => {
            const c = document.querySelector(sel + " [data-sk=free-next]");
            const v = c ? Number(c.dataset.pcie) : null;
            if (window.__skNext[window.__skNext.length - 1] !== v) window.__skNext.push(v);
        };
        note();
        new MutationObserver(note).observe(document.querySelector("[data-sk=domains]"),
                                           {subtree: true, childList: true, attributes: true});
    }""")
    ports_before = set(root_ports(inactive_xml(dom)))
    path = os.path.join(workdir, "virsh-nic.xml")
    with open(path, "w") as f:
        f.write(nic("virtio", MAC_VIRSH))
    start = time.monotonic()
    virsh("attach-device", name, path, "--live", "--config")

    wait_page(page, """(args) => {
        const c = document.querySelector(args[0] + " [data-sk=free-now]");
        return c && Number(c.dataset.pcie) === args[1];
    }""", [row(name), before["now"][0] - 1], "the running guest's spare taken")
    TIMINGS["virsh attach: page shows the taken spare"] = time.monotonic() - start

    # slotkeeper appends a new root port to the persistent definition: which one, in libvirt?
    config = wait_xml(dom, lambda x: set(root_ports(x)) - ports_before and
                               len(free_ports(x)) >= SPARE_PORTS,
                               "slotkeeper's replacement spare")
    (new_port,) = set(root_ports(config)) - ports_before
    new_address = fmt_addr(Topology(config).controller_address(new_port))
    TIMINGS["virsh attach: libvirt has the replacement spare"] = time.monotonic() - start
    wait_page(page, """(addr) => document.querySelector(
        `[data-sk=tree] [data-kind=controller][data-state="next-boot"][data-address="${addr}"] .sk-slot[data-kind=slot-free]`) !== null""",
              new_address, f"the replacement port {new_address} (bus {new_port}) as next-boot only",
              timeout=SETTLE * 1000)
    TIMINGS["virsh attach: page shows the replacement spare"] = time.monotonic() - start
    wait_page(page, """(sel) => document.querySelector(sel + " [data-sk=restart]").innerText.includes("cold boot")""",
              row(name), "a cold boot pending")

    # The tree also has the NIC virsh added, where libvirt put it in the running guest.
    live_addr = device_address(live_xml(dom), MAC_VIRSH)
    assert live_addr is not None
    wait_page(page, """(addr) => {
        const el = document.querySelector(`[data-sk=tree] .sk-slot[data-address="${addr}"]`);
        return el && el.dataset.kind === "slot-device";
    }""", fmt_addr(live_addr), "virsh's NIC in the tree")
    history = page.call("evaluate", expression="() => window.__skNext")["value"]
    NOTES.append(f"next-boot free PCIe ports, as the page showed them in turn: {history}")
    wait_counts_equal_libvirt(page, dom)
    assert any(e for e in page.call("evaluate", expression="""() =>
        [...document.querySelectorAll('[data-sk=events] [data-kind=reconciled]')].map(e => e.textContent)""")
        ["value"]), "no 'reconciled' event listed"
    not_reloaded(page)


def test_keyboard_and_labels(page):
    """Every control can be reached with Tab (the tree's detach buttons too) and has a label."""
    page.call("evaluate", expression="() => document.activeElement && document.activeElement.blur()")
    reached = set()
    for _ in range(120):
        page.call("press", key="Tab")
        el = page.call("evaluate", expression="""() => {
            const a = document.activeElement;
            return a ? (a.dataset && a.dataset.sk) || a.getAttribute("data-sk") || a.tagName : null;
        }""")["value"]
        reached.add(el)
    for want in ("select", "device-kind", "nic-model", "nic-mac", "scope", "hotplug-require", "plan",
                 "detach", "spare-ports", "legacy-bridge", "managed-switch"):
        found = want in reached or (want in ("device-kind", "scope") and "INPUT" in reached)
        assert found, f"Tab never reaches {want}: {sorted(map(str, reached))}"
    unlabelled = page.call("evaluate", expression="""() => [...document.querySelectorAll(
            "input, select, textarea, button, [role=button]")]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label") &&
                      !el.getAttribute("aria-labelledby") && !el.textContent.trim())
        .map(el => el.outerHTML.slice(0, 120))""")["value"]
    assert not unlabelled, unlabelled


def test_detach_from_the_tree(page, guest):
    """The form's NIC, detached with the keyboard from its Detach button in the tree, from the
    running guest and the next boot: gone from libvirt's XML and from the guest."""
    dom, log = guest
    addr = device_address(live_xml(dom), MAC_FORM)
    address = fmt_addr(addr)
    pattern = sysfs_path(Topology(live_xml(dom)), addr)
    page.call("evaluate", arg=address, expression="""(addr) => document.querySelector(
        `[data-sk=tree] .sk-slot[data-address="${addr}"] [data-sk=detach]`).focus()""")
    page.call("press", key="Enter")
    page.call("waitFor", selector="[data-sk=detach-dialog]")
    dialog = text(page, "[data-sk=detach-dialog]")
    assert MAC_FORM in dialog and address in dialog, dialog
    assert page.call("evaluate", expression="""() =>
        document.activeElement.closest("[data-sk=detach-dialog]") !== null""")["value"], \
        "the focus is not in the dialog"
    page.call("check", selector="[data-sk=detach-dialog] input[value=both]")
    with timed("detach: until the page reports it"):
        page.call("click", selector="[data-sk=confirm-detach]")
        page.call("waitFor", selector="[data-sk=detach-success]", timeout=HOTPLUG_TIMEOUT * 1000)
    assert device_address(live_xml(dom), MAC_FORM) is None
    assert device_address(inactive_xml(dom), MAC_FORM) is None
    log.wait(lambda blk: not devices_at(blk, pattern, VIRTIO_VENDOR), HOTPLUG_TIMEOUT,
             "the virtio NIC to leave the guest")
    wait_page(page, """(addr) => {
        const el = document.querySelector(`[data-sk=tree] .sk-slot[data-address="${addr}"]`);
        return el && el.dataset.kind === "slot-free";
    }""", address, f"{address} free again in the tree")
    wait_counts_equal_libvirt(page, dom)
    not_reloaded(page)


def test_rtl8139_refusal_in_service_words(page, guest):
    """rtl8139 (conventional PCI) on the running q35 guest, which has no pcie-to-pci-bridge:
    the plan refuses and says what to do; attaching anyway gets the service's NoFreeSlot text,
    which names the chain it added to the persistent definition and the cold boot it needs."""
    dom, _ = guest
    assert "pcie-to-pci-bridge" not in inactive_xml(dom)
    fill_nic(page, "rtl8139", MAC_RTL)
    page.call("click", selector="[data-sk=plan]")
    page.call("waitFor", selector="[data-sk=plan-result]")
    plan_text = text(page, "[data-sk=plan-result]")
    assert "Plan: refused" in plan_text and "no free hotplug-capable slot" in plan_text, plan_text
    assert "What you can do:" in plan_text and "started again" in plan_text, plan_text
    assert text(page, "[data-sk=attach]") == "Attach anyway"

    page.call("click", selector="[data-sk=attach]")
    page.call("waitFor", selector="[data-sk=attach-result] [data-sk=error]")
    error = text(page, "[data-sk=attach-result] [data-sk=error]")
    NOTES.append(f"the page shows for rtl8139: {error!r}")
    assert "No free slot" in error, error
    assert "org.slotkeeper.SlotKeeper1.Error.NoFreeSlot" in error, error
    assert "shut down and started again" in error, error
    config = inactive_xml(dom)
    bridges = [int(i) for i in re.findall(
        r"<controller type='pci' index='(\d+)' model='pcie-to-pci-bridge'", config)]
    assert len(bridges) == 1, config
    assert re.search(rf"pcie-to-pci-bridge\D+{bridges[0]}\b", error), \
        f"the message does not name the bridge (index {bridges[0]}) libvirt now has: {error}"
    assert MAC_RTL not in live_xml(dom) and MAC_RTL not in config
    # The page follows: the chain is there for the next boot.
    wait_page(page, f"""() => document.querySelector("{row(dom.name())} [data-sk=chain]").innerText
        .includes("next boot")""", None, "the legacy chain at next boot")
    not_reloaded(page)


def test_service_stop_and_start_followed(page, guest, service):
    """slotkeeperd stops: the page says so and shows nothing it told before; it starts again:
    the page connects to the new instance by itself (the bus's NameOwnerChanged, no polling)
    and shows the guest and its tree again, without reload."""
    dom, _ = guest
    with timed("service stopped: the page says so"):
        service.stop()
        wait_page(page, """() => document.querySelector("[data-sk=no-service]") !== null &&
            document.querySelectorAll("[data-sk=domain-row]").length === 0""", None, "no service")
    with timed("service started: the page shows the guest again"):
        service.start()
        wait_page(page, f"""() => document.querySelector("{row(dom.name())}") !== null &&
            document.querySelector("[data-sk=no-service]") === null &&
            document.querySelector("[data-sk=tree]") !== null""", None, "the guest again",
                  timeout=SETTLE * 1000)
    wait_counts_equal_libvirt(page, dom)
    not_reloaded(page)


def set_style(b, style):
    """What Cockpit's shell does when the user picks a style: localStorage "shell:style" and a
    "cockpit-style" event to the page."""
    b.call("evaluate", arg=style, expression="""(style) => {
        localStorage.setItem("shell:style", style);
        window.dispatchEvent(new CustomEvent("cockpit-style", {detail: {style}}));
    }""")
    dark = b.call("evaluate", expression="""() =>
        document.documentElement.classList.contains("pf-theme-dark")""")["value"]
    assert dark == (style == "dark"), f"style {style}: pf-theme-dark is {dark}"


def test_screenshots_light_and_dark(page, guest):
    """Light and dark, wide and narrow, of the page as the tests left it (one page load)."""
    dom, _ = guest
    page.call("evaluate", expression="() => document.querySelector('[data-sk=plan-result]')?.scrollIntoView()")
    for width, height, size in ((1280, 800, "1280"), (390, 844, "narrow")):
        page.call("viewport", width=width, height=height)
        time.sleep(0.5)  # the tree re-lays itself out for the new width
        wait_page(page, f"() => {{ const t = document.querySelector('[data-sk=tree]');"
                        f" return t && Math.abs(t.getAttribute('width') - t.parentNode.clientWidth) < 6; }}",
                  None, f"the tree laid out for {width}px")
        for style in ("light", "dark"):
            set_style(page, style)
            screenshot(page, f"page-{size}-{style}.png", fullPage=True)
    page.call("viewport", width=1280, height=800)
    set_style(page, "light")
    not_reloaded(page)
    assert not page.problems


def test_menu_entry_in_the_shell(npm_dir, workdir, bus, share, service, guest):
    """The page inside Cockpit's own shell: its menu entry is "Hotplug slots", right after
    cockpit-machines' "Virtual machines", and it works in the shell's frame (screenshots at
    1280x800, light and dark, the style picked the way the shell stores it)."""
    dom, _ = guest
    for style in ("light", "dark"):
        ws = CockpitWs(bus, share, workdir)  # one browser session per --local-session bridge
        b = Browser(npm_dir, workdir)
        # The shell itself may complain about this systemd-less machine; the page may not.
        ours = lambda p: "/slotkeeper/" not in p["url"]  # noqa: E731
        try:
            b.call("viewport", width=1280, height=800, tolerate=ours)
            b.call("goto", url=ws.base + "/", tolerate=ours)
            b.call("evaluate", arg=style, tolerate=ours,
                   expression="(s) => localStorage.setItem('shell:style', s)")
            b.call("goto", url=ws.base + "/slotkeeper", tolerate=ours)
            menu = b.call("waitForFunction", tolerate=ours, expression="""() => {
                const items = [...document.querySelectorAll("nav a")].map(a => [a.textContent.trim(), a.getAttribute("href")]);
                return items.some(i => i[0] === "Hotplug slots") ? items : null;
            }""")["value"]
            labels = [label for label, _href in menu]
            href = dict(menu)["Hotplug slots"]
            assert href and "slotkeeper" in href, menu
            if "Virtual machines" in labels:  # cockpit-machines is installed (setup-host.sh)
                assert labels.index("Hotplug slots") == labels.index("Virtual machines") + 1, labels
            elif skcockpit.required():
                pytest.fail(f"cockpit-machines is not installed: no Virtual machines entry in {labels}")
            b.call("waitFor", frame="/slotkeeper/", selector="#app[data-ready=true]", tolerate=ours)
            b.call("waitFor", frame="/slotkeeper/", selector=f"{row(dom.name())}", tolerate=ours)
            b.call("waitFor", frame="/slotkeeper/", selector="[data-sk=tree]", tolerate=ours)
            time.sleep(1)
            screenshot(b, f"shell-1280-{style}.png", tolerate=ours)
        finally:
            b.close()
            ws.stop()


def test_read_only_without_administrative_access(npm_dir, workdir, bus, share, service, guest):
    """cockpit-ws and its bridge as the user nobody (superuser "try" finds no way to become
    root): the page says administrative access is required and offers no change; plans still
    work (reads need no authorization); a change sent anyway through the page's own D-Bus
    channel is refused by the real polkitd; libvirt's XML stays byte for byte the same."""
    dom, _ = guest
    name = dom.name()
    before = (live_xml(dom), inactive_xml(dom))
    ws = CockpitWs(bus, share, workdir, user="nobody")
    b = Browser(npm_dir, workdir)
    try:
        b.call("viewport", width=1280, height=800)
        b.call("goto", url=ws.url())
        b.call("waitFor", selector="#app[data-ready=true]")
        b.call("waitFor", selector="[data-sk=read-only]")
        notice = text(b, "[data-sk=read-only]")
        assert "Administrative access required" in notice, notice
        b.call("waitFor", selector=f"{row(name)}")
        select_guest(b, name)
        fill_nic(b, "virtio", MAC_READONLY)
        b.call("click", selector="[data-sk=plan]")
        b.call("waitFor", selector="[data-sk=plan-result]")
        assert "Plan: attach at" in text(b, "[data-sk=plan-result]")
        controls = b.call("evaluate", expression="""() => ({
            attach: document.querySelector("[data-sk=attach]").disabled,
            help: document.querySelector("[data-sk=attach-help]").textContent,
            save: document.querySelector("[data-sk=save-policy]").disabled,
            spare: document.querySelector("[data-sk=spare-ports]").disabled,
            managed: document.querySelector("[data-sk=managed-switch]").disabled,
            detach: [...document.querySelectorAll("[data-sk=detach]")].map(d => d.getAttribute("aria-disabled")),
        })""")["value"]
        assert controls["attach"] and controls["save"] and controls["spare"] and controls["managed"], controls
        assert "administrative access" in controls["help"], controls
        assert controls["detach"] and all(d == "true" for d in controls["detach"]), controls
        b.call("evaluate", expression="() => window.scrollTo(0, 0)")
        screenshot(b, "page-1280-readonly.png", fullPage=False)

        # The same calls the page would make, on its own channel (superuser "try"): polkit says no.
        refused = b.call("evaluate", arg=[name, nic("virtio", MAC_READONLY)], expression="""async (args) => {
            const client = cockpit.dbus("org.slotkeeper.SlotKeeper1", {bus: "system", superuser: "try"});
            const M = "/org/slotkeeper/SlotKeeper1", I = "org.slotkeeper.SlotKeeper1.Manager";
            const out = {};
            const tries = {
                attach: ["AttachDevice", [args[0], args[1], {config: {t: "b", v: true}, live: {t: "b", v: true}}]],
                policy: ["SetPolicy", [args[0], {"spare-ports": {t: "u", v: 9}}, {}]],
                reconcile: ["Reconcile", [args[0], {}]],
            };
            for (const [key, [method, callArgs]] of Object.entries(tries)) {
                try {
                    await client.call(M, I, method, callArgs);
                    out[key] = "allowed";
                } catch (ex) {
                    out[key] = ex.name;
                }
            }
            return out;
        }""")["value"]
        assert refused == {k: "org.slotkeeper.SlotKeeper1.Error.NotAuthorized"
                           for k in ("attach", "policy", "reconcile")}, refused
    finally:
        b.close()
        ws.stop()
    time.sleep(2)  # anything the refused calls might have started would show by now
    after = (live_xml(dom), inactive_xml(dom))
    assert after[0] == before[0], "the running definition changed"
    assert after[1] == before[1], "the persistent definition changed"
