// The picture itself (src/cockpit/js/tree.js): the SVG drawn from model.js's rows, on a small
// stand-in document (fakedom.mjs): one group per row at its place, each slot box with its kind
// and state, the texts, and Detach buttons only where a device can be detached.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { layout, merge } from "../../../src/cockpit/js/model.js";
import { legend, render } from "../../../src/cockpit/js/tree.js";
import { installDocument, removeDocument } from "./fakedom.mjs";
import { slots } from "./fixtures.mjs";
import { installDOMParser } from "./xmldom.mjs";

before(() => {
    installDocument();
    installDOMParser();
});
after(() => {
    removeDocument();
    delete globalThis.DOMParser;
});

const attr = name => el => el.getAttribute(name);
const withAttr = (name, value) => el => el.getAttribute(name) === value;
const classed = cls => el => (el.getAttribute("class") || "").split(" ").includes(cls);

function draw(live, config, width, opts) {
    const tree = merge(live && slots(live), slots(config));
    return { svg: render(tree, width, { label: "PCI tree of test", ...opts }), plan: layout(tree, width) };
}

describe("render: the SVG of a running guest's tree", () => {
    it("one group per row, at the layout's place, marked with its kind and state", () => {
        const { svg, plan } = draw("q35-live", "q35-live-reserved", 1000, {});
        assert.equal(svg.tagName, "svg");
        assert.equal(svg.getAttribute("height"), String(plan.height));
        assert.equal(svg.getAttribute("aria-label"), "PCI tree of test");
        const groups = svg.children.filter(classed("sk-tree__row"));
        assert.deepEqual(groups.map(attr("data-kind")), plan.rows.map(r => r.kind));
        assert.deepEqual(groups.map(attr("transform")), plan.rows.map(r => `translate(0 ${r.y})`));
        assert.deepEqual(groups.map(attr("data-state")).slice(6, 8), ["both", "next-boot"]);
        const lines = svg.children.find(classed("sk-tree__lines"));
        assert.deepEqual(lines.children.map(attr("d")), plan.connectors.map(c => c.d));
    });

    it("slot boxes: free, free after a cold boot, next-boot and live-only devices", () => {
        const { svg } = draw("q35-live", "q35-live-reserved", 1000, {});
        const box = address => svg.findAll(withAttr("data-address", address)).find(el => el.getAttribute("data-kind").startsWith("slot-"));
        assert.deepEqual(["0000:05:00.0", "0000:07:00.0", "0000:03:00.0", "0000:04:00.0"].map(a => {
            const b = box(a);
            return [b.getAttribute("data-kind"), b.getAttribute("data-state"),
                    b.findAll(classed("sk-slot__text"))[0].ownText];
        }), [
            ["slot-free", "both", "free hotplug slot"],
            ["slot-free", "next-boot", "free after a cold boot"],
            ["slot-device", "next-boot", "interface virtio 52:54:00:5c:04:01 (PCI Express)"],
            ["slot-device", "live-only", "interface virtio 52:54:00:5c:04:02 (PCI Express)"],
        ]);
        /* badges: the devices in one definition only (ports 3 and 4), the port only the next
         * boot has (7) */
        assert.deepEqual(svg.findAll(withAttr("data-sk", "badge")).map(b => b.textContent),
                         ["next boot", "until shutdown", "next boot"]);
        /* address chips, without the PCI domain */
        const chips = svg.findAll(classed("sk-tree__chip-text")).map(t => t.textContent);
        assert.deepEqual(chips.slice(0, 3), ["00:01.0", "00:01.1", "00:01.2"]);
    });

    it("Detach only on NICs, disks and the like, enabled only with administrative access", () => {
        const detached = [];
        const { svg } = draw("q35-live", "q35-live-inactive", 1000, { onDetach: item => detached.push(item), canDetach: true });
        const buttons = svg.findAll(withAttr("data-sk", "detach"));
        assert.deepEqual(buttons.map(b => b.getAttribute("aria-label")), [
            "Detach interface virtio 52:54:00:5c:04:01 (PCI Express) at 0000:03:00.0",
            "Detach interface virtio 52:54:00:5c:04:02 (PCI Express) at 0000:04:00.0",
        ]);
        buttons[1].dispatch("keydown", { key: "Enter" });
        buttons[0].dispatch("click", {});
        assert.deepEqual(detached.map(i => i.address), ["0000:04:00.0", "0000:03:00.0"]);

        const readOnly = draw("q35-live", "q35-live-inactive", 1000, { onDetach: () => assert.fail("detached"), canDetach: false }).svg;
        const disabled = readOnly.findAll(withAttr("data-sk", "detach"));
        assert.deepEqual(disabled.map(attr("aria-disabled")), ["true", "true"]);
        disabled[0].dispatch("click", {});
        assert.equal(disabled[0].findAll(el => el.tagName === "title")[0].textContent, "Detaching needs administrative access");
        /* without onDetach (no detach at all) there are no buttons */
        assert.equal(draw("q35-live", "q35-live-inactive", 1000, {}).svg.findAll(withAttr("data-sk", "detach")).length, 0);
    });

    it("narrow: two lines per row, texts cut to the room, the whole text in the tooltip", () => {
        const { svg, plan } = draw(null, "q35-legacy-chain", 390, { onDetach: () => {}, canDetach: true });
        assert.equal(plan.narrow, true);
        assert.equal(svg.getAttribute("height"), String(plan.rows.length * 58 + 8));
        const nic = svg.findAll(withAttr("data-address", "0000:02:01.0")).find(withAttr("data-kind", "slot-device"));
        const text = nic.findAll(classed("sk-slot__text"))[0];
        assert.equal(text.findAll(el => el.tagName === "title")[0].textContent,
                     "interface rtl8139 52:54:00:5c:00:41 (conventional PCI)");
        assert.ok(text.ownText.length < "interface rtl8139 52:54:00:5c:00:41 (conventional PCI)".length, text.ownText);
        /* the bridge's free slots: summed up on two lines */
        const free = svg.findAll(withAttr("data-kind", "free"))[0];
        assert.deepEqual(free.findAll(classed("sk-slot__text")).map(t => t.ownText), ["30 free hotplug slots", "slots 2–31"]);
    });

    it("the legend names every mark", () => {
        const items = legend().findAll(classed("sk-legend__item")).map(li => li.ownText);
        assert.deepEqual(items, ["device", "free hotplug slot", "hotplug off", "next boot only (after a cold boot)",
            "running guest only (gone at shutdown)"]);
    });
});
