// The forms' logic (src/cockpit/js/attach.js, policy.js, errors.js): the device XML and options
// the attach form sends, what it refuses to send, the scopes a guest allows, the words of the
// service's plans (fixtures.mjs: real Plan answers), the policy form's SetPolicy options, and
// the titles of the service's errors.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { SCOPES, allowedScopes, deviceRequest, freeTarget, planText } from "../../../src/cockpit/js/attach.js";
import { errorTitle } from "../../../src/cockpit/js/errors.js";
import { policyChanges, policyValues, spareHelpText, spareValid } from "../../../src/cockpit/js/policy.js";
import { plan } from "./fixtures.mjs";

/* The attach form's inputs as they are when the page opens, changed by @over. */
function form(over) {
    return {
        kind: "nic",
        nic: { model: "virtio", source: "user", name: "default", mac: "" },
        disk: { path: "", format: "raw", target: "vdb" },
        xml: "",
        scope: "both",
        hotplugRequire: true,
        ...over,
    };
}

const RUNNING = { Active: true, Persistent: true, Managed: true };

describe("attach: the request", () => {
    it("a virtio NIC on user networking, running guest and next boot", () => {
        assert.deepEqual(deviceRequest(form()), {
            xml: "<interface type='user'><model type='virtio'/></interface>",
            options: { live: true, config: true, "hotplug-require": "yes" },
        });
    });

    it("a NIC on a network or bridge, with a MAC (lower-cased), values escaped", () => {
        const r = deviceRequest(form({ nic: { model: "rtl8139", source: "bridge", name: "br'0<", mac: " 52:54:00:AB:cd:01 " } }));
        assert.equal(r.xml, "<interface type='bridge'><mac address='52:54:00:ab:cd:01'/>" +
                     "<source bridge='br&apos;0&lt;'/><model type='rtl8139'/></interface>");
        assert.equal(deviceRequest(form({ nic: { model: "e1000", source: "network", name: "default", mac: "" } })).xml,
                     "<interface type='network'><source network='default'/><model type='e1000'/></interface>");
    });

    it("refuses a NIC without a network name or with a bad MAC", () => {
        assert.deepEqual(deviceRequest(form({ nic: { model: "virtio", source: "network", name: " ", mac: "" } })),
                         { error: "Name the virtual network or bridge." });
        assert.deepEqual(deviceRequest(form({ nic: { model: "virtio", source: "user", name: "", mac: "52:54:00:12:34" } })),
                         { error: "The MAC address must look like 52:54:00:12:34:56." });
    });

    it("a virtio disk from an image path", () => {
        const r = deviceRequest(form({ kind: "disk", disk: { path: " /var/lib/libvirt/images/d.qcow2", format: "qcow2", target: "vdc" } }));
        assert.equal(r.xml, "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>" +
                     "<source file='/var/lib/libvirt/images/d.qcow2'/><target dev='vdc' bus='virtio'/></disk>");
        assert.deepEqual(deviceRequest(form({ kind: "disk", disk: { path: "d.img", format: "raw", target: "vdc" } })),
                         { error: "Give the absolute path of an existing disk image on the host." });
        assert.deepEqual(deviceRequest(form({ kind: "disk", disk: { path: "/d.img", format: "raw", target: "sda" } })),
                         { error: "The target must be a virtio disk name such as vdb." });
    });

    it("device XML as given, trimmed; none is an error", () => {
        const xml = "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>";
        assert.equal(deviceRequest(form({ kind: "xml", xml: `\n ${xml}\n` })).xml, xml);
        assert.match(deviceRequest(form({ kind: "xml", xml: "  " })).error, /^Paste the device XML/);
    });

    it("the scope's options; the hotplug requirement only where the next boot changes", () => {
        assert.deepEqual(deviceRequest(form({ scope: "live" })).options, { live: true });
        assert.deepEqual(deviceRequest(form({ scope: "config", hotplugRequire: false })).options,
                         { config: true, "hotplug-require": "no" });
        assert.deepEqual(SCOPES.both, { live: true, config: true });
    });

    it("the scopes a guest allows, the default first", () => {
        assert.deepEqual(allowedScopes(RUNNING), ["both", "live", "config"]);
        assert.deepEqual(allowedScopes({ Active: true, Persistent: false }), ["live"]);
        assert.deepEqual(allowedScopes({ Active: false, Persistent: true }), ["config"]);
        assert.deepEqual(allowedScopes(null), ["config"]);
    });

    it("the first free virtio disk target", () => {
        assert.equal(freeTarget([]), "vda");
        assert.equal(freeTarget(["vda", "vdb", "sda"]), "vdc");
        assert.equal(freeTarget(["vdb"]), "vda");
        assert.equal(freeTarget(Array.from({ length: 26 }, (_, i) => "vd" + String.fromCharCode(97 + i))), "");
    });
});

