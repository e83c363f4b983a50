/* The attach form: a NIC, a virtio disk from an existing image, or raw device XML; where it
 * goes (running guest and/or next boot) and whether it must stay hot-unpluggable. It always
 * shows the service's plan first (Plan, which changes nothing), then attaches
 * (AttachDevice) with exactly the options that were planned. */

import { _, alert, button, format, formGroup, h, radioGroup, select, spinner, uid, xmlEscape, clear }
    from "./dom.js";
import { errorAlert, errorTitle } from "./errors.js";
import { ERROR_PREFIX } from "./dbus.js";

const NIC_MODELS = [
    { value: "virtio", label: _("virtio (PCI Express)") },
    { value: "e1000e", label: _("e1000e (PCI Express)") },
    { value: "e1000", label: _("e1000 (conventional PCI)") },
    { value: "rtl8139", label: _("rtl8139 (conventional PCI)") },
    { value: "virtio-transitional", label: _("virtio-transitional (conventional PCI)") },
];

const NIC_SOURCES = [
    { value: "user", label: _("User-mode networking") },
    { value: "network", label: _("Virtual network") },
    { value: "bridge", label: _("Host bridge") },
];

export const SCOPES = {
    both: { live: true, config: true },
    live: { live: true },
    config: { config: true },
};

/* The device XML of the form's NIC ({model, source: user|network|bridge, name, mac}) and disk
 * ({path, format, target}); every value escaped. */
export function nicXml(nic) {
    const type = nic.source;
    const source = type === "network" ? `<source network='${xmlEscape(nic.name)}'/>`
        : type === "bridge" ? `<source bridge='${xmlEscape(nic.name)}'/>` : "";
    const mac = nic.mac.trim() ? `<mac address='${xmlEscape(nic.mac.trim().toLowerCase())}'/>` : "";
    return `<interface type='${type}'>${mac}${source}<model type='${xmlEscape(nic.model)}'/></interface>`;
}

export function diskXml(disk) {
    return "<disk type='file' device='disk'>" +
        `<driver name='qemu' type='${xmlEscape(disk.format)}'/>` +
        `<source file='${xmlEscape(disk.path.trim())}'/>` +
        `<target dev='${xmlEscape(disk.target.trim())}' bus='virtio'/>` +
        "</disk>";
}

/* The first vdX that no disk of @targets uses. */
export function freeTarget(targets) {
    const used = new Set(targets);
    for (let i = 0; i < 26; i++) {
        const name = "vd" + String.fromCharCode(97 + i);
        if (!used.has(name))
            return name;
    }
    return "";
}

/* What the form asks for, from its inputs {kind: nic|disk|xml, nic, disk, xml, scope,
 * hotplugRequire}: {xml, options} for Plan and AttachDevice, or {error} saying what is missing
 * or wrong. */
export function deviceRequest(form) {
    let xml;
    if (form.kind === "nic") {
        if (form.nic.source !== "user" && !form.nic.name.trim())
            return { error: _("Name the virtual network or bridge.") };
        if (form.nic.mac.trim() && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(form.nic.mac.trim()))
            return { error: _("The MAC address must look like 52:54:00:12:34:56.") };
        xml = nicXml(form.nic);
    } else if (form.kind === "disk") {
        if (!form.disk.path.trim().startsWith("/"))
            return { error: _("Give the absolute path of an existing disk image on the host.") };
        if (!/^vd[a-z]+$/.test(form.disk.target.trim()))
            return { error: _("The target must be a virtio disk name such as vdb.") };
        xml = diskXml(form.disk);
    } else {
        if (!form.xml.trim())
            return { error: _("Paste the device XML, e.g. <interface type='user'><model type='virtio'/></interface>.") };
        xml = form.xml.trim();
    }
    const options = { ...SCOPES[form.scope] };
    if (form.scope !== "live")
        options["hotplug-require"] = form.hotplugRequire ? "yes" : "no";
    return { xml, options };
}

