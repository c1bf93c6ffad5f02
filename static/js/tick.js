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
