/* What the page says about a domain, and what it chooses for one, from the Domain properties
 * (dbus.js's snapshot()) and the GetSlots answers: the words and counts of the table and the
 * summary, the service line, which domain to show, the disk targets in use, and where a device
 * of the tree can be detached from. main.js puts them into elements; the unit tests
 * (tests/cockpit/unit) check them under node, so this module needs neither cockpit nor the
 * document. */

import { _, format } from "./i18n.js";

/* PatternFly label colors of a domain's State. */
const STATE_COLORS = { running: "green", paused: "orange", crashed: "red", "shut-off": "grey" };

export function stateColor(state) {
    return STATE_COLORS[state] || "grey";
}

/* PatternFly label colors of the service's Event kinds. */
const EVENT_COLORS = { attached: "green", detached: "grey", reconciled: "blue", refused: "orange",
    "policy-changed": "purple" };

export function eventColor(kind) {
    return EVENT_COLORS[kind] || "grey";
}

const CHAIN_TEXT = {
    absent: () => _("absent"),
    "next-boot": () => _("at next boot"),
    present: () => _("present"),
};

/* LegacyChain in words; a value this page does not know as it is. */
export function chainText(chain) {
    return CHAIN_TEXT[chain] ? CHAIN_TEXT[chain]() : chain;
}

/* Free hotplug slots by kind (FreeHotplugSlots or FreeHotplugSlotsNextBoot, a{su}) as the page
 * shows them: null when @active is false (a guest that does not run has no running guest's
 * slots), else {pcie, pci, none, pcieText, pciText}; a kind the map lacks counts 0. */
export function freeCounts(map, active) {
    if (active === false)
        return null;
    const pcie = (map && map.pcie) || 0;
    const pci = (map && map.pci) || 0;
    return {
        pcie, pci, none: pcie + pci === 0,
        pcieText: format(_("$0 PCIe"), pcie),
        pciText: format(_("$0 PCI"), pci),
    };
}

/* The "Spare ports" cell: what is kept, and the target when the root-port cap keeps fewer. */
export function spareText(d) {
    if (!d.Managed)
        return "—";
    return d.SparePorts < d.SparePortsWanted
        ? format(_("$0 ($1 wanted, root-port cap)"), d.SparePorts, d.SparePortsWanted)
        : String(d.SparePorts);
}

/* The summary's policy line. */
export function policyText(d) {
    return d.Managed
        ? format(_("managed: keeps $0 spare ports, legacy chain $1"), d.SparePorts, d.LegacyBridge)
        : _("not managed: slotkeeper does not change it on its own");
}

/* The line under the title: @owner is the bus name's owner (null: no service, undefined: not
 * known yet), @manager the Manager's properties ({valid, Version, Uri, Connected}). */
export function serviceText(owner, manager) {
    if (owner === null)
        return _("Service: not running");
    if (manager && manager.valid && manager.Version)
        return format(_("Service: slotkeeperd $0 on $1, $2"), manager.Version, manager.Uri,
                      manager.Connected ? _("connected") : _("reconnecting"));
    return _("Service: connecting…");
}

/* Which domain of @list (sorted by name) the page shows: the one the URL names, else the one
 * selected before (by object path) if it is still there, else the first managed running one,
 * else the first; null for an empty list. */
export function pickDomain(list, name, selectedPath) {
    let d = name ? list.find(x => x.Name === name) : null;
    if (!d && selectedPath)
        d = list.find(x => x.path === selectedPath);
    if (!d)
        d = list.find(x => x.Managed && x.Active) || list[0] || null;
    return d || null;
}

/* The disk targets (vda, ...) that the devices of both GetSlots answers use. */
export function diskTargets(slots) {
    const out = [];
    for (const list of [slots && slots.live, slots && slots.config]) {
        for (const bus of list || []) {
            for (const occ of bus.occupants || []) {
                const m = occ.xml && occ.element === "disk" ? /<target[^>]*\bdev=['"]([^'"]+)/.exec(occ.xml) : null;
                if (m)
                    out.push(m[1]);
            }
        }
    }
    return out;
}

/* Where a device of the tree (a row or slot item of model.js, with its merged entry) can be
 * detached from, as the detach dialog offers it: [{value: "both"|"live"|"config", label}], the
 * first the default. A device on pcie-root (integrated) cannot be unplugged from the running
 * guest. */
export function detachScopes(d, item) {
    const entry = item.entry || {};
    const scopes = [];
    if (d.Active && d.Persistent && entry.liveOcc && entry.configOcc && !item.integrated)
        scopes.push({ value: "both", label: _("Running guest and next boot") });
    if (d.Active && entry.liveOcc && !item.integrated)
        scopes.push({ value: "live", label: _("Running guest only") });
    if (d.Persistent && (entry.configOcc || !d.Active))
        scopes.push({ value: "config", label: _("Next boot only") });
    if (scopes.length === 0)
        scopes.push({ value: d.Active ? "live" : "config", label: d.Active ? _("Running guest") : _("Next boot") });
    return scopes;
}
