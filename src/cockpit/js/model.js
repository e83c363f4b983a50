/* The PCI tree of a domain as the page lays it out, from what GetSlots returns for the running
 * definition and for the persistent one, without drawing anything: merge() turns the two bus
 * lists into one tree, rows() lists what the picture shows in order (root complex, ports and
 * bridges, devices, empty hotplug-capable slots, hotplug off, what only the next boot or only the
 * running guest has), layout() places the rows for a width, and the *Text() functions give the
 * words. tree.js draws the result; the unit tests (tests/cockpit/unit) check it under node, so
 * this module needs neither cockpit nor the document. */

import { _, format, ngettext } from "./i18n.js";

/* How a row's thing relates to the running guest and the next boot. */
export const BOTH = "both"; /* in the running guest and in the persistent definition */
export const NEXT_BOOT = "next-boot"; /* only in the persistent definition */
export const LIVE_ONLY = "live-only"; /* only in the running guest: gone at the next boot */

export function shortAddress(address) {
    return address ? address.replace(/^0000:/, "") : "";
}

export function busAddress(bus, slot, fn) {
    const hex = (n, w) => n.toString(16).padStart(w, "0");
    return `0000:${hex(bus, 2)}:${hex(slot, 2)}.${hex(fn, 1)}`;
}

/* What identifies a device to a person, from the element XML the service returned (the
 * browser's DOMParser; "" where there is none). */
export function deviceIdentity(xml) {
    if (!xml)
        return "";
    let doc;
    try {
        doc = new DOMParser().parseFromString(xml, "application/xml");
    } catch (e) {
        return "";
    }
    const root = doc.documentElement;
    if (!root || root.getElementsByTagName("parsererror").length > 0)
        return "";
    const first = (tag, attr) => {
        const el = root.getElementsByTagName(tag)[0];
        return el ? el.getAttribute(attr) || "" : "";
    };
    switch (root.tagName) {
    case "interface":
        return first("mac", "address");
    case "disk": {
        const target = first("target", "dev");
        const source = first("source", "file") || first("source", "dev") || first("source", "name");
        return [target, source].filter(Boolean).join(" ");
    }
    case "hostdev": {
        const addr = root.getElementsByTagName("source")[0];
        const a = addr ? addr.getElementsByTagName("address")[0] : null;
        return a ? `host ${["bus", "slot", "function"].map(k => (a.getAttribute(k) || "").replace(/^0x/, "")).join(":")}` : "";
    }
    default:
        return "";
    }
}

function occKey(occ) {
    return `${occ.slot}.${occ.function}|${occ.kind}|${occ.element}|${occ.description}|${occ.controller ?? ""}`;
}

/* Merges the running (@live, null for a shut-off guest) and persistent (@config) bus lists into
 * {root, buses}: every bus once, with .state, and .slots: slot -> merged occupants
 * [{occ, state, liveOcc, configOcc}]. */
export function merge(live, config) {
    const primary = live || config || [];
    const secondary = live ? (config || []) : null;
    const byIndex = list => new Map(list.map(b => [b.index, b]));
    const p = byIndex(primary);
    const q = secondary ? byIndex(secondary) : new Map();
    const buses = new Map();

    for (const index of new Set([...p.keys(), ...q.keys()])) {
        const pb = p.get(index);
        let qb = q.get(index);
        if (pb && qb && pb.model !== qb.model)
            qb = undefined; /* a different controller under the same index: keep the running one */
        const bus = pb || qb;
        let state = BOTH;
        if (secondary && pb && !q.get(index))
            state = LIVE_ONLY;
        else if (!pb)
            state = NEXT_BOOT;
        const merged = new Map();
        const add = (occ, which) => {
            const key = occKey(occ);
            const entry = merged.get(key);
            if (entry) {
                entry.state = BOTH;
                entry[which] = occ;
            } else {
                merged.set(key, {
                    occ,
                    state: !secondary ? BOTH : which === "liveOcc" ? LIVE_ONLY : NEXT_BOOT,
                    [which]: occ,
                });
            }
        };
        for (const occ of (pb ? pb.occupants : []) || [])
            add(occ, secondary ? "liveOcc" : "configOcc");
        for (const occ of (qb && pb ? qb.occupants : (!pb && qb ? qb.occupants : [])) || [])
            add(occ, "configOcc");
        const slots = new Map();
        for (const entry of [...merged.values()].sort((a, b) => a.occ.slot - b.occ.slot ||
                                                          a.occ.function - b.occ.function)) {
            if (!slots.has(entry.occ.slot))
                slots.set(entry.occ.slot, []);
            slots.get(entry.occ.slot).push(entry);
        }
        buses.set(index, {
            ...bus, state, slots,
            liveFree: pb && secondary ? pb.free_slots : (secondary ? [] : bus.free_slots),
            configFree: secondary ? (qb ? qb.free_slots : (pb ? [] : bus.free_slots)) : bus.free_slots,
        });
    }
    const children = new Set();
    for (const bus of buses.values()) {
        for (const entries of bus.slots.values()) {
            for (const e of entries) {
                if (e.occ.kind === "controller")
                    children.add(e.occ.controller);
            }
        }
    }
    const roots = [...buses.values()].filter(b => !children.has(b.index));
    roots.sort((a, b) => a.index - b.index);
    return { root: roots[0] || null, buses };
}

