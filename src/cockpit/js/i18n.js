/* The page's words: cockpit.gettext and cockpit.ngettext when the page runs in the web console,
 * the untranslated text where there is no cockpit object (the unit tests under node, see
 * tests/cockpit/unit), and format(), the $0 $1 template rule of cockpit.format. Nothing here
 * touches cockpit or the document when the module is imported, so every module that takes its
 * words from here can be imported by node. */

const host = globalThis.cockpit;

export const _ = host ? host.gettext : text => text;

export const ngettext = host
    ? (one, many, n) => host.ngettext(one, many, n)
    : (one, many, n) => n === 1 ? one : many;

/* format("$0 of $1", a, b): cockpit.format(template, [a, b]) in the web console; the same rule
 * without it ($N is the Nth argument; undefined, null, false and "" give "", 0 stays 0). */
export function format(template, ...args) {
    if (host)
        return host.format(template, args);
    return template.replace(/\$\{([^}]+)\}|\$([a-zA-Z0-9_]+)/g, (m, x, y) => {
        const value = args[x || y];
        return !value && value !== 0 ? "" : String(value);
    });
}
