// The PCI tree as the page lays it out (src/cockpit/js/model.js), from GetSlots answers of
// definitions the real libvirt made (fixtures.mjs): which bus is where in the picture, what is
// marked free, hotplug off, next boot only or running guest only, and the words on it.

import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";

import {
    BOTH, LIVE_ONLY, NEXT_BOOT, busAddress, detachable, deviceIdentity, deviceText, layout, merge, ranges,
    rows, shortAddress, slotText, stateWord, truncate,
} from "../../../src/cockpit/js/model.js";
import { slots } from "./fixtures.mjs";
import { installDOMParser } from "./xmldom.mjs";

beforeEach(installDOMParser);
afterEach(() => { delete globalThis.DOMParser });

/* One line per row: what the picture shows, in order. */
function outline(list) {
    return list.map(r => `${"  ".repeat(r.depth)}${r.kind} ${r.state} ${r.address || "-"} ${r.title}`);
}

/* The slot items drawn inside a port's row: [kind, state, address]. */
function inner(row) {
    return row.slot === null ? null : row.slot.map(i => [i.kind, i.state, i.address]);
}

function byAddress(list, address) {
    const row = list.find(r => r.address === address);
    assert.ok(row, `no row at ${address}`);
    return row;
}

describe("merge: the running and the persistent definition as one tree", () => {
    it("keeps every bus once, rooted at pcie-root, with the free slots of each definition", () => {
        const tree = merge(slots("q35-live"), slots("q35-live-inactive"));
        assert.equal(tree.root.index, 0);
        assert.equal(tree.root.model, "pcie-root");
        assert.deepEqual([...tree.buses.keys()].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6]);
        for (const bus of tree.buses.values())
            assert.equal(bus.state, BOTH, `bus ${bus.index}`);
        /* the NIC attached --config only sits on bus 3, the one attached --live only on bus 4 */
        assert.deepEqual(tree.buses.get(3).liveFree, [0]);
        assert.deepEqual(tree.buses.get(3).configFree, []);
        assert.deepEqual(tree.buses.get(4).liveFree, []);
        assert.deepEqual(tree.buses.get(4).configFree, [0]);
        assert.deepEqual(tree.buses.get(0).liveFree, Array.from({ length: 29 }, (_, i) => i + 2));
    });

    it("marks what only one definition has", () => {
        const tree = merge(slots("q35-live"), slots("q35-live-inactive"));
        const [configNic] = tree.buses.get(3).slots.get(0);
        assert.equal(configNic.state, NEXT_BOOT);
        assert.ok(configNic.configOcc && !configNic.liveOcc);
        assert.match(configNic.occ.description, /52:54:00:5c:04:01/);
        const [liveNic] = tree.buses.get(4).slots.get(0);
        assert.equal(liveNic.state, LIVE_ONLY);
        assert.ok(liveNic.liveOcc && !liveNic.configOcc);
        assert.match(liveNic.occ.description, /52:54:00:5c:04:02/);
        /* the balloon is in both: one entry that knows both occupants */
        const [balloon] = tree.buses.get(2).slots.get(0);
        assert.equal(balloon.state, BOTH);
        assert.ok(balloon.liveOcc && balloon.configOcc);
    });

    it("takes a controller only the next boot has as next-boot, with its own free slots", () => {
        const tree = merge(slots("q35-live"), slots("q35-live-reserved"));
        const port7 = tree.buses.get(7);
        assert.equal(port7.state, NEXT_BOOT);
        assert.deepEqual(port7.liveFree, []);
        assert.deepEqual(port7.configFree, [0]);
        const onRoot = tree.buses.get(0).slots.get(1);
        assert.deepEqual(onRoot.map(e => [e.occ.function, e.occ.controller, e.state]),
                         [[0, 1, BOTH], [1, 2, BOTH], [2, 3, BOTH], [3, 4, BOTH], [4, 5, BOTH], [5, 6, BOTH],
                          [6, 7, NEXT_BOOT]]);
    });

    it("shows a shut-off guest's persistent definition as it is", () => {
        const tree = merge(null, slots("q35-hotplug-off"));
        for (const bus of tree.buses.values()) {
            assert.equal(bus.state, BOTH);
            assert.deepEqual(bus.liveFree, bus.free_slots);
            assert.deepEqual(bus.configFree, bus.free_slots);
            for (const entries of bus.slots.values())
                assert.ok(entries.every(e => e.state === BOTH && e.configOcc));
        }
    });

    it("gives no root for no buses", () => {
        assert.equal(merge(null, []).root, null);
        assert.deepEqual(rows(merge(null, [])), []);
    });
});

