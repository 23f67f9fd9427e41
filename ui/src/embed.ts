/**
 * /ui/embed's page: submits its form at once, so that the embedded session starts with a POST from
 * Hookline's own page, never with the GET that loaded it (a script file: the CSP allows no inline script).
 */
document.querySelector("form")?.requestSubmit();