/* The scopes (keys of SCOPES) a domain allows, the default first: a running persistent guest
 * all three, a transient one only live, a shut-off one (or none selected) only config. */
export function allowedScopes(d) {
    if (!d)
        return ["config"];
    if (d.Active && d.Persistent)
        return ["both", "live", "config"];
    if (d.Active)
        return ["live"];
    return ["config"];
}

export class AttachForm {
    constructor(sk) {
        this.sk = sk;
        this.domain = null;
        this.admin = false;
        this.kind = "nic";
        this.nic = { model: "virtio", source: "user", name: "default", mac: "" };
        this.disk = { path: "", format: "raw", target: "" };
        this.xml = "";
        this.scope = "both";
        this.hotplugRequire = true;
        this.plan = null; /* {key, result} */
        this.busy = false;
        this.targets = [];
        this.element = h("form", { class: "pf-c-form sk-attach", "data-sk": "attach-form",
                                   novalidate: true, onsubmit: ev => ev.preventDefault() });
        this.result = h("div", { class: "sk-attach__result", "aria-live": "polite", "data-sk": "attach-result" });
        this.build();
    }

    /* The current request: {xml, options, error}; error when the inputs are incomplete. */
    request() {
        return deviceRequest(this);
    }

    key() {
        const r = this.request();
        return r.error ? null : JSON.stringify([this.domain && this.domain.path, r.xml, r.options]);
    }

    setDomain(domain, targets) {
        const changed = !this.domain || !domain || this.domain.path !== domain.path;
        this.domain = domain;
        if (targets)
            this.targets = targets;
        if (changed) {
            this.plan = null;
            clear(this.result);
            this.disk.target = freeTarget(this.targets);
            this.buildSection();
        }
        const allowed = this.allowedScopes();
        if (!allowed.includes(this.scope)) {
            this.scope = allowed[0];
            this.plan = null;
        }
        this.syncScope();
    }

    setTargets(targets) {
        this.targets = targets;
        if (!this.disk.target || targets.includes(this.disk.target)) {
            this.disk.target = freeTarget(targets);
            if (this.targetInput)
                this.targetInput.value = this.disk.target;
        }
    }

    setAdmin(admin) {
        this.admin = admin;
        this.updateButtons();
    }

    allowedScopes() {
        return allowedScopes(this.domain);
    }

    invalidate() {
        this.plan = null;
        this.updateButtons();
    }

    /* The skeleton, built once: inputs are updated in place afterwards, so that focus stays
     * where the keyboard put it. */
    build() {
        const form = this.element;
        const kind = radioGroup(_("Device"), uid("kind"), [
            { value: "nic", label: _("Network interface") },
            { value: "disk", label: _("Disk (virtio, existing image)") },
            { value: "xml", label: _("Device XML") },
        ], this.kind, value => {
            this.kind = value;
            this.invalidate();
            this.buildSection();
        });
        kind.element.classList.add("sk-inline-radios");
        kind.element.setAttribute("data-sk", "device-kind");
        this.section = h("div", { class: "sk-attach__section" });

        const scope = radioGroup(_("Apply to"), uid("scope"), [
            { value: "both", label: _("Running guest and next boot"),
              description: _("same address in both (virsh --live --config)") },
            { value: "live", label: _("Running guest only") },
            { value: "config", label: _("Next boot only") },
        ], this.scope, value => {
            this.scope = value;
            this.invalidate();
            this.syncScope();
        });
        scope.element.setAttribute("data-sk", "scope");
        this.scopeInputs = scope.inputs;
        this.scopeHelp = h("div", { class: "pf-c-form__helper-text", "aria-live": "polite" });
        scope.element.querySelector(".pf-c-form__group-control").append(this.scopeHelp);

        const hotplugId = uid("hotplug");
        this.hotplugInput = h("input", {
            class: "pf-c-check__input", type: "checkbox", id: hotplugId, checked: this.hotplugRequire,
            "aria-describedby": `${hotplugId}-help`, "data-sk": "hotplug-require",
            onchange: ev => { this.hotplugRequire = ev.target.checked; this.invalidate() },
        });
        this.hotplugHelp = h("span", { class: "pf-c-check__description", id: `${hotplugId}-help` });

        this.planButton = button(_("Show plan"), "secondary", () => this.doPlan(), { "data-sk": "plan" });
        this.attachButton = button(_("Attach"), "primary", () => this.doAttach(), { "data-sk": "attach" });
        this.actionHelp = h("div", { class: "pf-c-form__helper-text sk-action-help", "aria-live": "polite",
                                     "data-sk": "attach-help" });
        form.append(kind.element, this.section, scope.element,
                    h("div", { class: "pf-c-form__group" },
                      h("div", { class: "pf-c-form__group-control" },
                        h("div", { class: "pf-c-check" }, this.hotplugInput,
                          h("label", { class: "pf-c-check__label", for: hotplugId,
                                       text: _("Keep it hot-unpluggable (hotplug-require=yes)") }),
                          this.hotplugHelp))),
                    h("div", { class: "pf-c-form__group pf-m-action" },
                      h("div", { class: "pf-c-form__actions" }, this.planButton, this.attachButton),
                      this.actionHelp),
                    this.result);
        this.buildSection();
        this.syncScope();
    }

