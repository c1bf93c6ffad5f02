// Typing in a form sends nothing to the server, so a clinician writing a long tip, or a receptionist on the phone
// over an enrolment, was signed out after 30 minutes without a request and lost what they had typed. While someone
// types, this tells the server every few minutes that they are still here (accounts.views.still_here); a page left
// alone is still signed out on time, and whoever starts typing on it again is told at once, before they press Save.
(() => {
  const url = document.currentScript.dataset.url;
  const everyMs = 4 * 60 * 1000;
  let last = Date.now(); // the page's own request counted
  let warned = false;
  document.addEventListener("input", (event) => {
    const form = event.target.form;
    const token = form?.querySelector("input[name=csrfmiddlewaretoken]");
    if (!token || warned || Date.now() - last < everyMs) {
      return;
    }
    last = Date.now();
    fetch(url, { method: "POST", headers: { "X-CSRFToken": token.value }, credentials: "same-origin" }).then(
      (response) => {
        // 401: signed out; 403: the page's security token is stale (signed in again since, in another tab).
        if ((response.status === 401 || response.status === 403) && !warned) {
          warned = true;
          const note = document.createElement("p");
          note.className = "errornote alert alert-danger";
          note.setAttribute("role", "alert");
          note.dataset.signedOut = "";
          note.textContent =
            "This page can no longer save: you have been signed out (after a while without activity, or " +
            "elsewhere). Copy what you typed, sign in again in another tab, and paste it there.";
          form.prepend(note);
        }
      },
    );
  });
})();