describe("rows: what the picture shows, in order", () => {
    it("a running guest with a next-boot spare, a config-only and a live-only NIC", () => {
        const list = rows(merge(slots("q35-live"), slots("q35-live-reserved")));
        assert.deepEqual(outline(list), [
            "root both - pcie-root: root complex (bus 0)",
            "  controller both 0000:00:01.0 pcie-root-port (bus 1)",
            "  controller both 0000:00:01.1 pcie-root-port (bus 2)",
            "  controller both 0000:00:01.2 pcie-root-port (bus 3)",
            "  controller both 0000:00:01.3 pcie-root-port (bus 4)",
            "  controller both 0000:00:01.4 pcie-root-port (bus 5)",
            "  controller both 0000:00:01.5 pcie-root-port (bus 6)",
            "  controller next-boot 0000:00:01.6 pcie-root-port (bus 7)",
            "  chipset both 0000:00:1f.0 chipset",
            "  device both 0000:00:1f.2 integrated",
            "  root-free both 0000:00:02.0 29 empty slots",
        ]);
        /* each port's one slot is drawn in the port's row */
        assert.deepEqual(list.slice(1, 8).map(inner), [
            [["device", BOTH, "0000:01:00.0"]],
            [["device", BOTH, "0000:02:00.0"]],
            [["device", NEXT_BOOT, "0000:03:00.0"]],
            [["device", LIVE_ONLY, "0000:04:00.0"]],
            [["free", BOTH, "0000:05:00.0"]],
            [["free", BOTH, "0000:06:00.0"]],
            [["free", NEXT_BOOT, "0000:07:00.0"]],
        ]);
        assert.deepEqual(list.slice(1).map(r => r.parent), Array(10).fill(list[0]));
    });

    it("names devices by what identifies them, and only detachable elements get Detach", () => {
        const list = rows(merge(slots("q35-live"), slots("q35-live-inactive")));
        const [xhci] = byAddress(list, "0000:00:01.0").slot;
        assert.equal(xhci.text, "controller usb qemu-xhci index 0 (PCI Express)");
        assert.equal(xhci.detachable, false);
        const [balloon] = byAddress(list, "0000:00:01.1").slot;
        assert.equal(balloon.detachable, false);
        const [configNic] = byAddress(list, "0000:00:01.2").slot;
        assert.equal(configNic.identity, "52:54:00:5c:04:01");
        assert.equal(configNic.detachable, true);
        assert.match(configNic.xml, /^<interface type="user">/);
        const [liveNic] = byAddress(list, "0000:00:01.3").slot;
        assert.equal(liveNic.identity, "52:54:00:5c:04:02");
        assert.equal(liveNic.entry.state, LIVE_ONLY);
        const sata = byAddress(list, "0000:00:1f.2");
        assert.equal(sata.integrated, true);
        assert.equal(sata.detachable, false);
        assert.equal(byAddress(list, "0000:00:1f.0").text, "ICH9 LPC/ISA bridge, ICH9 SMBus");
    });

    it("sums up the root complex's empty slots as not hotpluggable", () => {
        const list = rows(merge(slots("q35-live"), slots("q35-live-inactive")));
        const free = list[list.length - 1];
        assert.equal(free.kind, "root-free");
        assert.equal(free.count, 29);
        assert.equal(free.text, "slots 2–30, for integrated devices only: not hotpluggable");
    });

    it("marks ports with hotplug off apart from free hotplug slots", () => {
        const list = rows(merge(null, slots("q35-hotplug-off")));
        assert.deepEqual(list.slice(1, 5).map(r => [r.address, inner(r)]), [
            ["0000:00:01.0", [["device", BOTH, "0000:01:00.0"]]], /* hotplug='off' still takes a cold device */
            ["0000:00:01.1", [["hotplug-off", BOTH, "0000:02:00.0"]]],
            ["0000:00:01.2", [["free", BOTH, "0000:03:00.0"]]],
            ["0000:00:01.3", [["free", BOTH, "0000:04:00.0"]]],
        ]);
    });

    it("nests a switch under its root port, and its downstream ports under it", () => {
        const list = rows(merge(null, slots("q35-switch")));
        assert.deepEqual(outline(list).slice(0, 8), [
            "root both - pcie-root: root complex (bus 0)",
            "  controller both 0000:00:01.0 pcie-root-port (bus 1)",
            "    controller both 0000:01:00.0 pcie-switch-upstream-port (bus 2)",
            "      controller both 0000:02:00.0 pcie-switch-downstream-port (bus 3)",
            "      controller both 0000:02:01.0 pcie-switch-downstream-port (bus 4)",
            "      controller both 0000:02:02.0 pcie-switch-downstream-port (bus 5)",
            "      controller both 0000:02:03.0 pcie-switch-downstream-port (bus 6)",
            "      hotplug-off both 0000:02:04.0 28 empty slots",
        ]);
        /* a port that holds a controller has no slot box of its own: its child is drawn below */
        assert.equal(list[1].slot, null);
        assert.equal(list[2].parent, list[1]);
        assert.equal(list[3].parent, list[2]);
        assert.deepEqual(list.slice(3, 7).map(r => inner(r)[0][0]), ["device", "free", "hotplug-off", "free"]);
        assert.equal(list[7].text, "slots 4–31, hotplug off");
    });

    it("lists the devices of a pcie-to-pci-bridge slot by slot, and its free hotplug slots", () => {
        const list = rows(merge(null, slots("q35-legacy-chain")));
        assert.deepEqual(outline(list).slice(0, 5), [
            "root both - pcie-root: root complex (bus 0)",
            "  controller both 0000:00:01.0 pcie-root-port (bus 1)",
            "    controller both 0000:01:00.0 pcie-to-pci-bridge (bus 2)",
            "      device both 0000:02:01.0 slot 1",
            "      free both 0000:02:02.0 30 free hotplug slots",
        ]);
        const nic = list[3];
        assert.equal(nic.integrated, false);
        assert.equal(nic.identity, "52:54:00:5c:00:41");
        assert.equal(nic.detachable, true);
        assert.equal(list[4].text, "slots 2–31");
        assert.equal(list[4].count, 30);
    });

    it("sums up the free slots of an i440fx pci-root, which takes hotplug", () => {
        const list = rows(merge(null, slots("pc-default")));
        const free = list[list.length - 1];
        assert.equal(free.kind, "free");
        assert.equal(free.title, "26 free hotplug slots");
        assert.equal(free.text, "slots 6–31");
        assert.equal(byAddress(list, "0000:00:04.0").identity, "vda /var/lib/libvirt/images/skfx-pc.qcow2");
        assert.equal(byAddress(list, "0000:00:01.0").text, "PIIX3 ISA bridge, PIIX3 IDE controller, PIIX4 ACPI/SMBus");
    });

    it("says 1 free hotplug slot in the singular", () => {
        const buses = slots("q35-legacy-chain").map(b => b.index === 2 ? { ...b, free_slots: [31] } : b);
        const free = rows(merge(null, buses)).find(r => r.kind === "free" && r.count);
        assert.equal(free.title, "1 free hotplug slot");
        assert.equal(free.text, "slots 31");
    });
});

