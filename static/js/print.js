// The welcome sheet's Print button: it opens the browser's Print for reception, so it is shown only where this
// script runs, in place of the words that say to use Ctrl+P (for a browser without it).
for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
  button.focus(); // Enter prints: the next runner is waiting at the desk
}
for (const hint of document.querySelectorAll("[data-print-hint]")) {
  hint.hidden = true;
}
