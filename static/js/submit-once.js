// The front desk's forms are sent once: a double click, or a second press while the first is on its way, would
// enrol the patient and then answer the second with "already has an account", as if it had failed. A page the
// browser's Back button brings back can be sent again.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.method.toLowerCase() !== "post") return;
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "1";
});
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[data-sending]")) delete form.dataset.sending;
});
