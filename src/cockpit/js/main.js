/* The "Hotplug slots" page: every domain slotkeeperd knows, the PCI tree of the selected one,
 * attach / detach / policy for it, and the service's recent events. Everything comes from
 * slotkeeperd over D-Bus (dbus.js) and updates when the service signals a change. */

/* global cockpit */

import { _, alert, button, clear, format, h, label, radioGroup, uid } from "./dom.js";
import { SlotKeeper } from "./dbus.js";
import * as tree from "./tree.js";
import { deviceText, merge } from "./model.js";
import { chainText, detachScopes, diskTargets, eventColor, freeCounts, pickDomain, policyText, serviceText,
    spareText, stateColor } from "./domains.js";
import { AttachForm, SCOPES } from "./attach.js";
import { PolicyForm } from "./policy.js";
import { errorAlert } from "./errors.js";

const sk = new SlotKeeper();
const permission = cockpit.permission({ admin: true });

const state = {
    selected: null, /* path of the selected domain */
    slots: null, /* {path, live, config} for the selected domain */
    slotsError: null,
    shown: null, /* the selected domain's properties the detail shows, as JSON */
    loading: false,
    reload: false,
    events: [],
    ready: false,
};

const attachForm = new AttachForm(sk);
const policyForm = new PolicyForm(sk);

/* ---- the page's skeleton ---------------------------------------------------------------- */

const app = document.getElementById("app");
const serviceLine = h("p", { class: "sk-service", "data-sk": "service", "aria-live": "polite" });
const notices = h("div", { class: "sk-notices", "data-sk": "notices" });
const tableBody = h("tbody", { role: "rowgroup" });
const domainsEmpty = h("div", { class: "sk-domains-empty" });
const detail = h("div", { class: "sk-detail", "data-sk": "detail" });
const treeTitle = h("h2", { class: "pf-c-title pf-m-lg", id: uid("tree-title") });
const treeSummary = h("dl", { class: "pf-c-description-list pf-m-horizontal pf-m-compact pf-m-2-col-on-lg sk-summary",
                              "data-sk": "summary" });
const treeNote = h("div", { class: "sk-tree-note", "aria-live": "polite" });
const treeBox = h("div", { class: "sk-tree-box", "data-sk": "tree-box" });
const treeResult = h("div", { "aria-live": "polite", "data-sk": "detach-result" });
const eventList = h("ol", { class: "sk-events", "data-sk": "events", "aria-live": "polite" });

function card(title, body, attrs) {
    return h("article", { class: "pf-c-card", ...attrs },
             h("div", { class: "pf-c-card__title" }, typeof title === "string"
                 ? h("h2", { class: "pf-c-title pf-m-lg", text: title }) : title),
             h("div", { class: "pf-c-card__body" }, body));
}

function header(text, title) {
    return h("th", { role: "columnheader", scope: "col", class: "pf-m-wrap", title }, text);
}

app.append(h("div", { class: "pf-c-page" }, h("main", { class: "pf-c-page__main", tabindex: "-1" },
    h("section", { class: "pf-c-page__main-section pf-m-light sk-intro" },
      h("h1", { class: "pf-c-title pf-m-2xl", text: _("Hotplug slots") }),
      h("p", { class: "sk-lead", text: _("A device can only be hotplugged into an empty, hotplug-capable PCI slot, and a running virtual machine never gains one. slotkeeper keeps spare slots ready in each machine's next-boot definition and puts every attached device at one address that is free now and after the next boot.") }),
      serviceLine),
    h("section", { class: "pf-c-page__main-section sk-main" },
      notices,
      card(_("Virtual machines"), [
          h("table", { class: "pf-c-table pf-m-compact pf-m-grid-lg sk-domains", role: "grid",
                       "aria-label": _("Virtual machines and their hotplug slots"), "data-sk": "domains" },
            h("thead", {},
              h("tr", { role: "row" },
                header(_("Name")), header(_("State")), header(_("Managed")),
                header(_("Spare ports"), _("Empty hotplug root ports slotkeeper keeps in the next-boot definition")),
                header(_("Free hotplug slots now"), _("Empty hotplug-capable slots in the running guest")),
                header(_("Free at next boot"), _("The same after the next cold boot")),
                header(_("Legacy PCI chain"), _("pcie-root-port + pcie-to-pci-bridge for conventional PCI devices")),
                header(_("Restart")))),
            tableBody),
          domainsEmpty,
      ], { "data-sk": "domains-card" }),
      detail))));

