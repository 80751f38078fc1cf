/* Runs side by side: each figure with its standard uncertainty, and whether a run's difference from the first is
   larger than the noise (the runs' uncertainties and, with repetitions, their scatter). */
"use strict";
(async () => {
  const { request, el, fill, energy, emissions, duration, sig, pm, chart, colour, axis, J_PER_KWH } = WP;
  const params = new URLSearchParams(location.search);
  const input = document.getElementById("compare-runs");
  input.value = params.getAll("run").join(" ");
  if (params.get("repetitions") === "false") document.getElementById("compare-reps").checked = false;
  document.getElementById("compare-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const ids = input.value.split(/[\s,]+/).filter(Boolean);
    const reps = document.getElementById("compare-reps").checked ? "" : "&repetitions=false";
    location.search = ids.map((id) => "run=" + encodeURIComponent(id)).join("&") + reps;
  });
  const ids = params.getAll("run");
  if (ids.length < 2) { fill("compare-result", el("p", { class: "hint", text: "Give two runs or more (select them in a project's runs table, or paste their ids above)." })); return; }

  let c;
  try {
    c = await request("/compare?" + ids.map((id) => "run=" + encodeURIComponent(id)).join("&") + (params.get("repetitions") === "false" ? "&repetitions=false" : ""));
  } catch (error) { if (error.status !== 401) fill("compare-result", el("p", { class: "error", text: error.message })); return; }

  const show = { energy_kwh: (v) => energy(v * J_PER_KWH), emissions_g: emissions, duration_s: duration };
  const names = { energy_kwh: "energy (IT)", emissions_g: "emissions", duration_s: "duration" };
  const label = (r) => r.run.name || r.run.run_id.slice(0, 12);
  const header = el("tr", {}, el("th", { text: "" }), c.runs.map((r, i) => el("th", {}, el("a", { href: "/runs/" + r.run.run_id, text: label(r) }), i === 0 ? el("div", { class: "hint", text: "baseline" }) : el("div", { class: "hint", text: r.run.run_id.slice(0, 12) }))));
  const rows = [];
  for (const figure of Object.keys(names)) {
    rows.push(el("tr", { "data-figure": figure }, el("th", { text: names[figure] }), c.runs.map((r) => {
      const f = r.figures[figure];
      if (!f) return el("td", { class: "num", text: "–" });
      return el("td", { class: "num" }, show[figure](f.value), el("span", { class: "pm", text: f.uncertainty ? pm(f.uncertainty_rel) : "" }),
        f.repetitions > 1 ? el("div", { class: "hint", text: `mean of ${f.repetitions} repetitions (sd ${show[figure](f.scatter_sd)})` }) : null);
    })));
    rows.push(el("tr", { class: "diff" }, el("th", { class: "hint", text: "vs baseline" }), c.runs.map((r, i) => {
      const d = r.versus_first.find((x) => x.figure === figure);
      if (i === 0 || !d) return el("td", {});
      const rel = d.difference_rel === null ? "" : ` (${d.difference_rel >= 0 ? "+" : ""}${sig(d.difference_rel * 100, 2)} %)`;
      return el("td", { class: "num", title: d.basis }, `${d.difference >= 0 ? "+" : "−"}${show[figure](Math.abs(d.difference))}${rel}`,
        el("div", { class: "verdict " + (d.larger_than_noise ? "yes" : "no"), "data-verdict": d.larger_than_noise ? "larger" : "within",
          text: d.z === null ? "noise unknown" : (d.larger_than_noise ? "larger than the noise" : "within the noise") + ` (${sig(Math.abs(d.z), 2)} σ)` }));
    })));
  }
  const meta = [["status", (r) => r.run.status], ["host", (r) => r.run.hostname],
    ["location", (r) => r.run.location || "unknown"], ["intensity", (r) => r.run.intensity_g_per_kwh === null ? "–" : sig(r.run.intensity_g_per_kwh) + " g/kWh" + pm(r.run.intensity_uncertainty_rel)],
    ["hardware", (r) => (r.run.hardware || []).map((h) => h.model).filter(Boolean).join(", ") || "–"]];
  for (const [name, cell] of meta) rows.push(el("tr", {}, el("th", { text: name }), c.runs.map((r) => el("td", { text: cell(r) }))));
  fill("compare-result", el("section", { class: "panel" }, el("table", { id: "compare-table" }, el("thead", {}, header), el("tbody", {}, rows)),
    el("p", { class: "hint", text: `± is one standard uncertainty. A difference is larger than the noise when it exceeds ${c.coverage} combined standard uncertainties (about 95 %): each run's measurement uncertainty, and where it has repetitions (runs of its project with its config fingerprint), the scatter of their mean.` })));

  document.getElementById("compare-chart-panel").hidden = false;
  for (const [id, figure, unit, scale] of [["compare-energy", "energy_kwh", "kWh", 1], ["compare-emissions", "emissions_g", "g CO2e", 1]]) {
    const values = c.runs.map((r) => (r.figures[figure] ? r.figures[figure].value * scale : null));
    chart(id, {
      type: "bar",
      data: { labels: c.runs.map(label), datasets: [{ label: unit, data: values, errorScale: c.coverage,
        errors: c.runs.map((r) => (r.figures[figure] ? r.figures[figure].uncertainty * scale : 0)), backgroundColor: c.runs.map((_, i) => colour(i)) }] },
      options: { plugins: { legend: { display: false } }, scales: { x: { grid: { display: false } }, y: axis(unit + ` (± ${c.coverage} standard uncertainties)`, { beginAtZero: true }) } },
    });
  }
})();