describe("attach: the plan in words", () => {
    it("a virtio NIC: where, and that both definitions get the same address", () => {
        const p = plan("plan-virtio-both");
        assert.equal(p.ok, true);
        assert.deepEqual(planText(p, { live: true, config: true }, RUNNING), {
            title: "Plan: attach at 0000:05:00.0",
            effect: "The running guest gets it now. The next boot has it at the same address.",
            controllersIntro: null,
            controllers: [],
        });
        assert.equal(planText(p, { live: true }, RUNNING).effect, "The running guest gets it now.");
        assert.equal(planText({ ...p, effect: "next-boot" }, { config: true }, RUNNING).effect,
                     "It is added to the next-boot definition.");
    });

    it("an rtl8139 on the running q35 guest: refused, with the chain the next boot needs", () => {
        const p = plan("plan-rtl8139-both");
        assert.equal(p.ok, false);
        const words = planText(p, { live: true, config: true }, RUNNING);
        assert.equal(words.title, "Plan: refused (No free slot)");
        assert.equal(words.effect, null);
        assert.equal(words.controllersIntro,
                     "Attaching anyway makes slotkeeper add these controllers to the next-boot definition, usable after a cold boot:");
        assert.deepEqual(words.controllers, [
            "pcie-root-port (bus 7) at 0000:00:01.6: port for the pcie-to-pci-bridge",
            "pcie-to-pci-bridge (bus 8) at 0000:07:00.0: hotplug slots for conventional PCI devices",
        ]);
        assert.match(planText(p, { live: true, config: true }, { ...RUNNING, Managed: false }).controllersIntro,
                     /^The next-boot definition would need these controllers \(slotkeeper adds them on its own only to managed guests\)/);
        assert.equal(planText({ ...p, error: "" }, {}, RUNNING).title, "Plan: refused (refused)");
    });
});

describe("errors in the service's words", () => {
    it("a title for each error of the API, Cockpit's access denial, a fallback", () => {
        assert.equal(errorTitle({ shortName: "NoFreeSlot" }), "No free slot");
        assert.equal(errorTitle({ shortName: "NotAuthorized" }), "Not authorized");
        assert.equal(errorTitle({ shortName: "Unavailable" }), "libvirt is not reachable");
        assert.equal(errorTitle({ shortName: "", problem: "access-denied" }), "Not authorized");
        assert.equal(errorTitle({ shortName: "SomethingNew" }), "Failed");
        assert.equal(errorTitle({ shortName: "SomethingNew" }, "refused"), "refused");
    });
});

describe("policy: what SetPolicy gets", () => {
    const d = { SparePorts: 4, SparePortsWanted: 4, LegacyBridge: "lazy", Managed: true };

    it("the form's values of a domain", () => {
        assert.deepEqual(policyValues(d), { spare: "4", legacy: "lazy", managed: true });
    });

    it("only what changed", () => {
        const current = policyValues(d);
        assert.deepEqual(policyChanges(current, current), {});
        assert.deepEqual(policyChanges({ ...current, spare: "6" }, current), { "spare-ports": 6 });
        assert.deepEqual(policyChanges({ spare: "4", legacy: "never", managed: false }, current),
                         { "legacy-bridge": "never", managed: false });
    });

    it("spare ports: a whole number from 0 to 64", () => {
        for (const ok of ["0", "4", "64"])
            assert.equal(spareValid(ok), true, ok);
        for (const bad of ["", "-1", "65", "2.5", "four"])
            assert.equal(spareValid(bad), false, bad);
    });

    it("the help says when the root-port cap keeps fewer", () => {
        assert.equal(spareHelpText(d),
                     "Empty root ports to keep in the next-boot definition. The root-port cap (14 on x86_64) still applies.");
        assert.equal(spareHelpText({ ...d, SparePorts: 2, SparePortsWanted: 6 }),
                     "Empty root ports to keep in the next-boot definition. It keeps 2: the root-port cap leaves no room for more.");
    });
});
