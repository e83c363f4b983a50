/* The page's only connection to the host: slotkeeperd's D-Bus API (docs/dbus-api.md) on the
 * system bus, through cockpit.dbus. The domain list comes from the service's ObjectManager and
 * stays current through InterfacesAdded/Removed and PropertiesChanged (cockpit's proxies
 * follow them); nothing here polls and nothing talks to libvirt. */

/* global cockpit */

export const BUS_NAME = "org.slotkeeper.SlotKeeper1";
export const MANAGER_PATH = "/org/slotkeeper/SlotKeeper1";
export const MANAGER_IFACE = "org.slotkeeper.SlotKeeper1.Manager";
export const DOMAIN_IFACE = "org.slotkeeper.SlotKeeper1.Domain";
export const ERROR_PREFIX = "org.slotkeeper.SlotKeeper1.Error.";

/* cockpit.dbus hands container variants back as {t, v}: unwraps them, recursively. */
export function unwrap(value) {
    if (Array.isArray(value))
        return value.map(unwrap);
    if (value !== null && typeof value === "object") {
        const keys = Object.keys(value);
        if (keys.length === 2 && "t" in value && "v" in value && typeof value.t === "string")
            return unwrap(value.v);
        const out = {};
        for (const key of keys)
            out[key] = unwrap(value[key]);
        return out;
    }
    return value;
}

/* Options a{sv} from plain values: booleans as b, strings as s, numbers as u. */
export function variants(obj) {
    const out = {};
    for (const [key, value] of Object.entries(obj)) {
        if (value === undefined)
            continue;
        if (typeof value === "boolean")
            out[key] = cockpit.variant("b", value);
        else if (typeof value === "number")
            out[key] = cockpit.variant("u", value);
        else
            out[key] = cockpit.variant("s", String(value));
    }
    return out;
}

/* A failed call as the page shows it: the service's error name (short and full) and message. */
export class CallError extends Error {
    constructor(ex) {
        const name = ex && ex.name ? String(ex.name) : "";
        super(ex && ex.message ? String(ex.message) : String(ex));
        this.dbusName = name;
        this.shortName = name.startsWith(ERROR_PREFIX) ? name.slice(ERROR_PREFIX.length) : name;
        this.problem = ex && ex.problem ? ex.problem : null;
    }
}

export class SlotKeeper extends EventTarget {
    constructor() {
        super();
        /* superuser "try": with administrative access unlocked the calls go through the root
         * bridge (polkit then allows them); without it through the user's own bridge, where
         * reads work and changes are refused by polkit. */
        this.client = cockpit.dbus(BUS_NAME, { bus: "system", superuser: "try" });
        this.owner = undefined; /* undefined: not known yet; null: no service */
        this.closed = null;

        this.client.addEventListener("owner", (event, owner) => {
            const restarted = this.owner && owner && owner !== this.owner;
            this.owner = owner;
            this.dispatchEvent(new CustomEvent("owner", { detail: { owner, restarted } }));
        });
        this.client.addEventListener("close", (event, options) => {
            this.closed = options || { problem: "disconnected" };
            this.dispatchEvent(new CustomEvent("close", { detail: this.closed }));
        });

        this.manager = this.client.proxy(MANAGER_IFACE, MANAGER_PATH);
        this.manager.addEventListener("changed", () => this.dispatchEvent(new Event("manager")));

        this.domains = this.client.proxies(DOMAIN_IFACE, MANAGER_PATH);
        for (const what of ["added", "changed", "removed"]) {
            this.domains.addEventListener(what, (event, proxy) => {
                this.dispatchEvent(new CustomEvent("domain", { detail: { what, path: proxy.path } }));
            });
        }
        this.domains.wait(() => this.dispatchEvent(new Event("domains-ready")));

        this.client.subscribe({ path: MANAGER_PATH, interface: MANAGER_IFACE, member: "Event" },
                              (path, iface, member, args) => {
                                  const [kind, details] = args;
                                  this.dispatchEvent(new CustomEvent("service-event", {
                                      detail: { kind, details: unwrap(details), time: new Date() },
                                  }));
                              });
    }

    /* Every Domain object, by path: {path, Name, State, ...} (a snapshot). */
    domainList() {
        const out = [];
        for (const [path, proxy] of Object.entries(this.domains)) {
            if (!proxy || !proxy.valid || proxy.Name === undefined)
                continue;
            out.push(snapshot(path, proxy));
        }
        out.sort((a, b) => a.Name.localeCompare(b.Name));
        return out;
    }

    domain(path) {
        const proxy = this.domains[path];
        return proxy && proxy.valid && proxy.Name !== undefined ? snapshot(path, proxy) : null;
    }

    call(path, iface, method, signature, args) {
        return new Promise((resolve, reject) => {
            this.client.call(path, iface, method, args, { type: signature })
                    .then(reply => resolve(unwrap(reply)))
                    .catch(ex => reject(new CallError(ex)));
        });
    }

    plan(path, xml, options) {
        return this.call(path, DOMAIN_IFACE, "Plan", "sa{sv}", [xml, variants(options)])
                .then(([plan]) => plan);
    }

    attach(path, xml, options) {
        return this.call(path, DOMAIN_IFACE, "AttachDevice", "sa{sv}", [xml, variants(options)])
                .then(([deviceXml, address]) => ({ deviceXml, address }));
    }

    detach(path, xml, options) {
        return this.call(path, DOMAIN_IFACE, "DetachDevice", "sa{sv}", [xml, variants(options)]);
    }

    slots(path, inactive) {
        return this.call(path, DOMAIN_IFACE, "GetSlots", "a{sv}", [variants({ inactive })])
                .then(([buses]) => buses);
    }

    setPolicy(path, policy) {
        return this.call(path, DOMAIN_IFACE, "SetPolicy", "a{sv}a{sv}", [variants(policy), {}]);
    }
}

const PROPERTIES = ["Name", "UUID", "State", "Arch", "Machine", "Persistent", "Active", "Managed",
    "SparePorts", "LegacyBridge", "FreeHotplugSlots", "FreeHotplugSlotsNextBoot", "LegacyChain",
    "RestartPending"];

function snapshot(path, proxy) {
    const out = { path };
    for (const name of PROPERTIES)
        out[name] = unwrap(proxy[name]);
    /* Services older than API 0.2 have no Active: derive it as the API documents it. */
    if (out.Active === undefined)
        out.Active = out.State !== "shut-off";
    out.FreeHotplugSlots = out.FreeHotplugSlots || {};
    out.FreeHotplugSlotsNextBoot = out.FreeHotplugSlotsNextBoot || {};
    return out;
}
