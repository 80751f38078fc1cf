/* wattprint dashboard: the API with the browser's token, the token prompt, number formatting and charts. */
"use strict";
const WP = (() => {
  const API = "/api/v1";
  const TOKEN_KEY = "wattprint.token";
  const body = document.body.dataset;
  const charts = {};
  window.wpCharts = charts; // read back by the tests and handy in the console

  function token() { return localStorage.getItem(TOKEN_KEY) || sessionStorage.getItem(TOKEN_KEY); }
  function setToken(value, remember) {
    localStorage.removeItem(TOKEN_KEY); sessionStorage.removeItem(TOKEN_KEY);
    if (value) (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, value);
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
      this.status = status; this.problem = problem || {};
    }
  }

  function promptForToken(why) {
    const prompt = document.getElementById("token-prompt");
    document.getElementById("token-why").textContent = why || "This server needs a token to show its runs.";
    document.getElementById("main").hidden = true;
    prompt.hidden = false;
    document.getElementById("token-input").focus();
  }
  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setToken(document.getElementById("token-input").value.trim(), document.getElementById("token-remember").checked);
    location.reload();
  });

  async function request(path, { method = "GET", json, raw = false, prompt = true } = {}) {
    const headers = { Accept: "application/json" };
    const t = token();
    if (t) headers.Authorization = "Bearer " + t;
    if (json !== undefined) headers["Content-Type"] = "application/json";
    const answer = await fetch(API + path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
    if (!answer.ok) {
      const problem = await answer.json().catch(() => ({ detail: answer.statusText }));
      if (answer.status === 401 && prompt) promptForToken(problem.detail);
      throw new ApiError(answer.status, problem);
    }
    return raw ? answer : answer.json();
  }

  // -- formatting: every figure with its unit, and ± where it has an uncertainty ------------------------------
  const J_PER_KWH = 3.6e6;
  function sig(x, digits = 3) {
    if (x === null || x === undefined || !isFinite(x)) return "–";
    if (x === 0) return "0";
    const a = Math.abs(x);
    if (a >= 1000) return Math.round(x).toLocaleString("en");
    return Number(x.toPrecision(digits)).toString();
  }
  function energy(j) {
    if (j === null || j === undefined) return "–";
    const a = Math.abs(j);
    if (a >= 3.6e9) return sig(j / 3.6e9) + " MWh";
    if (a >= 3.6e6) return sig(j / 3.6e6) + " kWh";
    if (a >= 3600) return sig(j / 3600) + " Wh";
    return sig(j) + " J";
  }
  function emissions(g) {
    if (g === null || g === undefined) return "not priced";
    const a = Math.abs(g);
    if (a >= 1e6) return sig(g / 1e6) + " t CO2e";
    if (a >= 1e3) return sig(g / 1e3) + " kg CO2e";
    if (a >= 1 || a === 0) return sig(g) + " g CO2e";
    return sig(g * 1e3) + " mg CO2e";
  }
  function power(w) {
    if (w === null || w === undefined) return "–";
    return Math.abs(w) >= 1000 ? sig(w / 1000) + " kW" : sig(w) + " W";
  }
  function duration(s) {
    if (s === null || s === undefined) return "–";
    if (s < 60) return sig(s) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min";
    return sig(s / 86400) + " days";
  }
  function pm(rel) { return rel === null || rel === undefined ? "" : ` ± ${rel < 0.1 ? sig(rel * 100, 2) : Math.round(rel * 100)} %`; }
  const when = (unix) => unix ? new Date(unix * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "–";
  const kwh = (j) => j / J_PER_KWH;

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v; else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat(Infinity)) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
    return node;
  }
  const method = (m) => el("span", { class: "method " + String(m).split("+")[0], title: METHOD_WORDS[m] || m, text: m });
  const METHOD_WORDS = { counter: "hardware energy counter (RAPL, NVML, amdsmi)", sampled: "power readings integrated over time", model: "a power model: TDP × utilisation, W per GB (an estimate)", imported: "imported from another tool's records" };
  const status = (s) => el("span", { class: "status " + s, text: s });
  const withPm = (text, rel) => [text, el("span", { class: "pm", text: pm(rel) })];
  function card(label, value, rel, how, id) {
    return el("div", { class: "card", id }, el("div", { class: "label", text: label }),
      el("div", { class: "value" }, value, rel !== undefined && rel !== null ? el("span", { class: "pm", text: pm(rel) }) : null),
      how ? el("div", { class: "how" }, how) : null);
  }
  function table(columns, rows, { empty = "nothing yet" } = {}) {
    if (!rows.length) return el("p", { class: "empty", text: empty });
    return el("table", {}, el("thead", {}, el("tr", {}, columns.map((c) => el("th", { class: c.num ? "num" : "" , text: c.label })))),
      el("tbody", {}, rows.map((row) => el("tr", {}, columns.map((c) => el("td", { class: c.num ? "num" : "" }, c.cell(row)))))));
  }
  function fill(id, ...nodes) {
    const node = document.getElementById(id);
    if (node) node.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined));
    return node;
  }
  function failure(id, error) { fill(id, el("p", { class: "error", text: error.message })); }
  const runLink = (run) => el("a", { href: "/runs/" + run.run_id, text: run.name || run.run_id.slice(0, 12) });
  const projectLink = (name) => name ? el("a", { href: "/projects/" + encodeURIComponent(name), text: name }) : el("span", { class: "empty", text: "no project" });

  // -- charts -------------------------------------------------------------------------------------------------
  const PALETTE = ["#2e7d32", "#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#c62828", "#9e9d24", "#4e342e", "#5c6bc0", "#00695c"];
  if (window.Chart) {
    Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
    Chart.defaults.color = "#4a5a52";
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.animation = false; // figures, not motion: and a test reads the data at once
    Chart.defaults.plugins.legend.labels.boxWidth = 12;
  }
  /* Error bars: a dataset's `errors` (absolute, one per point) drawn as whiskers of ±`errorScale` of them. */
  const errorBars = {
    id: "wpErrorBars",
    afterDatasetsDraw(chart) {
      const ctx = chart.ctx;
      chart.data.datasets.forEach((ds, i) => {
        if (!ds.errors || !chart.isDatasetVisible(i)) return;
        const meta = chart.getDatasetMeta(i), scale = chart.scales[meta.yAxisID || "y"], horizontal = chart.options.indexAxis === "y";
        const valueScale = horizontal ? chart.scales[meta.xAxisID || "x"] : scale;
        ctx.save(); ctx.strokeStyle = "#263238"; ctx.lineWidth = 1.2;
        meta.data.forEach((bar, j) => {
          const v = ds.data[j], e = (ds.errors[j] || 0) * (ds.errorScale || 1);
          if (v === null || v === undefined || !e) return;
          const lo = valueScale.getPixelForValue(v - e), hi = valueScale.getPixelForValue(v + e);
          ctx.beginPath();
          if (horizontal) { ctx.moveTo(lo, bar.y); ctx.lineTo(hi, bar.y); ctx.moveTo(lo, bar.y - 4); ctx.lineTo(lo, bar.y + 4); ctx.moveTo(hi, bar.y - 4); ctx.lineTo(hi, bar.y + 4); }
          else { ctx.moveTo(bar.x, lo); ctx.lineTo(bar.x, hi); ctx.moveTo(bar.x - 5, lo); ctx.lineTo(bar.x + 5, lo); ctx.moveTo(bar.x - 5, hi); ctx.lineTo(bar.x + 5, hi); }
          ctx.stroke();
        });
        ctx.restore();
      });
    },
  };
  function chart(id, config) {
    const canvas = document.getElementById("chart-" + id);
    if (!canvas || !window.Chart) return null;
    if (charts[id]) {
      charts[id].data = config.data;
      if (config.options) charts[id].options = config.options;
      charts[id].update("none");
      return charts[id];
    }
    config.plugins = [...(config.plugins || []), errorBars];
    charts[id] = new Chart(canvas, config);
    return charts[id];
  }
  const colour = (i) => PALETTE[i % PALETTE.length];
  function axis(title, extra = {}) { return { title: { display: true, text: title }, grid: { color: "#eef2ef" }, ...extra }; }

  async function download(path, fallbackName) {
    const answer = await request(path, { raw: true });
    const blob = await answer.blob();
    const disposition = answer.headers.get("Content-Disposition") || "";
    const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || fallbackName;
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: name });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }
  async function downloads(id, pathFor) {
    const formats = await request("/report-formats");
    fill(id, formats.items.map((f) => el("button", { class: "small", "data-format": f.name, title: "download the " + f.human_name + " report",
      onclick: () => download(pathFor(f.name), "wattprint" + f.extension).catch((e) => alert(e.message)) }, f.human_name)));
  }
  async function badges(id, query) {
    const found = await request("/badges?" + query);
    fill(id, found.items.map((b) => el("div", { class: "badge-row" }, el("img", { src: b.url, alt: b.figure + " badge" }),
      el("code", { text: b.markdown }), el("button", { class: "small", onclick: () => navigator.clipboard && navigator.clipboard.writeText(b.markdown) }, "Copy"))),
      el("p", { class: "hint", text: "The key in each URL opens that badge only, so a README can show it without a token." }));
  }

  function showWho() {
    const who = document.getElementById("who");
    if (who) who.textContent = token() ? "token " + token().slice(3, 15) : "no token (this machine)";
  }
  showWho();

  return { API, request, ApiError, token, setToken, promptForToken, energy, emissions, power, duration, pm, sig, when,
    kwh, el, method, status, withPm, card, table, fill, failure, runLink, projectLink, chart, colour, axis, download,
    downloads, badges, body, charts, J_PER_KWH };
})();