    /* The fields of the chosen kind of device. */
    buildSection() {
        const section = clear(this.section);
        this.targetInput = null;
        if (this.kind === "nic") {
            const nameLabel = h("span", { class: "pf-c-form__label-text" });
            const name = h("input", {
                class: "pf-c-form-control", type: "text", value: this.nic.name, "data-sk": "nic-name",
                oninput: ev => { this.nic.name = ev.target.value; this.invalidate() },
            });
            const syncSource = () => {
                name.disabled = this.nic.source === "user";
                nameLabel.textContent = this.nic.source === "bridge" ? _("Bridge name") : _("Network name");
            };
            const nameGroup = formGroup("", name);
            nameGroup.querySelector(".pf-c-form__label-text").replaceWith(nameLabel);
            section.append(
                formGroup(_("Model"), select(NIC_MODELS, this.nic.model, v => {
                    this.nic.model = v;
                    this.invalidate();
                }, { "data-sk": "nic-model" }), {
                    helper: _("PCI Express models go into a root port; conventional PCI models need a pcie-to-pci-bridge slot."),
                }),
                h("div", { class: "sk-form-row" },
                  formGroup(_("Connection"), select(NIC_SOURCES, this.nic.source, v => {
                      this.nic.source = v;
                      syncSource();
                      this.invalidate();
                  }, { "data-sk": "nic-source" })),
                  nameGroup),
                formGroup(_("MAC address (optional)"), h("input", {
                    class: "pf-c-form-control", type: "text", value: this.nic.mac, placeholder: _("chosen by libvirt"),
                    autocomplete: "off", spellcheck: "false", "data-sk": "nic-mac",
                    oninput: ev => { this.nic.mac = ev.target.value; this.invalidate() },
                })));
            syncSource();
        } else if (this.kind === "disk") {
            this.targetInput = h("input", {
                class: "pf-c-form-control", type: "text", value: this.disk.target, "data-sk": "disk-target",
                oninput: ev => { this.disk.target = ev.target.value; this.invalidate() },
            });
            section.append(
                formGroup(_("Image path on the host"), h("input", {
                    class: "pf-c-form-control", type: "text", value: this.disk.path,
                    placeholder: "/var/lib/libvirt/images/data.qcow2", spellcheck: "false", "data-sk": "disk-path",
                    oninput: ev => { this.disk.path = ev.target.value; this.invalidate() },
                }), { helper: _("An existing file that the QEMU user can read and write; it is not created.") }),
                h("div", { class: "sk-form-row" },
                  formGroup(_("Format"), select([{ value: "raw", label: "raw" }, { value: "qcow2", label: "qcow2" }],
                                                this.disk.format, v => { this.disk.format = v; this.invalidate() })),
                  formGroup(_("Target"), this.targetInput)));
        } else {
            section.append(formGroup(_("Device XML"), h("textarea", {
                class: "pf-c-form-control sk-xml-input", rows: 5, spellcheck: "false", "data-sk": "device-xml",
                placeholder: "<interface type='user'><model type='virtio'/></interface>",
                oninput: ev => { this.xml = ev.target.value; this.invalidate() },
            }, this.xml), { helper: _("One libvirt device element: <interface>, <disk>, <hostdev>, … Leave out <address>: slotkeeper picks it.") }));
        }
        this.updateButtons();
    }