describe("layout: rows placed for a width", () => {
    it("one line per row when wide, indented by depth", () => {
        const tree = merge(null, slots("q35-switch"));
        const { rows: list, narrow, rowH, height, slotX, connectors } = layout(tree, 1000);
        assert.equal(narrow, false);
        assert.equal(rowH, 38);
        assert.equal(height, list.length * 38 + 8);
        assert.deepEqual(list.slice(0, 4).map(r => [r.x, r.y]), [[8, 4], [30, 42], [52, 80], [74, 118]]);
        /* deepest row at depth 3: 8 + 3*22 + 64 + 8 + 210 */
        assert.equal(slotX, 356);
        assert.equal(connectors.length, list.length - 1);
        assert.deepEqual(connectors.slice(0, 2).map(c => c.d), ["M18 34V61H30", "M40 72V99H52"]);
    });

    it("slot boxes at most half the width in, two lines per row under 620 px", () => {
        const tree = merge(slots("q35-live"), slots("q35-live-inactive"));
        /* deepest row at depth 1: 8 + 22 + 64 + 8 + 210, unless that is past half the width */
        assert.equal(layout(tree, 700).slotX, 312);
        assert.equal(layout(tree, 620).slotX, 310);
        assert.equal(layout(tree, 620).narrow, false);
        assert.equal(layout(tree, 619).narrow, true);
        const { rows: list, narrow, rowH, connectors } = layout(tree, 390);
        assert.equal(narrow, true);
        assert.equal(rowH, 58);
        assert.deepEqual(list.slice(0, 3).map(r => [r.x, r.y]), [[8, 4], [30, 62], [30, 120]]);
        assert.equal(connectors[0].d, "M18 34V77H30");
    });
});