/* The rows of the picture, depth first. Each row: {kind, depth, address, title, state, ...} */
export function rows(tree) {
    const out = [];
    if (!tree.root)
        return out;
    const visit = (bus, depth, parentRow) => {
        for (const [slot, entries] of bus.slots) {
            /* chipset functions of one slot make one row */
            const chipset = entries.filter(e => e.occ.kind === "chipset");
            if (chipset.length > 0) {
                out.push({
                    kind: "chipset", depth, parent: parentRow, state: chipset[0].state,
                    address: busAddress(bus.index, slot, chipset[0].occ.function),
                    title: _("chipset"),
                    text: chipset.map(e => e.occ.description.replace(/^chipset:\s*/, "")).join(", "),
                });
            }
            for (const e of entries) {
                const address = busAddress(bus.index, e.occ.slot, e.occ.function);
                /* pcie-root's devices are integrated; pci-root (i440fx with ACPI) takes hotplug */
                const integrated = bus.index === tree.root.index && !bus.hotplug;
                if (e.occ.kind === "device") {
                    out.push({
                        kind: "device", depth, parent: parentRow, state: e.state, address,
                        title: integrated ? _("integrated") : format(_("slot $0"), e.occ.slot),
                        text: e.occ.description, identity: deviceIdentity(e.occ.xml),
                        xml: (e.liveOcc || e.configOcc || e.occ).xml, integrated,
                        detachable: detachable(e.occ),
                        entry: e,
                    });
                } else if (e.occ.kind === "controller") {
                    const child = tree.buses.get(e.occ.controller);
                    if (!child)
                        continue;
                    const row = {
                        kind: "controller", depth, parent: parentRow, state: e.state, address,
                        title: format(_("$0 (bus $1)"), child.model || child.model_name, child.index),
                        bus: child,
                    };
                    out.push(row);
                    if (child.min_slot === child.max_slot) {
                        /* a port: its one slot is drawn inside the port's row */
                        const inner = child.slots.get(child.min_slot) || [];
                        const devices = inner.filter(x => x.occ.kind === "device");
                        row.slot = devices.length > 0
                            ? devices.map(d => ({
                                kind: "device", state: d.state, text: d.occ.description,
                                identity: deviceIdentity(d.occ.xml), entry: d, detachable: detachable(d.occ),
                                xml: (d.liveOcc || d.configOcc || d.occ).xml,
                                address: busAddress(child.index, d.occ.slot, d.occ.function),
                            }))
                            : inner.length > 0 ? null
                                : [{ kind: child.hotplug ? "free" : "hotplug-off", state: row.state,
                                     address: busAddress(child.index, child.min_slot, 0) }];
                        if (inner.some(x => x.occ.kind !== "device"))
                            visit(child, depth + 1, row);
                    } else {
                        visit(child, depth + 1, row);
                    }
                }
            }
        }
        /* the bus's empty slots, as one summary row */
        if (bus.min_slot !== bus.max_slot) {
            const free = bus.state === NEXT_BOOT ? bus.configFree : bus.liveFree;
            if (free && free.length > 0) {
                const onRoot = bus.index === tree.root.index;
                out.push({
                    kind: bus.hotplug ? "free" : (onRoot ? "root-free" : "hotplug-off"),
                    depth, parent: parentRow, state: bus.state,
                    address: busAddress(bus.index, free[0], 0),
                    title: bus.hotplug
                        ? format(ngettext("$0 free hotplug slot", "$0 free hotplug slots", free.length), free.length)
                        : format(ngettext("$0 empty slot", "$0 empty slots", free.length), free.length),
                    text: bus.hotplug
                        ? format(_("slots $0"), ranges(free))
                        : onRoot ? format(_("slots $0, for integrated devices only: not hotpluggable"), ranges(free))
                            : format(_("slots $0, hotplug off"), ranges(free)),
                    count: free.length,
                });
            }
        }
    };
    const rootRow = {
        kind: "root", depth: 0, parent: null, state: tree.root.state, address: "",
        title: format(_("$0: root complex (bus $1)"), tree.root.model || tree.root.model_name, tree.root.index),
        bus: tree.root,
    };
    out.push(rootRow);
    visit(tree.root, 1, rootRow);
    return out;
}

