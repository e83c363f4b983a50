// What the page says about each domain and chooses for it (src/cockpit/js/domains.js), and how
// dbus.js turns cockpit's proxies and variants into the plain values it works on: the Domain
// properties as the service publishes them (docs/dbus-api.md) for guests whose definitions are
// the fixtures' (fixtures.mjs).

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { CallError, snapshot, unwrap } from "../../../src/cockpit/js/dbus.js";
import {
    chainText, detachScopes, diskTargets, eventColor, freeCounts, pickDomain, policyText, serviceText, spareText,
    stateColor,
} from "../../../src/cockpit/js/domains.js";
import { merge, rows } from "../../../src/cockpit/js/model.js";
import { slots, topology } from "./fixtures.mjs";

const ROOT = "/org/slotkeeper/SlotKeeper1/domain/";

/* A Domain proxy of cockpit.dbus for the domain of fixture @live (running) / @config: the
 * properties as cockpit-bridge hands them over (a{su} as a plain object). */
function proxy(live, config, props) {
    const c = topology(config);
    return {
        valid: true,
        Name: c.name, UUID: c.uuid, Id: live ? 7 : -1, State: live ? "running" : "shut-off", Arch: c.arch,
        Machine: c.machine, Persistent: true, Active: Boolean(live), Managed: true, SparePorts: 4,
        SparePortsWanted: 4, LegacyBridge: "lazy",
        FreeHotplugSlots: live ? topology(live).free_hotplug_slots : { pcie: 0, pci: 0 },
        FreeHotplugSlotsNextBoot: c.free_hotplug_slots,
        LegacyChain: "absent", RestartPending: Boolean(live),
        ...props,
    };
}

function domain(live, config, props) {
    const p = proxy(live, config, props);
    return snapshot(ROOT + "_" + p.UUID.replaceAll("-", "_"), p);
}

describe("Domain properties from cockpit's proxies", () => {
    it("a running guest whose next boot has a topped-up spare", () => {
        const d = domain("q35-live", "q35-live-reserved");
        assert.equal(d.path, ROOT + "_5c3b0a10_0000_4000_8000_000000000041");
        assert.equal(d.Name, "skfx-q35-live");
        assert.deepEqual(d.FreeHotplugSlots, { pcie: 3, pci: 0 });
        assert.deepEqual(d.FreeHotplugSlotsNextBoot, { pcie: 4, pci: 0 });
        assert.equal(d.Active, true);
        assert.equal(d.Id, 7);
    });

    it("derives what a service older than API 0.2 lacks", () => {
        const old = domain(null, "pc-default", { Active: undefined, SparePortsWanted: undefined, SparePorts: 2,
                                                 FreeHotplugSlots: undefined });
        assert.equal(old.Active, false); /* shut-off */
        assert.equal(old.SparePortsWanted, 2);
        assert.deepEqual(old.FreeHotplugSlots, {});
        assert.equal(domain("q35-live", "q35-live-inactive", { Active: undefined, State: "paused" }).Active, true);
    });

    it("unwraps variants, however deep", () => {
        /* an Event's a{sv} details, and options as cockpit returns them */
        assert.deepEqual(unwrap({ domain: { t: "s", v: "web1" }, uuid: { t: "s", v: "u" },
                                  counts: { t: "a{su}", v: { pcie: 3, pci: 0 } } }),
                         { domain: "web1", uuid: "u", counts: { pcie: 3, pci: 0 } });
        assert.deepEqual(unwrap([[{ index: { t: "u", v: 0 }, accepts: { t: "as", v: ["pcie-device"] } }]]),
                         [[{ index: 0, accepts: ["pcie-device"] }]]);
        /* a dictionary that merely has a key "t" stays a dictionary */
        assert.deepEqual(unwrap({ t: "x", v: 1, w: 2 }), { t: "x", v: 1, w: 2 });
        assert.equal(unwrap(null), null);
    });

    it("a failed call keeps the service's error name and message", () => {
        const ex = new CallError({ name: "org.slotkeeper.SlotKeeper1.Error.NoFreeSlot", message: "no free slot for X" });
        assert.equal(ex.shortName, "NoFreeSlot");
        assert.equal(ex.dbusName, "org.slotkeeper.SlotKeeper1.Error.NoFreeSlot");
        assert.equal(ex.message, "no free slot for X");
        const denied = new CallError({ problem: "access-denied", message: "Not permitted" });
        assert.equal(denied.problem, "access-denied");
        assert.equal(denied.shortName, "");
        assert.equal(new CallError({ name: "org.freedesktop.DBus.Error.AccessDenied", message: "m" }).shortName,
                     "org.freedesktop.DBus.Error.AccessDenied");
    });
});