describe("the words on the picture", () => {
    it("slot boxes", () => {
        const list = rows(merge(slots("q35-live"), slots("q35-live-reserved")));
        const texts = list.slice(1, 8).map(r => slotText(r.slot[0]));
        assert.deepEqual(texts, [
            "controller usb qemu-xhci index 0 (PCI Express)",
            "memballoon virtio (PCI Express)",
            "interface virtio 52:54:00:5c:04:01 (PCI Express)",
            "interface virtio 52:54:00:5c:04:02 (PCI Express)",
            "free hotplug slot",
            "free hotplug slot",
            "free after a cold boot",
        ]);
        assert.equal(slotText({ ...list[10], summary: true }),
                     "29 empty slots (slots 2–30, for integrated devices only: not hotpluggable)");
        const off = rows(merge(null, slots("q35-hotplug-off")))[2].slot[0];
        assert.equal(slotText(off), "empty, hotplug off");
    });

    it("a device's identity only when its description lacks it", () => {
        const disk = rows(merge(null, slots("pc-default"))).find(r => r.address === "0000:00:04.0");
        assert.equal(deviceText(disk), "disk virtio vda (conventional PCI) · vda /var/lib/libvirt/images/skfx-pc.qcow2");
        assert.equal(deviceText({ text: "interface virtio 52:54:00:5c:04:01 (PCI Express)", identity: "52:54:00:5c:04:01" }),
                     "interface virtio 52:54:00:5c:04:01 (PCI Express)");
        assert.equal(deviceText({ text: "memballoon virtio (PCI Express)", identity: "" }), "memballoon virtio (PCI Express)");
    });

    it("state badges", () => {
        assert.equal(stateWord(NEXT_BOOT), "next boot");
        assert.equal(stateWord(LIVE_ONLY), "until shutdown");
        assert.equal(stateWord(BOTH), null);
    });

    it("addresses", () => {
        assert.equal(busAddress(0, 31, 3), "0000:00:1f.3");
        assert.equal(busAddress(16, 0, 0), "0000:10:00.0");
        assert.equal(shortAddress("0000:07:00.0"), "07:00.0");
        assert.equal(shortAddress(""), "");
    });

    it("slot ranges", () => {
        assert.equal(ranges([8, 2, 3, 4, 6, 7, 31]), "2–4, 6–8, 31");
        assert.equal(ranges([5]), "5");
        assert.equal(ranges([]), "");
    });

    it("truncation drops the parentheses, then the element's name, then cuts", () => {
        const text = "interface virtio 52:54:00:5c:04:01 (PCI Express)";
        assert.equal(truncate(text, 1000), text);
        assert.equal(truncate(text, 34 * 7), "interface virtio 52:54:00:5c:04:01");
        assert.equal(truncate(text, 24 * 7), "virtio 52:54:00:5c:04:01");
        assert.equal(truncate(text, 10 * 7), "virtio 52…");
        assert.equal(truncate(text, 0), "vi…");
    });
});