    /* Which scopes the guest allows, and the hotplug requirement that goes with the scope. */
    syncScope() {
        if (!this.scopeInputs)
            return;
        const allowed = this.allowedScopes();
        for (const input of this.scopeInputs) {
            input.disabled = !allowed.includes(input.value);
            input.checked = input.value === this.scope;
        }
        this.scopeHelp.textContent = this.domain && !this.domain.Active
            ? _("The guest is shut off: only its next boot can change.")
            : this.domain && !this.domain.Persistent ? _("A transient guest has no next-boot definition.") : "";
        this.hotplugInput.disabled = this.scope === "live";
        this.hotplugHelp.textContent = this.scope === "live"
            ? _("A live attach always uses a hotplug-capable slot.")
            : _("Unchecked: the next boot puts it on pcie-root as an integrated device, which needs no port or bridge but cannot be unplugged while the guest runs.");
        this.updateButtons();
    }

    updateButtons() {
        if (!this.attachButton)
            return;
        const r = this.request();
        const planned = this.plan && this.plan.key === this.key();
        const planOk = planned && this.plan.result && this.plan.result.ok;
        this.planButton.disabled = this.busy || Boolean(r.error) || !this.domain;
        this.attachButton.disabled = this.busy || !planned || !this.admin;
        this.attachButton.textContent = planned && !planOk ? _("Attach anyway") : _("Attach");
        this.attachButton.classList.toggle("pf-m-primary", !planned || planOk);
        this.attachButton.classList.toggle("pf-m-danger", Boolean(planned && !planOk));
        let help;
        if (r.error)
            help = r.error;
        else if (!this.admin)
            help = _("Attaching needs administrative access. The plan works without it.");
        else if (!planned)
            help = _("Show the plan first: it says where the device goes and why, and changes nothing.");
        else if (!planOk)
            help = _("slotkeeper will refuse as the plan says; for a running guest it may prepare the next cold boot (the controllers listed).");
        else
            help = "";
        this.actionHelp.textContent = help;
    }

    setBusy(busy, which) {
        this.busy = busy;
        for (const b of [this.planButton, this.attachButton]) {
            const old = b.querySelector(".pf-c-button__progress");
            if (old)
                old.remove();
            b.classList.remove("pf-m-progress", "pf-m-in-progress");
        }
        if (busy) {
            which.classList.add("pf-m-progress", "pf-m-in-progress");
            which.prepend(h("span", { class: "pf-c-button__progress" }, spinner(_("Working"))));
        }
        this.updateButtons();
    }

    doPlan() {
        const r = this.request();
        if (r.error || !this.domain)
            return;
        const key = this.key();
        this.setBusy(true, this.planButton);
        clear(this.result);
        this.sk.plan(this.domain.path, r.xml, r.options)
                .then(result => {
                    this.plan = { key, result };
                    this.result.append(planView(result, r.options, this.domain));
                })
                .catch(ex => {
                    this.plan = null;
                    this.result.append(errorAlert(ex, _("The service could not plan this")));
                })
                .finally(() => this.setBusy(false));
    }