const treeCard = card(treeTitle, [treeSummary, treeNote, treeResult, treeBox, tree.legend()],
                      { class: "pf-c-card sk-tree-card", "data-sk": "tree-card" });
const attachCard = card(_("Attach a device"), [attachForm.element], { "data-sk": "attach-card" });
const policyCard = card(_("Policy"), [policyForm.element], { "data-sk": "policy-card" });
const eventsCard = card(_("Recent service events"), [eventList], { "data-sk": "events-card" });
detail.append(treeCard,
              h("div", { class: "sk-detail__actions" },
                h("div", { class: "sk-detail__column" }, attachCard),
                h("div", { class: "sk-detail__column" }, policyCard, eventsCard)));

/* ---- administrative access --------------------------------------------------------------- */

function isAdmin() {
    return permission.allowed === true;
}

permission.addEventListener("changed", () => {
    renderNotices();
    attachForm.setAdmin(isAdmin());
    policyForm.setAdmin(isAdmin());
    renderTree();
});

/* ---- notices: access, service --------------------------------------------------------- */

function renderNotices() {
    clear(notices);
    if (sk.closed && sk.closed.problem !== "not-found") {
        notices.append(alert("danger", _("Lost the connection to the system bus"),
                             cockpit.message(sk.closed), { sk: "bus-closed" }));
        return;
    }
    if (permission.allowed === false) {
        notices.append(alert("info", _("Administrative access required"), [
            h("p", { text: _("This page is read-only: attaching, detaching and changing a policy change virtual machines, which only administrators may do (polkit action org.slotkeeper.SlotKeeper1.manage). You can still look at every slot and ask for plans.") }),
            h("p", { text: _("Turn on administrative access with the “Limited access” button at the top of the web console.") }),
        ], { sk: "read-only", class: "sk-readonly", label: _("Read-only") }));
    }
    if (sk.owner === null) {
        notices.append(alert("warning", _("slotkeeperd is not running"), [
            h("p", { text: _("Nothing to show until the service runs: systemctl start slotkeeperd (D-Bus activation also starts it). This page updates by itself when it does.") }),
        ], { sk: "no-service" }));
    } else if (sk.manager.valid && sk.manager.Connected === false) {
        notices.append(alert("warning", _("slotkeeperd cannot reach libvirt"), [
            h("p", { text: format(_("It retries by itself; until then changes are refused. URI: $0"), sk.manager.Uri || "?") }),
            sk.manager.ConnectError ? h("p", { class: "sk-error__message", text: sk.manager.ConnectError }) : null,
        ], { sk: "disconnected" }));
    }
}

function renderService() {
    serviceLine.textContent = serviceText(sk.owner, sk.manager);
}

/* ---- the domain table -------------------------------------------------------------------- */

function counts(map, active) {
    const c = freeCounts(map, active);
    if (!c)
        return h("span", { class: "sk-muted", text: _("not running") });
    return h("span", { class: ["sk-counts", c.none && "sk-counts--none"] },
             h("span", { class: "sk-count", "data-sk": "pcie", title: _("PCI Express: empty hotplug root ports") },
               c.pcieText),
             h("span", { class: "sk-count", "data-sk": "pci", title: _("conventional PCI: free bridge slots") },
               c.pciText));
}

