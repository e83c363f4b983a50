/* Small DOM helpers: element builders (no innerHTML anywhere: every text goes in as text),
 * the PatternFly pieces the page repeats (alerts, labels, form groups) and a few icons drawn
 * here (PatternFly 4's own icons come with its React package, which the page does not use). */

import { _, format } from "./i18n.js";

/* The words, for the modules that build elements: from i18n.js, which the unit tests import too. */
export { _, format };

const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, attrs, children) {
    for (const [key, value] of Object.entries(attrs || {})) {
        if (value === undefined || value === null || value === false)
            continue;
        if (key === "text")
            el.textContent = value;
        else if (key === "class")
            el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
        else if (key.startsWith("on") && typeof value === "function")
            el.addEventListener(key.slice(2), value);
        else if (key === "style")
            throw new Error("inline styles are forbidden by Cockpit's CSP: use a class");
        else if (key === "value" && "value" in el)
            el.value = value;
        else if (key === "checked" || key === "disabled" || key === "selected")
            el[key] = Boolean(value);
        else
            el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
        if (child === undefined || child === null || child === false)
            continue;
        el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
}

/* h("div", {class: "x", onclick: f}, child, "text", [more]) */
export function h(tag, attrs, ...children) {
    return build(document.createElement(tag), attrs, children);
}

/* The same for SVG elements. */
export function s(tag, attrs, ...children) {
    return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(el) {
    while (el.firstChild)
        el.firstChild.remove();
    return el;
}

let idCounter = 0;
export function uid(prefix) {
    idCounter += 1;
    return `${prefix || "sk"}-${idCounter}`;
}

/* Icons, 16x16, in currentColor; aria-hidden (the text next to them says it). */
export function icon(name, extraClass) {
    const svg = s("svg", {
        class: ["sk-icon", extraClass], viewBox: "0 0 16 16", width: "1em", height: "1em",
        "aria-hidden": "true", focusable: "false",
    });
    const inner = "sk-icon__inner";
    switch (name) {
    case "success":
        svg.append(s("circle", { cx: 8, cy: 8, r: 8 }),
                   s("path", { class: inner, d: "M4.2 8.3l2.5 2.5 5-5.2" }));
        break;
    case "warning":
        svg.append(s("path", { d: "M8 .8L15.6 15H.4z" }),
                   s("path", { class: inner, d: "M8 5.6v4.6M8 11.9v1.2" }));
        break;
    case "danger":
        svg.append(s("circle", { cx: 8, cy: 8, r: 8 }),
                   s("path", { class: inner, d: "M8 3.8v5.4M8 11v1.4" }));
        break;
    case "info":
        svg.append(s("circle", { cx: 8, cy: 8, r: 8 }),
                   s("path", { class: inner, d: "M8 7v5.2M8 3.8v1.4" }));
        break;
    case "lock":
        svg.append(s("rect", { x: 2.5, y: 7, width: 11, height: 8.5, rx: 1.2 }),
                   s("path", { class: "sk-icon__stroke", d: "M5 7V4.8a3 3 0 0 1 6 0V7" }));
        break;
    default:
        throw new Error(`no icon ${name}`);
    }
    return svg;
}

/* A PatternFly alert. variant: success, warning, danger, info; body: nodes or text. */
export function alert(variant, title, body, opts) {
    const o = opts || {};
    const screenReader = { success: _("Success alert:"), warning: _("Warning alert:"),
                           danger: _("Danger alert:"), info: _("Info alert:") }[variant];
    return h("div", {
        class: ["pf-c-alert", `pf-m-${variant}`, o.inline !== false && "pf-m-inline",
                o.plain && "pf-m-plain", o.class],
        "aria-label": o.label,
        role: o.role,
        "aria-live": o.live,
        "data-sk": o.sk,
    },
    h("div", { class: "pf-c-alert__icon" }, icon(variant)),
    h("p", { class: "pf-c-alert__title" },
      h("span", { class: "pf-screen-reader", text: screenReader }), title),
    body !== undefined && body !== null && body !== "" &&
        h("div", { class: "pf-c-alert__description" }, body));
}

/* A PatternFly label (a small colored tag). */
export function label(text, color, opts) {
    const o = opts || {};
    return h("span", {
        class: ["pf-c-label", color && `pf-m-${color}`, o.outline && "pf-m-outline",
                "pf-m-compact", o.class],
        title: o.title,
        "data-sk": o.sk,
    }, h("span", { class: "pf-c-label__content" }, o.icon ? icon(o.icon, "pf-c-label__icon") : null,
         text));
}

/* A form group: label above a control, optional helper text below. */
export function formGroup(labelText, control, opts) {
    const o = opts || {};
    const id = control.id || uid("ctl");
    control.id = id;
    const helperId = o.helper ? `${id}-helper` : undefined;
    if (helperId)
        control.setAttribute("aria-describedby", helperId);
    return h("div", { class: ["pf-c-form__group", o.class], "data-sk": o.sk },
             h("div", { class: "pf-c-form__group-label" },
               h("label", { class: "pf-c-form__label", for: id },
                 h("span", { class: "pf-c-form__label-text", text: labelText }))),
             h("div", { class: "pf-c-form__group-control" }, control,
               o.helper
                   ? h("div", { class: "pf-c-form__helper-text", id: helperId, "aria-live": "polite" },
                       o.helper)
                   : null));
}

/* A group of radio buttons sharing @name: options [{value, label, description}]. */
export function radioGroup(legend, name, options, selected, onchange) {
    const inputs = [];
    const group = h("fieldset", { class: "pf-c-form__group sk-fieldset" },
                    h("legend", { class: "pf-c-form__group-label" },
                      h("span", { class: "pf-c-form__label" },
                        h("span", { class: "pf-c-form__label-text", text: legend }))),
                    h("div", { class: "pf-c-form__group-control" },
                      options.map(opt => {
                          const id = uid(name);
                          const input = h("input", {
                              class: "pf-c-radio__input", type: "radio", name, id, value: opt.value,
                              checked: opt.value === selected,
                              onchange: () => onchange(opt.value),
                          });
                          inputs.push(input);
                          return h("div", { class: "pf-c-radio" }, input,
                                   h("label", { class: "pf-c-radio__label", for: id, text: opt.label }),
                                   opt.description
                                       ? h("span", { class: "pf-c-radio__description", text: opt.description })
                                       : null);
                      })));
    return { element: group, inputs };
}

/* <select class="pf-c-form-control"> from [{value, label}] */
export function select(options, selected, onchange, attrs) {
    return h("select", { class: "pf-c-form-control", ...attrs, onchange: ev => onchange(ev.target.value) },
             options.map(opt => h("option", { value: opt.value, selected: opt.value === selected,
                                              text: opt.label })));
}

export function button(text, variant, onclick, attrs) {
    return h("button", { type: "button", class: ["pf-c-button", `pf-m-${variant}`], onclick, ...attrs },
             text);
}

export function spinner(labelText) {
    return s("svg", { class: "pf-c-spinner pf-m-md", role: "progressbar", viewBox: "0 0 100 100",
                      "aria-valuetext": labelText, "aria-label": labelText },
             s("circle", { class: "pf-c-spinner__path", cx: 50, cy: 50, r: 45, fill: "none" }));
}

/* Escapes text for an XML attribute value or element content. */
export function xmlEscape(text) {
    return String(text).replace(/[&<>"']/g, c => ({
        "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;",
    })[c]);
}
