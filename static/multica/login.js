"use strict";
(function () {
  const errorBox = document.getElementById("login-error");
  function showError(message) { errorBox.textContent = message; errorBox.hidden = false; }
  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || "request failed (" + response.status + ")");
    return data;
  }
  function done(form) {
    const next = form.dataset.next || "/";
    window.location.assign(next.startsWith("/") && !next.startsWith("//") ? next : "/");
  }
  const pw = document.getElementById("password-form");
  pw.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await post("/auth/login", { email: pw.email.value, password: pw.password.value });
      done(pw);
    } catch (err) { showError(err.message); }
  });
  const codeForm = document.getElementById("code-form");
  const step = document.getElementById("code-step");
  codeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      if (step.hidden) {
        await post("/auth/send-code", { email: codeForm.email.value });
        step.hidden = false;
        document.getElementById("code-submit").textContent = "Verify code";
        document.getElementById("code-value").focus();
      } else {
        await post("/auth/verify-code", { email: codeForm.email.value, code: codeForm.code.value });
        done(codeForm);
      }
    } catch (err) { showError(err.message); }
  });
})();
