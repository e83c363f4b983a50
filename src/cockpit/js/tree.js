/* The picture of a domain's PCI tree (SVG), drawn from what GetSlots returns for the running
 * definition and for the persistent one: the root complex, its ports and bridges, the devices
 * in them, empty hotplug-capable slots (highlighted), ports with hotplug off, and what only the
 * next boot has (controllers slotkeeper appended, config-only devices) drawn apart, dashed.
 *
 * model.js merges the two bus lists into one tree of rows and lays them out for the width
 * given (one line per row when wide, two when narrow); render() draws them. */

import { _, format, h, s } from "./dom.js";
import { CHAR_W, CHIP_W, layout, shortAddress, slotText, stateWord, truncate } from "./model.js";

/* Draws the rows into an <svg> of @width px. opts: {onDetach(row, slotItem), canDetach,
 * label}. Returns the svg element. */
export function render(tree, width, opts) {
    const { rows: list, narrow, rowH, height, slotX, connectors } = layout(tree, width);
    const svg = s("svg", {
        class: "sk-tree", width, height, viewBox: `0 0 ${width} ${height}`,
        role: "group", "aria-label": opts.label, "data-sk": "tree",
    });
    const lines = s("g", { class: "sk-tree__lines", "aria-hidden": "true" });
    svg.append(lines);

    opts = { ...opts, slotX };
    for (const c of connectors)
        lines.append(s("path", { d: c.d }));

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

    const badge = stateWord(row.state);
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
    const text = slotText(item);
    const badge = item.kind === "device" ? stateWord(item.state) : null;
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
