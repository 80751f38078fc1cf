// The static calculator page: reads the form, runs the calculator bundle (./calculator.js), shows the figures.
import { attribution, compareRegions, estimate, gpuModels, regions } from "./calculator.js";

const form = document.getElementById("form");
const fmt = (x, digits = 3) => (x === null || x === undefined ? "–" : Number(x.toPrecision(digits)).toLocaleString("en"));
const pct = (x) => `±${Math.round(x * 100)} %`;
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

for (const name of gpuModels()) form.gpu.add(new Option(name, name));
document.getElementById("places").innerHTML = regions("", 2000).map((r) => `<option value="${esc(r.key)}">${esc(r.name)}</option>`).join("");
document.getElementById("attribution").textContent = attribution;

function input() {
  const data = {};
  for (const [key, value] of new FormData(form)) {
    if (value === "") continue;
    data[key] = ["gpu", "cpu", "location"].includes(key) ? value : Number(value);
  }
  if (!data.gpu) { delete data.gpu_count; delete data.gpu_utilization; }
  return data;
}

function update() {
  const error = document.getElementById("error");
  error.textContent = "";
  try {
    const e = estimate(input());
    window.lastEstimate = e;
    document.getElementById("result").innerHTML = `
      <p><span class="figure" data-figure="emissions_g">${fmt(e.emissions_g)} gCO2e</span> ${pct(e.emissions_uncertainty_rel)}
      · <span data-figure="energy_kwh">${fmt(e.energy_kwh)}</span> kWh of IT energy (${pct(e.energy_uncertainty_rel)}),
      ${fmt(e.facility_energy_kwh)} kWh with PUE ${e.pue}
      · water ${e.water_l === null ? "not estimated" : `${fmt(e.water_l)} L`}</p>
      <p><small>Grid: ${esc(e.intensity.zone_name)} (${esc(e.intensity.zone)}), ${fmt(e.intensity.g_per_kwh)} gCO2e/kWh
      ${pct(e.intensity.uncertainty_rel)}, ${esc(e.intensity.source)}${e.intensity.year ? `, ${e.intensity.year}` : ""}.
      Method: model (TDP × utilisation, W per GB).</small></p>
      <ul>${e.assumptions.map((a) => `<li><small>${esc(a)}</small></li>`).join("")}</ul>`;
    const c = compareRegions({ energy_kwh: e.energy_kwh, energy_uncertainty_rel: e.energy_uncertainty_rel,
      reference: e.location ?? undefined, pue: input().pue });
    const rows = c.regions.slice(0, 10).concat(c.reference && c.reference.rank > 10 ? [c.reference] : []);
    document.getElementById("regions").innerHTML = `<table><thead><tr><th>#</th><th>region</th><th class="n">gCO2e/kWh</th>
      <th class="n">PUE</th><th class="n">emissions, g</th><th class="n">× ${esc(c.ratio_to)}</th></tr></thead><tbody>${rows.map((r) =>
      `<tr><td>${r.rank ?? ""}</td><td>${esc(r.key)} <small>${esc(r.name)}</small></td><td class="n">${fmt(r.intensity_g_per_kwh)} <small>${pct(r.intensity_uncertainty_rel)}</small></td>
      <td class="n">${r.pue}</td><td class="n">${fmt(r.emissions_g)} <small>${pct(r.emissions_uncertainty_rel)}</small></td><td class="n">${r.ratio === null ? "–" : fmt(r.ratio, 2)}${r.comparable ? "" : "*"}</td></tr>`).join("")}
      </tbody></table><p><small>${c.regions.length} cloud regions compared; * another basis (lifecycle against direct figures): not like for like.</small></p>`;
  } catch (err) {
    error.textContent = err.message;
  }
}

form.addEventListener("input", update);
update();
