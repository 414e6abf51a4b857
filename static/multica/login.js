"use strict";
(function () {
  const errorBox = document.getElementById("login-error");
  const notice = document.getElementById("login-notice");
  const params = new URLSearchParams(window.location.search);
  const cliCallback = params.get("cli_callback");
  const cliState = params.get("cli_state") || "";

  function showError(message) { errorBox.textContent = message; errorBox.hidden = false; }
  function cookie(name) {
    const match = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return match ? decodeURIComponent(match.slice(name.length + 1)) : "";
  }
  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": cookie("multica_csrf") },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || "request failed (" + response.status + ")");
    return data;
  }

  // `multica login` opens /login?cli_callback=http://127.0.0.1:<port>/callback&cli_state=<s>:
  // once signed in, hand a fresh session token to that local callback (loopback only).
  function cliTarget() {
    if (!cliCallback) return null;
    try {
      const url = new URL(cliCallback);
      const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
      return url.protocol === "http:" && loopback ? url : null;
    } catch (err) { return null; }
  }
  async function cliHandoff() {
    const target = cliTarget();
    const data = await post("/api/cli-token", {});
    target.searchParams.set("token", data.token);
    target.searchParams.set("state", cliState);
    window.location.assign(target.toString());
  }

  async function done(form) {
    if (cliTarget()) { await cliHandoff(); return; }
    const next = form.dataset.next || "/";
    window.location.assign(next.startsWith("/") && !next.startsWith("//") ? next : "/");
  }

  if (cliCallback) {
    if (!cliTarget()) showError("The CLI callback must be a loopback http:// address.");
    else {
      notice.textContent = "Log in to connect the multica CLI.";
      notice.hidden = false;
      cliHandoff().catch(() => {}); // already signed in: straight through
    }
  }

  const pw = document.getElementById("password-form");
  pw.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await post("/auth/login", { email: pw.email.value, password: pw.password.value });
      await done(pw);
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
        await done(codeForm);
      }
    } catch (err) { showError(err.message); }
  });
})();