describe("device identity from the element XML", () => {
    it("a NIC's MAC, a disk's target and source, a host device's address", () => {
        assert.equal(deviceIdentity("<interface type='user'><mac address='52:54:00:12:34:56'/><model type='virtio'/></interface>"),
                     "52:54:00:12:34:56");
        assert.equal(deviceIdentity("<disk type='block' device='disk'><source dev='/dev/vg/data'/><target dev='vdc' bus='virtio'/></disk>"),
                     "vdc /dev/vg/data");
        assert.equal(deviceIdentity("<disk type='network' device='disk'><source protocol='rbd' name='pool/img'/><target dev='vdd'/></disk>"),
                     "vdd pool/img");
        assert.equal(deviceIdentity("<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x03' slot='0x00' function='0x1'/></source><address type='pci' domain='0x0000' bus='0x06' slot='0x00' function='0x0'/></hostdev>"),
                     "host 03:00:1");
    });

    it("nothing for other elements, no XML, malformed XML, or no DOMParser", () => {
        assert.equal(deviceIdentity("<memballoon model='virtio'/>"), "");
        assert.equal(deviceIdentity(""), "");
        assert.equal(deviceIdentity(undefined), "");
        assert.equal(deviceIdentity("<interface><mac address='x'/>"), "");
        delete globalThis.DOMParser;
        assert.equal(deviceIdentity("<interface type='user'><mac address='52:54:00:12:34:56'/></interface>"), "");
    });

    it("detachable: elements libvirt detaches one by one, given with their XML", () => {
        const occ = (element, xml) => ({ element, xml });
        assert.equal(detachable(occ("interface", "<interface/>")), true);
        assert.equal(detachable(occ("disk", "<disk/>")), true);
        assert.equal(detachable(occ("hostdev", "<hostdev/>")), true);
        assert.equal(detachable(occ("interface", undefined)), false);
        assert.equal(detachable(occ("memballoon", "<memballoon/>")), false);
        assert.equal(detachable(occ("controller", "<controller/>")), false);
        assert.equal(detachable(null), false);
    });
});

describe("i18n without cockpit: what the unit tests and cockpit.format agree on", () => {
    it("$N is the Nth argument; 0 stays, a missing one is empty", async () => {
        const { _, format, ngettext } = await import("../../../src/cockpit/js/i18n.js");
        assert.equal(format("$0 ($1 wanted, root-port cap)", 2, 6), "2 (6 wanted, root-port cap)");
        assert.equal(format("$0 PCIe", 0), "0 PCIe");
        assert.equal(format("at $0 of $1", "0000:05:00.0"), "at 0000:05:00.0 of ");
        assert.equal(format("$1$0", "a", "b"), "ba");
        assert.equal(_("Hotplug slots"), "Hotplug slots");
        assert.equal(ngettext("$0 free hotplug slot", "$0 free hotplug slots", 1), "$0 free hotplug slot");
        assert.equal(ngettext("$0 free hotplug slot", "$0 free hotplug slots", 0), "$0 free hotplug slots");
    });
});