function renderTable() {
    const list = sk.domainList();
    const focused = document.activeElement && document.activeElement.dataset
        ? document.activeElement.dataset.path : null;
    clear(tableBody);
    clear(domainsEmpty);
    if (list.length === 0) {
        domainsEmpty.append(h("div", { class: "pf-c-empty-state pf-m-sm" },
                              h("div", { class: "pf-c-empty-state__content" },
                                h("h3", { class: "pf-c-title pf-m-md",
                                          text: sk.owner === null ? _("No service") : state.ready ? _("No virtual machines") : _("Loading…") }),
                                h("div", { class: "pf-c-empty-state__body",
                                           text: _("Every libvirt domain of the service's connection is listed here, managed or not.") }))));
    }
    for (const d of list) {
        const selected = d.path === state.selected;
        const nameButton = h("button", {
            type: "button", class: "pf-c-button pf-m-link pf-m-inline sk-name", "data-path": d.path,
            "aria-pressed": selected ? "true" : "false", "data-sk": "select",
            onclick: () => select(d.path, true),
        }, d.Name);
        const row = h("tr", { role: "row", class: ["pf-m-hoverable", selected && "pf-m-selected"],
                              "data-sk": "domain-row", "data-name": d.Name, "data-path": d.path },
                      h("td", { role: "cell", "data-label": _("Name") }, nameButton),
                      h("td", { role: "cell", "data-label": _("State"), "data-sk": "state" },
                        label(d.State, stateColor(d.State))),
                      h("td", { role: "cell", "data-label": _("Managed"), "data-sk": "managed",
                                text: d.Managed ? _("yes") : _("no") }),
                      h("td", { role: "cell", "data-label": _("Spare ports"), "data-sk": "spare",
                                text: spareText(d) }),
                      h("td", { role: "cell", "data-label": _("Free hotplug slots now"), "data-sk": "free-now",
                                "data-pcie": d.Active ? d.FreeHotplugSlots.pcie || 0 : "",
                                "data-pci": d.Active ? d.FreeHotplugSlots.pci || 0 : "" },
                        counts(d.FreeHotplugSlots, d.Active)),
                      h("td", { role: "cell", "data-label": _("Free at next boot"), "data-sk": "free-next",
                                "data-pcie": d.FreeHotplugSlotsNextBoot.pcie || 0,
                                "data-pci": d.FreeHotplugSlotsNextBoot.pci || 0 },
                        d.Persistent ? counts(d.FreeHotplugSlotsNextBoot)
                            : h("span", { class: "sk-muted", text: _("transient") })),
                      h("td", { role: "cell", "data-label": _("Legacy PCI chain"), "data-sk": "chain",
                                text: chainText(d.LegacyChain) }),
                      h("td", { role: "cell", "data-label": _("Restart"), "data-sk": "restart" },
                        d.RestartPending
                            ? label(_("cold boot pending"), "orange",
                                    { title: _("The next-boot definition has controllers the running guest lacks: shut it down and start it again (a reboot is not enough).") })
                            : h("span", { class: "sk-muted", text: "—" })));
        tableBody.append(row);
        if (focused === d.path)
            nameButton.focus();
    }
}

/* ---- selection ---------------------------------------------------------------------------- */

function select(path, fromUser) {
    const d = path ? sk.domain(path) : null;
    if (fromUser && d && cockpit.location.path[0] !== d.Name)
        cockpit.location.go([d.Name]); /* the URL names the selected guest */
    if (path !== null && state.selected === path) {
        renderTable();
        return;
    }
    state.selected = path;
    state.shown = d ? JSON.stringify(d) : null;
    state.slots = null;
    state.slotsError = null;
    clear(treeResult);
    clear(treeBox);
    renderTable();
    renderDetail();
    loadSlots();
}

function selectFromLocation() {
    const d = pickDomain(sk.domainList(), cockpit.location.path[0], state.selected);
    select(d ? d.path : null, false);
}

/* ---- the selected domain ---------------------------------------------------------------- */

function renderDetail() {
    const d = state.selected ? sk.domain(state.selected) : null;
    detail.hidden = !d;
    if (!d)
        return;
    treeTitle.textContent = format(_("PCI tree of $0"), d.Name);
    clear(treeSummary);
    const item = (term, value, key) => h("div", { class: "pf-c-description-list__group", "data-sk": key },
                                         h("dt", { class: "pf-c-description-list__term" },
                                           h("span", { class: "pf-c-description-list__text", text: term })),
                                         h("dd", { class: "pf-c-description-list__description" },
                                           h("div", { class: "pf-c-description-list__text" }, value)));
    treeSummary.append(
        item(_("Machine"), `${d.Machine} (${d.Arch})`, "summary-machine"),
        item(_("State"), d.State, "summary-state"),
        item(_("Free hotplug slots"), [counts(d.FreeHotplugSlots, d.Active), " ",
                                       h("span", { class: "sk-muted", text: _("now") }), " / ",
                                       d.Persistent ? counts(d.FreeHotplugSlotsNextBoot) : "—", " ",
                                       h("span", { class: "sk-muted", text: _("at next boot") })], "summary-free"),
        item(_("Policy"), policyText(d), "summary-policy"));
    if (d.RestartPending) {
        treeSummary.append(item(_("Restart"), label(_("cold boot pending"), "orange"), "summary-restart"));
    }
    attachForm.setDomain(d);
    attachForm.setAdmin(isAdmin());
    policyForm.setDomain(d);
    policyForm.setAdmin(isAdmin());
}

