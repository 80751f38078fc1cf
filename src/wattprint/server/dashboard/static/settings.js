/* Settings: this browser's token, and (with an admin token) the server's tokens: list, create, revoke. */
"use strict";
(async () => {
  const { request, el, fill, table, when, token, setToken, promptForToken } = WP;
  const current = token();
  document.getElementById("token-state").textContent = current
    ? `This browser sends token ${current.slice(3, 15)} (kept in ${localStorage.getItem("wattprint.token") ? "local storage" : "this tab's session storage"}).`
    : "This browser sends no token: on the server's own machine (loopback) none is needed to read runs; managing tokens needs an admin token.";
  document.getElementById("token-change").addEventListener("click", () => promptForToken("Enter a token for this browser."));
  document.getElementById("token-forget").addEventListener("click", () => { setToken(null); location.reload(); });
  const error = (e) => { const box = document.getElementById("tokens-error"); box.textContent = e.message; box.hidden = false; };

  async function list() {
    const found = await request("/tokens", { prompt: false });
    fill("tokens", table([
      { label: "id", cell: (t) => el("code", { text: t.token_id }) }, { label: "name", cell: (t) => t.name },
      { label: "scope", cell: (t) => t.scope }, { label: "project", cell: (t) => t.project || "–" },
      { label: "created", cell: (t) => when(t.created_at) }, { label: "last used", cell: (t) => when(t.last_used_at) },
      { label: "", cell: (t) => t.revoked_at ? el("span", { class: "hint", text: "revoked " + when(t.revoked_at) })
        : el("button", { class: "small danger", "data-revoke": t.token_id, onclick: async () => {
          if (!confirm(`Revoke token ${t.token_id}? Clients using it are refused at once.`)) return;
          try { await request("/tokens/" + t.token_id, { method: "DELETE", prompt: false }); await list(); } catch (e) { error(e); }
        } }, "Revoke") },
    ], found.items));
  }
  if (!current) {
    fill("tokens", el("p", { class: "empty", text: "Enter an admin token (above) to list, create and revoke tokens." }));
    document.querySelector("#token-create button").disabled = true;
    return;
  }
  document.getElementById("token-create").addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = Object.fromEntries([...new FormData(event.target).entries()].filter(([, v]) => v !== ""));
    try {
      const made = await request("/tokens", { method: "POST", json: data, prompt: false });
      fill("new-token", "New token (shown once, copy it now): ", el("code", { id: "new-token-value", text: made.token }));
      document.getElementById("new-token").hidden = false;
      document.getElementById("tokens-error").hidden = true;
      await list();
    } catch (e) { error(e); }
  });
  try { await list(); } catch (e) { error(e); }
})();