describe("the table's words", () => {
    it("free hotplug slots by kind, none for a guest that does not run", () => {
        const d = domain("q35-live", "q35-live-reserved");
        assert.deepEqual(freeCounts(d.FreeHotplugSlots, d.Active),
                         { pcie: 3, pci: 0, none: false, pcieText: "3 PCIe", pciText: "0 PCI" });
        assert.deepEqual(freeCounts(d.FreeHotplugSlotsNextBoot),
                         { pcie: 4, pci: 0, none: false, pcieText: "4 PCIe", pciText: "0 PCI" });
        const off = domain(null, "pc-default");
        assert.equal(freeCounts(off.FreeHotplugSlots, off.Active), null);
        assert.equal(freeCounts(off.FreeHotplugSlotsNextBoot).pciText, "26 PCI");
        assert.equal(freeCounts({}).none, true);
        assert.equal(freeCounts({ pci: 2 }).pcieText, "0 PCIe");
    });

    it("spare ports: what is kept, the target when the cap keeps fewer, nothing when unmanaged", () => {
        assert.equal(spareText(domain(null, "pc-default")), "4");
        assert.equal(spareText(domain(null, "pc-default", { SparePorts: 2, SparePortsWanted: 6 })),
                     "2 (6 wanted, root-port cap)");
        assert.equal(spareText(domain(null, "pc-default", { Managed: false })), "—");
    });

    it("state colors, legacy chain, events, policy line, service line", () => {
        assert.equal(stateColor("running"), "green");
        assert.equal(stateColor("shut-off"), "grey");
        assert.equal(stateColor("pmsuspended"), "grey");
        assert.equal(chainText("next-boot"), "at next boot");
        assert.equal(chainText("absent"), "absent");
        assert.equal(chainText("present"), "present");
        assert.equal(chainText("something-new"), "something-new");
        assert.equal(eventColor("refused"), "orange");
        assert.equal(eventColor("whatever"), "grey");
        assert.equal(policyText(domain(null, "pc-default", { LegacyBridge: "eager" })),
                     "managed: keeps 4 spare ports, legacy chain eager");
        assert.equal(policyText(domain(null, "pc-default", { Managed: false })),
                     "not managed: slotkeeper does not change it on its own");
        assert.equal(serviceText(null, {}), "Service: not running");
        assert.equal(serviceText(undefined, { valid: false }), "Service: connecting…");
        assert.equal(serviceText(":1.5", { valid: true, Version: "0.3.0", Uri: "qemu:///system", Connected: true }),
                     "Service: slotkeeperd 0.3.0 on qemu:///system, connected");
        assert.equal(serviceText(":1.5", { valid: true, Version: "0.3.0", Uri: "qemu:///system", Connected: false }),
                     "Service: slotkeeperd 0.3.0 on qemu:///system, reconnecting");
    });
});

describe("which domain the page shows", () => {
    const a = { path: "/a", Name: "alpha", Managed: false, Active: true };
    const b = { path: "/b", Name: "beta", Managed: true, Active: false };
    const c = { path: "/c", Name: "gamma", Managed: true, Active: true };
    const list = [a, b, c];

    it("the one the URL names, else the one selected, else the first managed running one", () => {
        assert.equal(pickDomain(list, "beta", "/a"), b);
        assert.equal(pickDomain(list, "nosuch", "/a"), a);
        assert.equal(pickDomain(list, undefined, null), c);
        assert.equal(pickDomain(list, undefined, "/gone"), c);
        assert.equal(pickDomain([a, b], undefined, null), a);
        assert.equal(pickDomain([], "beta", "/b"), null);
    });
});

describe("the selected domain's devices", () => {
    it("disk targets in use, from both definitions", () => {
        assert.deepEqual(diskTargets({ live: null, config: slots("pc-default") }), ["vda"]);
        assert.deepEqual(diskTargets({ live: slots("q35-live"), config: slots("q35-live-inactive") }), []);
        assert.deepEqual(diskTargets(null), []);
    });

    it("where a device can be detached from", () => {
        const running = domain("q35-live", "q35-live-inactive");
        const list = rows(merge(slots("q35-live"), slots("q35-live-inactive")));
        const at = address => list.find(r => r.address === address);
        const values = (d, item) => detachScopes(d, item).map(s => s.value);
        /* in both definitions: both, or either */
        const [xhci] = at("0000:00:01.0").slot;
        assert.deepEqual(detachScopes(running, xhci), [
            { value: "both", label: "Running guest and next boot" },
            { value: "live", label: "Running guest only" },
            { value: "config", label: "Next boot only" },
        ]);
        /* attached --config only: only the next boot has it; --live only: only the running guest */
        assert.deepEqual(values(running, at("0000:00:01.2").slot[0]), ["config"]);
        assert.deepEqual(values(running, at("0000:00:01.3").slot[0]), ["live"]);
        /* integrated on pcie-root: cannot be unplugged from the running guest */
        assert.deepEqual(values(running, at("0000:00:1f.2")), ["config"]);
        /* a transient guest has no next boot */
        assert.deepEqual(values({ ...running, Persistent: false }, at("0000:00:01.3").slot[0]), ["live"]);
        assert.deepEqual(values({ ...running, Persistent: false }, at("0000:00:1f.2")), ["live"]);
        /* i440fx: pci-root takes hotplug (ACPI), so its devices unplug from the running guest */
        const pc = { ...domain(null, "pc-default"), Active: true };
        const pcRows = rows(merge(slots("pc-default"), slots("pc-default")));
        const pcNic = pcRows.find(r => r.address === "0000:00:03.0");
        assert.equal(pcNic.title, "slot 3");
        assert.deepEqual(values(pc, pcNic), ["both", "live", "config"]);
        /* a shut-off guest: its definition only */
        const off = domain(null, "q35-legacy-chain");
        const nic = rows(merge(null, slots("q35-legacy-chain"))).find(r => r.address === "0000:02:01.0");
        assert.deepEqual(detachScopes(off, nic), [{ value: "config", label: "Next boot only" }]);
    });
});