function loadSlots() {
    const path = state.selected;
    const d = path ? sk.domain(path) : null;
    if (!d)
        return;
    if (state.loading) {
        state.reload = true;
        return;
    }
    state.loading = true;
    state.reload = false;
    const active = d.Active;
    Promise.all([sk.slots(path, true), active ? sk.slots(path, false) : Promise.resolve(null)])
            .then(([config, live]) => {
                if (state.selected === path) {
                    state.slots = { path, config, live, active };
                    state.slotsError = null;
                }
            })
            .catch(ex => {
                if (state.selected === path)
                    state.slotsError = ex;
            })
            .finally(() => {
                state.loading = false;
                if (state.selected === path) {
                    renderTree();
                    attachForm.setTargets(diskTargets(state.slots));
                }
                if (state.reload)
                    loadSlots();
            });
}

let lastWidth = 0;

function renderTree() {
    clear(treeNote);
    const d = state.selected ? sk.domain(state.selected) : null;
    if (!d)
        return;
    if (state.slotsError) {
        clear(treeBox);
        treeBox.append(errorAlert(state.slotsError, _("Cannot read the PCI tree")));
        return;
    }
    if (!state.slots || state.slots.path !== d.path) {
        if (!treeBox.firstChild)
            treeBox.append(h("p", { class: "sk-muted", text: _("Loading the PCI tree…") }));
        return;
    }
    if (!state.slots.active) {
        treeNote.append(h("p", { class: "sk-muted", text: _("The guest is shut off: this is its next-boot definition.") }));
    } else if (d.RestartPending) {
        treeNote.append(h("p", { class: "sk-muted", text: _("Dashed: only in the next-boot definition; a cold boot (shut down, then start) brings it.") }));
    }
    const merged = merge(state.slots.live, state.slots.config);
    const width = Math.max(280, Math.floor(treeBox.clientWidth || 600));
    lastWidth = width;
    const svg = tree.render(merged, width, {
        label: format(_("PCI tree of $0"), d.Name),
        canDetach: isAdmin(),
        onDetach: item => openDetach(d, item),
    });
    const focused = document.activeElement && document.activeElement.closest &&
        document.activeElement.closest("[data-sk=detach]");
    const focusAddress = focused ? focused.closest("[data-address]").getAttribute("data-address") : null;
    clear(treeBox);
    treeBox.append(svg);
    if (focusAddress) {
        const again = treeBox.querySelector(`[data-address="${focusAddress}"] [data-sk=detach]`);
        if (again)
            again.focus();
    }
}

new ResizeObserver(() => {
    const width = Math.floor(treeBox.clientWidth);
    if (state.slots && Math.abs(width - lastWidth) > 4)
        renderTree();
}).observe(treeBox);

/* ---- detach: a dialog ----------------------------------------------------------------- */

let dialog = null;

function closeDialog() {
    if (!dialog)
        return;
    dialog.backdrop.remove();
    document.body.classList.remove("pf-c-backdrop__open");
    if (dialog.returnFocus && dialog.returnFocus.isConnected)
        dialog.returnFocus.focus();
    dialog = null;
}

