// The welcome sheet's Print button: it opens the browser's Print for reception, so it is shown only where this
// script runs (without it, the page says to use Ctrl+P).
for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
