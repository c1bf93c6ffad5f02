// Typing in a form sends nothing to the server, so a clinician writing a long tip, or a receptionist on the phone
// over an enrolment, was signed out after 30 minutes without a request and lost what they had typed. While someone
// types, this tells the server every few minutes that they are still here (accounts.views.still_here); a page left
// alone is still signed out on time.
(() => {
  const url = document.currentScript.dataset.url;
  const everyMs = 4 * 60 * 1000;
  let last = Date.now(); // the page's own request counted
  document.addEventListener("input", (event) => {
    const token = event.target.form?.querySelector("input[name=csrfmiddlewaretoken]");
    if (!token || Date.now() - last < everyMs) {
      return;
    }
    last = Date.now();
    fetch(url, { method: "POST", headers: { "X-CSRFToken": token.value }, credentials: "same-origin" });
  });
})();
