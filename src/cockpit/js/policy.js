/* The domain's slotkeeper policy (SetPolicy): how many spare hotplug ports to keep, when to add
 * the legacy bridge chain, and whether slotkeeper manages the domain at all. */

import { _, alert, button, clear, format, formGroup, h, select, uid } from "./dom.js";
import { errorAlert } from "./errors.js";

const LEGACY = [
    { value: "lazy", label: _("lazy"), help: () => _("lazy: added when a conventional PCI device needs a hotplug slot.") },
    { value: "eager", label: _("eager"), help: () => _("eager: always kept, with free slots.") },
    { value: "never", label: _("never"), help: () => _("never: conventional PCI hotplug is refused instead.") },
];

/* A domain's policy as the form shows it: spare ports as text (what the input holds). */
export function policyValues(d) {
    return { spare: String(d.SparePortsWanted), legacy: d.LegacyBridge, managed: Boolean(d.Managed) };
}

/* Whether the spare-ports input holds what SetPolicy takes: a whole number from 0 to 64. */
export function spareValid(text) {
    const n = Number(text);
    return text !== "" && Number.isInteger(n) && n >= 0 && n <= 64;
}

/* The SetPolicy options for what differs between the form's @values and the domain's @current
 * policy (both as policyValues() gives them); {} when nothing does. */
export function policyChanges(values, current) {
    const policy = {};
    if (values.spare !== current.spare)
        policy["spare-ports"] = Number(values.spare);
    if (values.legacy !== current.legacy)
        policy["legacy-bridge"] = values.legacy;
    if (values.managed !== current.managed)
        policy.managed = values.managed;
    return policy;
}

/* The help under the spare-ports input: what is kept when the root-port cap keeps fewer. */
export function spareHelpText(d) {
    return _("Empty root ports to keep in the next-boot definition.") + " " +
        (d.SparePorts < d.SparePortsWanted
            ? format(_("It keeps $0: the root-port cap leaves no room for more."), d.SparePorts)
            : _("The root-port cap (14 on x86_64) still applies."));
}

export class PolicyForm {
    constructor(sk) {
        this.sk = sk;
        this.domain = null;
        this.admin = false;
        this.values = null; /* what the form shows */
        this.editing = false; /* the user changed something: updates do not overwrite it */
        this.busy = false;
        this.element = h("form", { class: "pf-c-form sk-policy", "data-sk": "policy-form", novalidate: true,
                                   onsubmit: ev => { ev.preventDefault(); this.save() } });
        this.result = h("div", { "aria-live": "polite", "data-sk": "policy-result" });

        this.spare = h("input", { class: "pf-c-form-control sk-number", type: "number", min: 0, max: 64, step: 1,
                                  inputmode: "numeric", "data-sk": "spare-ports",
                                  oninput: ev => { this.edit("spare", ev.target.value) } });
        this.legacyHelp = h("span");
        this.spareHelp = h("span");
        this.legacy = select(LEGACY, "lazy", v => this.edit("legacy", v),
                             { "data-sk": "legacy-bridge" });
        const managedId = uid("managed");
        this.managed = h("input", { class: "pf-c-switch__input", type: "checkbox", id: managedId,
                                    "aria-describedby": `${managedId}-help`, "data-sk": "managed-switch",
                                    onchange: ev => this.edit("managed", ev.target.checked) });
        this.managedHelp = h("div", { class: "pf-c-form__helper-text", id: `${managedId}-help` });
        this.saveButton = h("button", { type: "submit", class: "pf-c-button pf-m-secondary", "data-sk": "save-policy" },
                            _("Save policy"));
        this.resetButton = button(_("Reset"), "link", () => { this.editing = false; this.load() });
        this.help = h("div", { class: "pf-c-form__helper-text", "aria-live": "polite" });

        this.element.append(
            h("div", { class: "sk-form-row" },
              formGroup(_("Spare hotplug ports"), this.spare, { helper: this.spareHelp }),
              formGroup(_("Legacy PCI bridge"), this.legacy, {
                  helper: this.legacyHelp,
              })),
            h("div", { class: "pf-c-form__group" },
              h("div", { class: "pf-c-form__group-control" },
                h("label", { class: "pf-c-switch", for: managedId }, this.managed,
                  h("span", { class: "pf-c-switch__toggle" }),
                  h("span", { class: "pf-c-switch__label", text: _("Managed by slotkeeper") })),
                this.managedHelp)),
            h("div", { class: "pf-c-form__group pf-m-action" },
              h("div", { class: "pf-c-form__actions" }, this.saveButton, this.resetButton), this.help),
            this.result);
    }

    setDomain(domain) {
        const changed = !this.domain || !domain || this.domain.path !== domain.path;
        this.domain = domain;
        if (changed) {
            this.editing = false;
            clear(this.result);
        }
        this.load();
    }

    edit(key, value) {
        this.values[key] = value;
        this.editing = true;
        this.sync();
    }

    setAdmin(admin) {
        this.admin = admin;
        this.sync();
    }

    current() {
        return policyValues(this.domain);
    }

    dirty() {
        if (!this.values || !this.domain)
            return false;
        return Object.keys(policyChanges(this.values, this.current())).length > 0;
    }

    /* Shows the domain's policy, unless the user is editing it. */
    load() {
        if (!this.domain)
            return;
        if (!this.values || (!this.editing && !this.busy)) {
            this.values = this.current();
            this.spare.value = this.values.spare;
            this.legacy.value = this.values.legacy;
            this.managed.checked = this.values.managed;
        }
        this.sync();
    }

    sync() {
        if (!this.domain)
            return;
        const d = this.domain;
        const dirty = this.dirty();
        const valid = spareValid(this.values.spare);
        for (const el of [this.spare, this.legacy, this.managed])
            el.disabled = !this.admin || this.busy;
        this.saveButton.disabled = !this.admin || this.busy || !dirty || !valid;
        this.resetButton.disabled = this.busy || !dirty;
        this.spareHelp.textContent = spareHelpText(d);
        const legacy = LEGACY.find(l => l.value === this.values.legacy);
        this.legacyHelp.textContent = (legacy ? legacy.help() + " " : "") +
            _("The chain is a pcie-root-port with a pcie-to-pci-bridge, for rtl8139, e1000 and other conventional PCI devices.");
        this.managedHelp.textContent = !d.Persistent
            ? _("A transient guest has no next-boot definition to keep spares in.")
            : this.values.managed
                ? _("slotkeeper tops up spare ports in the next-boot definition after every change.")
                : _("slotkeeper leaves this guest's definition alone; you can still plan and attach here.");
        this.help.textContent = !this.admin ? _("Changing the policy needs administrative access.")
            : !valid ? _("Spare hotplug ports: a whole number from 0 to 64.") : "";
    }

    save() {
        if (this.saveButton.disabled)
            return;
        const policy = policyChanges(this.values, this.current());
        this.busy = true;
        this.sync();
        clear(this.result);
        this.sk.setPolicy(this.domain.path, policy)
                .then(() => {
                    this.result.append(alert("success", _("Policy saved"),
                                             _("slotkeeper applies it now: the counts above follow."),
                                             { sk: "policy-success" }));
                    this.editing = false;
                })
                .catch(ex => this.result.append(errorAlert(ex, _("Policy not saved"))))
                .finally(() => {
                    this.busy = false;
                    this.load();
                });
    }
}