function openDetach(d, item) {
    closeDialog();
    const entry = item.entry || {};
    const scopes = detachScopes(d, item);
    let scope = scopes[0].value;
    const titleId = uid("detach-title");
    const text = deviceText(item);
    const result = h("div", { "aria-live": "polite" });
    const confirm = button(_("Detach"), "danger", () => {
        const occ = scope === "config" ? (entry.configOcc || entry.occ) : (entry.liveOcc || entry.occ);
        const xml = occ && occ.xml ? occ.xml : item.xml;
        confirm.disabled = true;
        clear(result);
        sk.detach(d.path, xml, SCOPES[scope])
                .then(() => {
                    closeDialog();
                    clear(treeResult);
                    treeResult.append(alert("success", format(_("Detached $0"), text), null, { sk: "detach-success" }));
                })
                .catch(ex => {
                    confirm.disabled = false;
                    result.append(errorAlert(ex, _("Not detached")));
                });
    }, { "data-sk": "confirm-detach" });
    const cancel = button(_("Cancel"), "link", closeDialog);
    const radios = radioGroup(_("Detach from"), uid("detach-scope"), scopes, scope, v => { scope = v });
    const box = h("div", { class: "pf-c-modal-box pf-m-sm", role: "dialog", "aria-modal": "true",
                           "aria-labelledby": titleId, "data-sk": "detach-dialog" },
                  h("header", { class: "pf-c-modal-box__header" },
                    h("h1", { class: "pf-c-modal-box__title", id: titleId, text: _("Detach device") })),
                  h("div", { class: "pf-c-modal-box__body" },
                    h("p", {}, h("strong", { text })),
                    h("p", { class: "sk-muted", text: format(_("at $0 of $1"), item.address, d.Name) }),
                    item.integrated ? h("p", { text: _("It sits on pcie-root (integrated), so it cannot be unplugged from the running guest; it can be removed from the next boot.") }) : null,
                    h("form", { class: "pf-c-form", onsubmit: ev => ev.preventDefault() }, radios.element),
                    result),
                  h("footer", { class: "pf-c-modal-box__footer" }, confirm, cancel));
    const backdrop = h("div", { class: "pf-c-backdrop" }, h("div", { class: "pf-l-bullseye" }, box));
    backdrop.addEventListener("keydown", ev => {
        if (ev.key === "Escape") {
            ev.preventDefault();
            closeDialog();
        } else if (ev.key === "Tab") {
            /* keep the focus inside the dialog */
            const focusable = [...box.querySelectorAll("button, input, select, textarea")].filter(el => !el.disabled);
            const first = focusable[0];
            const last = focusable[focusable.length - 1];
            if (ev.shiftKey && document.activeElement === first) {
                ev.preventDefault();
                last.focus();
            } else if (!ev.shiftKey && document.activeElement === last) {
                ev.preventDefault();
                first.focus();
            }
        }
    });
    dialog = { backdrop, returnFocus: document.activeElement };
    document.body.append(backdrop);
    document.body.classList.add("pf-c-backdrop__open");
    (radios.inputs.find(i => i.checked) || confirm).focus();
}

/* ---- service events ---------------------------------------------------------------------- */

function renderEvents() {
    clear(eventList);
    if (state.events.length === 0) {
        eventList.append(h("li", { class: "sk-muted", text: _("None since this page was opened. A plain virsh attach-device that takes a spare shows up here when slotkeeper replaces it.") }));
        return;
    }
    for (const ev of state.events) {
        eventList.append(h("li", { class: "sk-event", "data-kind": ev.kind },
                           h("span", { class: "sk-event__time", text: ev.time.toLocaleTimeString() }),
                           label(ev.kind, eventColor(ev.kind)),
                           h("span", { class: "sk-event__message", text: ev.details.message || "" })));
    }
}

/* ---- wiring ----------------------------------------------------------------------------------- */

sk.addEventListener("owner", ev => {
    renderService();
    renderNotices();
    if (ev.detail.owner === null && state.selected) {
        state.selected = null;
        select(null, false); /* the service is gone, and with it what it told */
    } else {
        renderTable();
    }
});
sk.addEventListener("close", () => renderNotices());
sk.addEventListener("manager", () => {
    renderService();
    renderNotices();
});
sk.addEventListener("domains-ready", () => {
    /* the first list, or the list of a service that appeared or was restarted */
    state.ready = true;
    app.removeAttribute("aria-busy");
    app.setAttribute("data-ready", "true");
    state.selected = null;
    renderNotices();
    selectFromLocation();
});
sk.addEventListener("domain", ev => {
    const { what, path } = ev.detail;
    if (!state.ready) {
        renderTable();
        return;
    }
    if (what === "removed" && path === state.selected) {
        state.selected = null;
        selectFromLocation();
        return;
    }
    if (!state.selected) {
        selectFromLocation();
        return;
    }
    renderTable();
    if (path === state.selected) {
        /* the bridge may report the same values again: only a real change refetches the tree */
        const now = JSON.stringify(sk.domain(path));
        if (now !== state.shown) {
            state.shown = now;
            renderDetail();
            loadSlots();
        }
    }
});
sk.addEventListener("service-event", ev => {
    state.events.unshift(ev.detail);
    state.events.length = Math.min(state.events.length, 12);
    renderEvents();
    const d = state.selected ? sk.domain(state.selected) : null;
    if (d && ev.detail.details && ev.detail.details.uuid === d.UUID)
        loadSlots();
});
cockpit.addEventListener("locationchanged", () => {
    if (state.ready)
        selectFromLocation();
});

renderService();
renderNotices();
renderTable();
renderEvents();
detail.hidden = true;
