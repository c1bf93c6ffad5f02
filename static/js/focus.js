// After a check-in is saved the page comes back with its result (or the stop screen) at the top: the keyboard's
// focus moves there, so a screen reader reads "Call 999…" first, not the menu's eight links again. (Not when the
// form came back with a problem: the focus then stays on the field to correct.) The same for a problem with a
// whole form, such as a wrong password (templates/bootstrap5/errors.html): its words, not the e-mail field.
const result = document.querySelector("[data-focus-on-load]");
if (result) {
  // Its top in view, not its middle: a stop screen taller than a phone at 200% text was centred, its heading and
  // call button above the screen.
  result.focus({ preventScroll: true });
  result.scrollIntoView({ block: "start" });
}
