/* Errors as the service words them: the title names the error in a few words, the body is the
 * service's own message, unchanged (it says what happened and what to do). */

import { _, alert, h } from "./dom.js";

const TITLES = {
    NoFreeSlot: () => _("No free slot"),
    NotAuthorized: () => _("Not authorized"),
    AuthorizationDismissed: () => _("Authentication dismissed"),
    NoSuchDomain: () => _("No such virtual machine"),
    InvalidXml: () => _("The device XML is not well-formed"),
    InvalidDevice: () => _("Not a device slotkeeper can place"),
    InvalidAddress: () => _("The address cannot be used"),
    InvalidArgument: () => _("Invalid request"),
    NotSupported: () => _("Not supported on this machine type"),
    Unavailable: () => _("libvirt is not reachable"),
    DetachPending: () => _("The guest has not released it yet"),
    Failed: () => _("Failed"),
};

export function errorTitle(ex, fallback) {
    const title = TITLES[ex.shortName];
    if (title)
        return title();
    if (ex.problem === "access-denied")
        return _("Not authorized");
    return fallback || _("Failed");
}

export function errorAlert(ex, context) {
    return alert("danger", `${context}: ${errorTitle(ex)}`,
                 [h("p", { class: "sk-error__message", "data-sk": "error-message", text: ex.message }),
                  ex.dbusName ? h("p", { class: "sk-error__name", text: ex.dbusName }) : null],
                 { sk: "error", live: "assertive" });
}
