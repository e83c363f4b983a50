/* Follows the web console's light/dark theme, as Cockpit 287's own pages do
 * (pkg/lib/cockpit-dark-theme.js): the shell keeps the choice in localStorage "shell:style"
 * ("auto", "light" or "dark"; auto follows the desktop's prefers-color-scheme), tells the
 * frames of a change with a "cockpit-style" event and other windows through the storage event.
 * The page's PatternFly 4 CSS switches to dark with the class pf-theme-dark on <html>.
 *
 * A classic script (not a module) so that it runs before the first paint. */
(function () {
    "use strict";

    const DARK_CLASS = "pf-theme-dark";
    const query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

    function storedStyle() {
        try {
            return window.localStorage.getItem("shell:style");
        } catch (e) {
            return null; /* storage disabled: follow the desktop */
        }
    }

    function apply(style) {
        style = style || storedStyle() || "auto";
        const dark = style === "dark" || (style === "auto" && query !== null && query.matches);
        document.documentElement.classList.toggle(DARK_CLASS, dark);
    }

    window.addEventListener("storage", event => {
        if (event.key === "shell:style")
            apply();
    });
    window.addEventListener("cockpit-style", event => {
        apply(event.detail && event.detail.style);
    });
    if (query !== null)
        query.addEventListener("change", () => apply());
    apply();
}());
