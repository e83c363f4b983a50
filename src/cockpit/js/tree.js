/* The picture of a domain's PCI tree (SVG), drawn from what GetSlots returns for the running
 * definition and for the persistent one: the root complex, its ports and bridges, the devices
 * in them, empty hotplug-capable slots (highlighted), ports with hotplug off, and what only the
 * next boot has (controllers slotkeeper appended, config-only devices) drawn apart, dashed.
 *
 * merge() turns the two bus lists into one tree of rows; render() lays the rows out for the
 * width it is given (one line per row when wide, two when narrow). */

/* global cockpit */

import { _, format, h, s } from "./dom.js";

/* How a row's thing relates to the running guest and the next boot. */
export const BOTH = "both"; /* in the running guest and in the persistent definition */
export const NEXT_BOOT = "next-boot"; /* only in the persistent definition */
export const LIVE_ONLY = "live-only"; /* only in the running guest: gone at the next boot */

function shortAddress(address) {
    return address ? address.replace(/^0000:/, "") : "";
}

function busAddress(bus, slot, fn) {
    const hex = (n, w) => n.toString(16).padStart(w, "0");
    return `0000:${hex(bus, 2)}:${hex(slot, 2)}.${hex(fn, 1)}`;
}

/* What identifies a device to a person, from the element XML the service returned. */
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
                if (e.occ.kind === "device") {
                    out.push({
                        kind: "device", depth, parent: parentRow, state: e.state, address,
                        title: bus.index === tree.root.index ? _("integrated") : format(_("slot $0"), e.occ.slot),
                        text: e.occ.description, identity: deviceIdentity(e.occ.xml),
                        xml: (e.liveOcc || e.configOcc || e.occ).xml, onRoot: bus.index === tree.root.index,
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
                        ? format(cockpit.ngettext("$0 free hotplug slot", "$0 free hotplug slots", free.length), free.length)
                        : format(cockpit.ngettext("$0 empty slot", "$0 empty slots", free.length), free.length),
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

function ranges(list) {
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

const CHAR_W = 7.0; /* average advance of the 13px UI font, for truncation */
const INDENT = 22;
const CHIP_W = 64;

function truncate(text, width, charWidth) {
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

/* Draws the rows into an <svg> of @width px. opts: {onDetach(row, slotItem), canDetach,
 * label}. Returns the svg element. */
export function render(tree, width, opts) {
    const list = rows(tree);
    const narrow = width < 620;
    const rowH = narrow ? 58 : 38;
    const height = list.length * rowH + 8;
    const svg = s("svg", {
        class: "sk-tree", width, height, viewBox: `0 0 ${width} ${height}`,
        role: "group", "aria-label": opts.label, "data-sk": "tree",
    });
    const lines = s("g", { class: "sk-tree__lines", "aria-hidden": "true" });
    svg.append(lines);

    list.forEach((row, i) => {
        row.y = 4 + i * rowH;
        row.x = 8 + row.depth * INDENT;
    });
    /* wide: every slot box starts in one column, after the deepest row's chip and title */
    const maxDepth = Math.max(...list.map(r => r.depth));
    opts = { ...opts, slotX: Math.min(8 + maxDepth * INDENT + CHIP_W + 8 + 210, width * 0.5) };
    /* connectors: from each parent's chip down to each child */
    for (const row of list) {
        if (!row.parent)
            continue;
        const px = row.parent.x + 10;
        const py = row.parent.y + (narrow ? 30 : rowH - 8);
        const cy = row.y + (narrow ? 15 : rowH / 2);
        lines.append(s("path", { d: `M${px} ${py}V${cy}H${row.x}` }));
    }

    for (const row of list)
        svg.append(drawRow(row, width, rowH, narrow, opts));
    return svg;
}

function drawRow(row, width, rowH, narrow, opts) {
    const g = s("g", {
        class: ["sk-tree__row", `sk-tree__row--${row.kind}`, `sk-state--${row.state}`],
        "data-kind": row.kind, "data-address": row.address || null, "data-state": row.state,
        transform: `translate(0 ${row.y})`,
    });
    const lineH = narrow ? 26 : rowH - 8;
    const midY = narrow ? 15 : rowH / 2;
    let x = row.x;

    if (row.address && row.kind !== "free" && row.kind !== "root-free" && row.kind !== "hotplug-off") {
        g.append(s("rect", { class: "sk-tree__chip", x, y: midY - 11, width: CHIP_W, height: 22, rx: 3 }),
                 s("text", { class: "sk-tree__chip-text", x: x + CHIP_W / 2, y: midY + 4,
                             "text-anchor": "middle", text: shortAddress(row.address) }));
        x += CHIP_W + 8;
    } else if (row.kind === "root") {
        g.append(s("rect", { class: "sk-tree__chip sk-tree__chip--root", x, y: midY - 11, width: 22, height: 22, rx: 3 }));
        x += 30;
    }

    const badge = STATE_TEXT[row.state] ? STATE_TEXT[row.state]() : null;
    /* narrow: a device's detach button goes on the title line, the box below gets the width */
    const items = row.kind === "device" ? [row] : row.slot || [];
    const buttonAt = narrow && items.length === 1 && items[0].kind === "device" && items[0].detachable &&
        opts.onDetach ? { x: width - 8 - 64, y: midY - 12 } : null;
    const textRoom = width - x - 8 - (buttonAt ? 72 : 0);

    if (row.kind === "root" || row.kind === "controller" || row.kind === "chipset") {
        const slotItems = row.slot || [];
        const titleW = narrow || slotItems.length === 0
            ? textRoom - (badge ? 90 : 0)
            : opts.slotX - x - 12 - (badge ? badge.length * 6.4 + 24 : 0);
        const title = truncate(row.title, titleW);
        g.append(s("text", { class: "sk-tree__title", x, y: midY + 4.5, text: title },
                   s("title", { text: row.text ? `${row.title}: ${row.text}` : row.title })));
        let bx = x + title.length * CHAR_W + 8;
        if (badge) {
            g.append(stateBadge(badge, row.state, bx, midY));
            bx += badge.length * 6.4 + 24;
        }
        if (row.kind === "chipset" && !narrow) {
            const t = truncate(row.text, width - bx - 8, 6.6);
            g.append(s("text", { class: "sk-tree__muted", x: bx, y: midY + 4.5, text: t }));
        } else if (row.kind === "chipset") {
            g.append(s("text", { class: "sk-tree__muted", x, y: lineH + 16,
                                 text: truncate(row.text, width - x - 8, 6.6) }));
        }
        if (slotItems.length > 0) {
            const sx = narrow ? x : Math.max(bx + 4, opts.slotX);
            const sy = narrow ? lineH + 2 : 4;
            const sw = width - sx - 8;
            const h1 = narrow ? rowH - lineH - 6 : rowH - 8;
            const each = sw / slotItems.length;
            slotItems.forEach((item, i) => {
                g.append(slotBox(item, sx + i * each, sy, each - (i < slotItems.length - 1 ? 6 : 0), h1, opts,
                                 buttonAt));
            });
        }
    } else {
        /* device on a multi-slot bus, or a summary of free / hotplug-off slots */
        const titleW = narrow ? textRoom : opts.slotX - x - 12;
        if (row.kind === "device") {
            g.append(s("text", { class: "sk-tree__title", x, y: midY + 4.5, text: truncate(row.title, titleW) }));
            const sx = narrow ? x : opts.slotX;
            const sy = narrow ? lineH + 2 : 4;
            g.append(slotBox(row, sx, sy, width - sx - 8, narrow ? rowH - lineH - 6 : rowH - 8, opts, buttonAt));
        } else {
            g.append(slotBox({ ...row, summary: true }, x, narrow ? 4 : 4, width - x - 8,
                             narrow ? rowH - 10 : rowH - 8, opts));
        }
    }
    return g;
}

function stateBadge(text, state, x, midY) {
    const w = text.length * 6.4 + 16;
    return s("g", { class: ["sk-tree__badge", `sk-tree__badge--${state}`], "data-sk": "badge" },
             s("rect", { x, y: midY - 10, width: w, height: 20, rx: 10 }),
             s("text", { x: x + w / 2, y: midY + 4, "text-anchor": "middle", text }));
}

/* One slot: a device (with its detach button), a free hotplug slot, or hotplug off. */
function slotBox(item, x, y, w, hgt, opts, buttonAt) {
    const g = s("g", {
        class: ["sk-slot", `sk-slot--${item.kind}`, `sk-state--${item.state}`],
        "data-kind": `slot-${item.kind}`, "data-address": item.address || null, "data-state": item.state,
    });
    g.append(s("rect", { class: "sk-slot__box", x, y, width: Math.max(w, 10), height: hgt, rx: 4 }));
    const midY = y + hgt / 2 + 4.5;
    let text;
    if (item.kind === "device") {
        text = item.identity && !item.text.includes(item.identity) ? `${item.text} · ${item.identity}` : item.text;
    } else if (item.summary) {
        text = `${item.title} (${item.text})`;
    } else if (item.kind === "free") {
        text = item.state === NEXT_BOOT ? _("free after a cold boot") : _("free hotplug slot");
    } else {
        text = _("empty, hotplug off");
    }
    const badge = item.kind === "device" && STATE_TEXT[item.state] ? STATE_TEXT[item.state]() : null;
    const detach = item.kind === "device" && item.detachable && opts.onDetach;
    const buttonW = detach ? 64 : 0;
    const badgeW = badge ? badge.length * 6.4 + 24 : 0;
    const room = w - 16 - (buttonAt ? 0 : buttonW) - badgeW;
    if (item.summary && hgt >= 40) {
        g.append(s("text", { class: "sk-slot__text sk-slot__text--title", x: x + 10, y: y + 18, text: truncate(item.title, room) },
                   s("title", { text })),
                 s("text", { class: "sk-slot__text", x: x + 10, y: y + 36, text: truncate(item.text, room) }));
        return g;
    }
    const shown = truncate(text, room);
    g.append(s("text", { class: "sk-slot__text", x: x + 10, y: midY, text: shown },
               s("title", { text })));
    if (badge)
        g.append(stateBadge(badge, item.state, x + 10 + shown.length * CHAR_W + 8, y + hgt / 2));
    if (detach) {
        const bx = buttonAt ? buttonAt.x : x + w - buttonW - 4;
        const by = buttonAt ? buttonAt.y : y + (hgt - 24) / 2;
        const label = format(_("Detach $0 at $1"), text, item.address);
        const btn = s("g", {
            class: ["sk-tree__button", !opts.canDetach && "sk-tree__button--disabled"],
            role: "button", tabindex: "0", "aria-label": label,
            "aria-disabled": opts.canDetach ? null : "true", "data-sk": "detach",
        },
        s("title", { text: opts.canDetach ? label : _("Detaching needs administrative access") }),
        s("rect", { x: bx, y: by, width: buttonW, height: 24, rx: 3 }),
        s("text", { x: bx + buttonW / 2, y: by + 16, "text-anchor": "middle", text: _("Detach") }));
        const activate = ev => {
            ev.preventDefault();
            if (opts.canDetach)
                opts.onDetach(item);
        };
        btn.addEventListener("click", activate);
        btn.addEventListener("keydown", ev => {
            if (ev.key === "Enter" || ev.key === " ")
                activate(ev);
        });
        g.append(btn);
    }
    return g;
}

/* The legend under the picture, in HTML. */
export function legend() {
    const item = (cls, text) => h("li", { class: "sk-legend__item" },
                                  s("svg", { class: "sk-legend__swatch", width: 28, height: 16, "aria-hidden": "true" },
                                    s("rect", { class: ["sk-slot__box", cls], x: 1, y: 1, width: 26, height: 14, rx: 3 })),
                                  text);
    return h("ul", { class: "sk-legend", "aria-label": _("Legend") },
             item("sk-legend--device", _("device")),
             item("sk-legend--free", _("free hotplug slot")),
             item("sk-legend--off", _("hotplug off")),
             item("sk-legend--next", _("next boot only (after a cold boot)")),
             item("sk-legend--live", _("running guest only (gone at shutdown)")));
}