    doAttach() {
        const r = this.request();
        if (r.error || !this.plan || this.plan.key !== this.key())
            return;
        this.setBusy(true, this.attachButton);
        const planned = this.result.querySelector("[data-sk=plan-result]");
        this.sk.attach(this.domain.path, r.xml, r.options)
                .then(({ deviceXml, address }) => {
                    clear(this.result);
                    if (planned)
                        this.result.append(planned);
                    this.result.append(alert("success", format(_("Attached at $0"), address),
                                             h("details", { class: "sk-details" },
                                               h("summary", { text: _("Device XML given to libvirt") }),
                                               h("pre", { class: "sk-pre", text: deviceXml })),
                                             { sk: "attach-success", live: "polite" }));
                    this.plan = null;
                    if (this.kind === "nic" && this.nic.mac) {
                        this.nic.mac = "";
                        this.buildSection();
                    }
                })
                .catch(ex => {
                    this.result.append(errorAlert(ex, _("Not attached")));
                    this.plan = null;
                })
                .finally(() => this.setBusy(false));
    }
}

const EFFECT = {
    now: () => _("The running guest gets it now."),
    "next-boot": () => _("It is added to the next-boot definition."),
    none: () => _("Nothing would change."),
};

/* The words of a plan (what Plan returned, for the request's @options, on @domain):
 * {title, effect (null for a refusal), controllersIntro (null without controllers),
 * controllers: one line each}. */
export function planText(plan, options, domain) {
    const controllers = plan.controllers || [];
    let effect = null;
    if (plan.ok) {
        effect = EFFECT[plan.effect] ? EFFECT[plan.effect]() : plan.effect;
        if (options.live && options.config && plan.effect === "now")
            effect = format(_("$0 The next boot has it at the same address."), effect);
    }
    let controllersIntro = null;
    if (controllers.length > 0) {
        if (plan.ok)
            controllersIntro = _("slotkeeper adds these controllers to the next-boot definition:");
        else if (domain && domain.Managed)
            controllersIntro = _("Attaching anyway makes slotkeeper add these controllers to the next-boot definition, usable after a cold boot:");
        else
            controllersIntro = _("The next-boot definition would need these controllers (slotkeeper adds them on its own only to managed guests):");
    }
    const title = plan.ok
        ? format(_("Plan: attach at $0"), plan.address)
        : format(_("Plan: refused ($0)"), errorTitle({ shortName: (plan.error || "").replace(ERROR_PREFIX, "") },
                                                     _("refused")));
    return {
        title, effect, controllersIntro,
        controllers: controllers.map(c => format(_("$0 (bus $1) at $2: $3"), c.model, c.index, c.address, c.purpose)),
    };
}

/* The plan as the service explains it. */
export function planView(plan, options, domain) {
    const words = planText(plan, options, domain);
    const reasons = plan.reasons || [];
    const body = [];
    if (plan.device)
        body.push(h("p", { class: "sk-plan__device" }, _("Device: "), h("strong", { text: plan.device })));
    if (!plan.ok) {
        body.push(h("p", { class: "sk-plan__message", "data-sk": "plan-message", text: plan.message }));
        if (plan.remedy)
            body.push(h("p", { class: "sk-plan__remedy", "data-sk": "plan-remedy" },
                        h("strong", { text: _("What you can do: ") }), plan.remedy));
    } else {
        body.push(h("p", { text: words.effect }));
    }
    if (words.controllersIntro) {
        body.push(h("p", { class: "sk-plan__subtitle", text: words.controllersIntro }),
                  h("ul", { class: "pf-c-list sk-plan__list", "data-sk": "plan-controllers" },
                    words.controllers.map(text => h("li", { text }))));
    }
    if (reasons.length > 0) {
        body.push(h("p", { class: "sk-plan__subtitle", text: _("Why:") }),
                  h("ul", { class: "pf-c-list sk-plan__list", "data-sk": "plan-reasons" },
                    reasons.map(text => h("li", { text }))));
    }
    return alert(plan.ok ? "info" : "warning", words.title, body,
                 { sk: "plan-result", class: "sk-plan", live: "polite" });
}
