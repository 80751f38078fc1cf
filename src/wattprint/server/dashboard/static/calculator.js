/* The calculator, open without a token: a job estimated from its hardware and duration, and the same job in
   every region, each figure with its standard uncertainty. */
"use strict";
(() => {
  const { request, el, fill, card, table, energy, emissions, power, sig, pm, chart, axis, method, J_PER_KWH } = WP;
  const form = document.getElementById("calc-form");
  request("/regions?limit=500").then((r) => {
    fill("locations", r.items.map((x) => el("option", { value: x.zone || x.key || x.location || "", text: x.zone_name || x.name || "" })));
  }).catch(() => {});

  function params() {
    const out = {};
    for (const [k, v] of new FormData(form).entries()) {
      if (v === "") continue;
      out[k] = ["count", "hours", "gpu_utilization", "memory_gb", "pue"].includes(k) ? Number(v) : v;
    }
    if (out.count && !out.gpu) delete out.count;
    return out;
  }
  function showError(error) {
    const box = document.getElementById("calc-error");
    const fields = (error.problem && error.problem.errors) || [];
    box.textContent = fields.length ? fields.map((f) => `${f.field}: ${f.message}`).join("; ") : error.message;
    box.hidden = false;
  }

  async function run(event) {
    if (event) event.preventDefault();
    document.getElementById("calc-error").hidden = true;
    const job = params();
    let e;
    try { e = await request("/estimate", { method: "POST", json: job }); } catch (error) { showError(error); return; }
    fill("calc-figures",
      card("energy (IT)", energy(e.energy_kwh * J_PER_KWH), e.energy_uncertainty_rel, [method("model"), " estimated, not measured"], "calc-energy"),
      card("emissions", emissions(e.emissions_g), e.emissions_g === null ? null : e.emissions_uncertainty_rel,
        e.intensity ? `${sig(e.intensity.g_per_kwh)} g/kWh${pm(e.intensity.uncertainty_rel)} · ${e.intensity.zone_name || e.intensity.zone} (${e.intensity.source}${e.intensity.year ? ", " + e.intensity.year : ""})` : "give a location to price it", "calc-emissions"),
      card("facility energy", e.facility_energy_kwh === null ? "–" : energy(e.facility_energy_kwh * J_PER_KWH), e.energy_uncertainty_rel, e.pue ? `PUE ${sig(e.pue)}` : ""),
      card("power", power(e.power_w), e.energy_uncertainty_rel, "TDP × utilisation"),
      e.water_l !== null ? card("water", sig(e.water_l) + " L", null, "from the site's WUE") : null);
    document.getElementById("calc-components-panel").hidden = false;
    fill("calc-components", table([
      { label: "component", cell: (c) => c.component }, { label: "model", cell: (c) => c.model || c.device },
      { label: "count", num: true, cell: (c) => c.count }, { label: "power", num: true, cell: (c) => WP.withPm(power(c.power_w), c.uncertainty_rel) },
      { label: "energy", num: true, cell: (c) => WP.withPm(energy(c.energy_kwh * J_PER_KWH), c.uncertainty_rel) },
      { label: "how", cell: (c) => [method(c.method), " " + c.basis] },
    ], e.components));

    let c;
    try { c = await request("/compare-regions", { method: "POST", json: { estimate: job } }); } catch (error) { showError(error); return; }
    document.getElementById("calc-regions-panel").hidden = false;
    const top = c.regions.slice(0, 15);
    document.getElementById("calc-regions-note").textContent = `${c.regions.length} regions; the 15 greenest.`;
    fill("calc-regions-caveat", c.sentences ? el("p", { class: "hint", text: c.sentences }) : null);
    chart("calc-regions", {
      type: "bar",
      data: { labels: top.map((r) => r.key), datasets: [{ label: "g CO2e", data: top.map((r) => r.emissions_g),
        errors: top.map((r) => r.emissions_g * (r.emissions_uncertainty_rel || 0)), backgroundColor: "#66bb6a" }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: axis("g CO2e (± 1 standard uncertainty)", { beginAtZero: true }), y: { grid: { display: false }, ticks: { autoSkip: false } } } },
    });
    fill("calc-regions", table([
      { label: "#", num: true, cell: (r) => r.rank }, { label: "region", cell: (r) => r.name },
      { label: "intensity", num: true, cell: (r) => WP.withPm(sig(r.intensity_g_per_kwh) + " g/kWh", r.intensity_uncertainty_rel) },
      { label: "source", cell: (r) => `${r.intensity_source}${r.intensity_year ? ", " + r.intensity_year : ""} (${r.intensity_basis})` },
      { label: "PUE", num: true, cell: (r) => sig(r.pue) },
      { label: "emissions", num: true, cell: (r) => WP.withPm(emissions(r.emissions_g), r.emissions_uncertainty_rel) },
    ], top));
  }
  form.addEventListener("submit", run);
})();