/* "1–3, 5": slot numbers as ranges. */
export function ranges(list) {
    const parts = [];
    let start = null;
    let prev = null;
    for (const n of [...list].sort((a, b) => a - b)) {
        if (start === null) {
            start = prev = n;
        } else if (n === prev + 1) {
            prev = n;
        } else {
            parts.push(start === prev ? `${start}` : `${start}–${prev}`);
            start = prev = n;
        }
    }
    if (start !== null)
        parts.push(start === prev ? `${start}` : `${start}–${prev}`);
    return parts.join(", ");
}

/* Elements libvirt can hot-unplug or remove from a definition one by one; controllers, the
 * balloon, video and sound cards stay where they are. */
const DETACHABLE = new Set(["interface", "disk", "hostdev", "rng", "shmem", "vsock", "input", "watchdog",
    "filesystem", "memory"]);

export function detachable(occ) {
    return Boolean(occ && occ.xml && DETACHABLE.has(occ.element));
}

const STATE_TEXT = {
    [NEXT_BOOT]: () => _("next boot"),
    [LIVE_ONLY]: () => _("until shutdown"),
};

/* The badge of a row or device that is not in both definitions ("next boot", "until
 * shutdown"), null for one that is. */
export function stateWord(state) {
    return STATE_TEXT[state] ? STATE_TEXT[state]() : null;
}

/* A device in words: the service's description, and what identifies it when the description
 * does not say it already. */
export function deviceText(item) {
    return item.identity && !item.text.includes(item.identity) ? `${item.text} · ${item.identity}` : item.text;
}

/* The text of one slot box: a device, the summary of a bus's empty slots, a free hotplug slot
 * (of a port), or a port with hotplug off. */
export function slotText(item) {
    if (item.kind === "device")
        return deviceText(item);
    if (item.summary)
        return `${item.title} (${item.text})`;
    if (item.kind === "free")
        return item.state === NEXT_BOOT ? _("free after a cold boot") : _("free hotplug slot");
    return _("empty, hotplug off");
}

export const CHAR_W = 7.0; /* average advance of the 13px UI font, for truncation */
export const INDENT = 22;
export const CHIP_W = 64;

/* @text shortened to what fits in @width px (the tooltip keeps the whole text). */
export function truncate(text, width, charWidth) {
    const max = Math.max(3, Math.floor(width / (charWidth || CHAR_W)));
    if (text.length <= max)
        return text;
    /* first drop what is in parentheses, e.g. "(PCI Express)", then the element's name
     * ("interface virtio 52:54:…" -> "virtio 52:54:…"): the tooltip keeps the whole text */
    let shorter = text.replace(/\s*\([^)]*\)/g, "");
    if (shorter.length <= max)
        return shorter;
    shorter = shorter.replace(/^(interface|disk|hostdev|controller|memballoon|rng|input|sound|video|watchdog)\s+/, "");
    if (shorter.length <= max)
        return shorter;
    return shorter.slice(0, max - 1) + "…";
}

/* The rows of @tree placed for a picture @width px wide: each row gets x (its depth's indent)
 * and y (one line per row when wide, two when narrow, under 620 px); slotX is where the slot
 * boxes start when wide (one column, after the deepest row's chip and title); connectors run
 * from each parent's chip down to each child. */
export function layout(tree, width) {
    const list = rows(tree);
    const narrow = width < 620;
    const rowH = narrow ? 58 : 38;
    const height = list.length * rowH + 8;
    list.forEach((row, i) => {
        row.y = 4 + i * rowH;
        row.x = 8 + row.depth * INDENT;
    });
    const maxDepth = Math.max(...list.map(r => r.depth));
    const slotX = Math.min(8 + maxDepth * INDENT + CHIP_W + 8 + 210, width * 0.5);
    const connectors = [];
    for (const row of list) {
        if (!row.parent)
            continue;
        const px = row.parent.x + 10;
        const py = row.parent.y + (narrow ? 30 : rowH - 8);
        const cy = row.y + (narrow ? 15 : rowH / 2);
        connectors.push({ row, d: `M${px} ${py}V${cy}H${row.x}` });
    }
    return { rows: list, narrow, rowH, height, slotX, connectors };
}
