// Today's checklist, ticked through htmx (templates/recovery/today.html). htmx puts the keyboard's focus back on the
// element with the id of the one focused before the row was swapped: the same action ("Done one more"). When that
// action is gone from the new row (the task now done), the focus would fall to the page's top: it goes to the row's
// count instead, never to another button (a second Enter would take the tick back, or report numbness).
let focusInRow = false;
document.addEventListener("htmx:beforeSwap", (event) => {
  focusInRow = event.detail.target.contains(document.activeElement);
});
document.addEventListener("htmx:afterSwap", (event) => {
  const row = event.target;
  const lost = !document.activeElement || document.activeElement === document.body;
  if (focusInRow && lost && row.matches("li.task")) {
    row.querySelector(".task-count").focus();
  }
});
// A tick that never reached the server (no signal), or that a proxy refused without an answer htmx can swap (a
// 502), changed nothing on the page: the patient believed it saved. The row says so, its buttons left as they were.
// (A refusal by the portal itself reloads the page, which says so at its top: clinic/htmx_reload.py.)
function tickNotSaved(event) {
  const row = event.detail.elt.closest("li.task");
  if (!row) {
    return;
  }
  let note = row.querySelector("[data-tick-failed]");
  if (!note) {
    note = document.createElement("p");
    note.className = "text-danger fw-bold mb-1";
    note.setAttribute("role", "alert");
    note.tabIndex = -1;
    note.dataset.tickFailed = "";
    note.textContent = "Not saved. Check your connection and tap again.";
    row.querySelector(".task-actions").before(note);
  }
  note.focus();
}
document.addEventListener("htmx:sendError", tickNotSaved);
document.addEventListener("htmx:responseError", tickNotSaved);
