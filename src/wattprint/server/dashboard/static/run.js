/* A run: its figures with method and ±, power over time, components, carbon and where the location came from,
   the intensity over time (live-priced runs), tasks, predictions against the actual total, the run priced
   elsewhere, report downloads, the paper paragraph and model-card block, badges. A running run is polled. */
"use strict";
(async () => {
  const { request, el, fill, card, table, energy, emissions, power, duration, when, status, method, chart, colour, axis, failure, pm, sig, J_PER_KWH } = WP;
  const ref = WP.body.run;
  const COMPONENT_COLOURS = { cpu: "#1565c0", gpu: "#2e7d32", ram: "#ef6c00", disk: "#6a1b9a", other: "#00838f" };
  let run = null;
  let extrasShown = false;

  function head(s) {
    run = s;
    document.title = `${s.name || s.run_id.slice(0, 12)} · wattprint`;
    document.getElementById("title").textContent = s.name || "Run " + s.run_id.slice(0, 12);
    fill("crumbs", el("a", { href: "/", text: "Projects" }), " / ", WP.projectLink(s.project), " /");
    fill("meta", status(s.status), ` ${s.run_id} · started ${s.started_at ? s.started_at.replace("T", " ").replace("Z", " UTC") : "–"} · ${s.user}@${s.host}`,
      s.command ? el("code", { text: " " + s.command }) : null, s.tags.length ? ` · tags: ${s.tags.join(", ")}` : "",
      s.group ? [" · ", el("a", { id: "group-link", href: "/groups/" + encodeURIComponent(s.group.group_id),
        text: `part of run group ${s.group.group_id}` }), ` (rank ${s.group.rank ?? "?"}${s.group.world_size ? " of " + s.group.world_size : ""}; the group's totals count each device once)`] : null);
    const avg = s.duration_s > 0 ? s.energy_j / s.duration_s : null;
    const methods = s.methods.map((m) => [method(m.method), ` ${m.component}${pm(m.uncertainty_rel)} `]);
    fill("figures",
      card("energy (IT)", energy(s.energy_j), s.energy_uncertainty_rel, [method(s.method), " weakest method used"], "figure-energy"),
      card("emissions", emissions(s.emissions_g), s.emissions_g === null ? null : s.emissions_uncertainty_rel,
        s.intensity ? `at ${sig(s.intensity.g_per_kwh)} g/kWh (${s.intensity.zone_name || s.intensity.zone})` : "carbon accounting off", "figure-emissions"),
      card("duration", duration(s.duration_s), null, s.status === "running" ? "so far" : "wall time", "figure-duration"),
      card("mean power", power(avg), s.energy_uncertainty_rel, "total energy over total time", "figure-power"),
      s.facility_energy_kwh !== null && s.facility_energy_kwh !== undefined ? card("facility energy", energy(s.facility_energy_kwh * J_PER_KWH), s.energy_uncertainty_rel, `PUE ${sig(s.pue)}`) : null,
      s.water_l !== null && s.water_l !== undefined ? card("water", sig(s.water_l) + " L", null, "from the location's WUE") : null,
      card("components", String(s.components.length), null, methods));
    document.getElementById("method-sentence").textContent = `How the energy was obtained (${s.obtained}): ${s.method_sentence}.`;
  }

  function components(s) {
    const total = s.components.reduce((a, c) => a + c.energy_j, 0) || 1;
    fill("components", table([
      { label: "component", cell: (c) => c.component }, { label: "device", cell: (c) => c.device },
      { label: "energy", num: true, cell: (c) => WP.withPm(energy(c.energy_j), c.uncertainty_rel) },
      { label: "mean power", num: true, cell: (c) => WP.withPm(power(c.avg_power_w), c.uncertainty_rel) },
      { label: "share", num: true, cell: (c) => Math.round((100 * c.energy_j) / total) + " %" },
      { label: "method", cell: (c) => method(c.method) },
    ], s.components, { empty: "no component recorded yet" }));
  }

  function carbon(s) {
    if (!s.intensity) { fill("carbon", el("p", { class: "empty", text: "No emissions: carbon accounting was off for this run, or its location is unknown." }), el("p", {}, s.location_sentence)); return; }
    const i = s.intensity;
    const rows = [
      ["emissions", WP.withPm(emissions(s.emissions_g), s.emissions_uncertainty_rel)],
      ["grid intensity", WP.withPm(sig(i.g_per_kwh) + " g CO2e/kWh", i.uncertainty_rel)],
      ["zone", i.zone_name ? `${i.zone_name} (${i.zone})` : i.zone], ["source", `${i.source || "not recorded"}${i.year ? ", " + i.year : ""} · ${i.kind || ""}`],
      ["location", s.location_sentence], ["PUE", `${sig(s.pue)} (${s.pue_source || "source not recorded"})`],
      s.time_resolved ? ["live-priced total", WP.withPm(emissions(s.time_resolved.emissions_g), s.time_resolved.emissions_uncertainty_rel)] : null,
      s.embodied_g ? ["embodied (hardware share)", emissions(s.embodied_g)] : null,
    ].filter(Boolean);
    fill("carbon", el("table", {}, el("tbody", {}, rows.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", {}, v))))),
      s.equivalents.length ? el("p", { class: "hint", text: "≈ " + s.equivalents.slice(0, 2).map((e) => `${sig(e.value)} ${e.label}`).join(", ") }) : null);
  }

  function powerChart(s) {
    const steps = s.power_steps;
    const names = [...new Set(steps.flatMap((p) => Object.keys(p.power_w)))].sort();
    const points = (name) => steps.flatMap((p) => [{ x: p.start_offset_s, y: p.power_w[name] || 0 }, { x: p.end_offset_s, y: p.power_w[name] || 0 }]);
    chart("power", {
      type: "line",
      data: { datasets: names.map((n, i) => ({ label: n + " (W)", data: points(n), borderColor: COMPONENT_COLOURS[n] || colour(i),
        backgroundColor: (COMPONENT_COLOURS[n] || colour(i)) + "55", fill: i === 0 ? "origin" : "-1", pointRadius: 0, borderWidth: 1.5 })) },
      options: { interaction: { mode: "nearest", intersect: false }, scales: {
        x: axis("seconds since the start", { type: "linear", min: 0 }), y: axis("W (average per interval)", { stacked: true, beginAtZero: true }) } },
    });
    document.getElementById("power-note").textContent = s.power_note || `average power per interval, stacked by component (${steps.length} intervals)`;
  }

  function intensityChart(s) {
    const live = s.time_resolved;
    if (!live || !live.timeline || !live.timeline.length) return;
    document.getElementById("intensity-panel").hidden = false;
    const base = live.timeline[0][0] > 1e9 ? s_started(s) : 0;
    const data = live.timeline.flatMap(([a, b, g]) => [{ x: a - base, y: g }, { x: b - base, y: g }]);
    chart("intensity", {
      type: "line",
      data: { datasets: [{ label: `g CO2e/kWh (${live.provider_title})`, data, borderColor: "#6a1b9a", backgroundColor: "#6a1b9a33", fill: "origin", pointRadius: 0, spanGaps: false }] },
      options: { scales: { x: axis("seconds since the start", { type: "linear", min: 0, max: Math.max(s.duration_s, ...data.map((p) => p.x)) }), y: axis("g CO2e/kWh", { beginAtZero: true }) } },
    });
    document.getElementById("intensity-note").textContent = `${live.kind} signal from ${live.provider_title} (${live.zone || "zone not recorded"}); live ${Math.round(live.live_share * 100)} %, forecast ${Math.round(live.forecast_share * 100)} %, fallback ${Math.round(live.fallback_share * 100)} % of the energy`;
  }
  function s_started(s) { return Date.parse(s.started_at) / 1000; }

  function tasks(s) {
    if (!s.tasks.length) { fill("tasks", el("p", { class: "empty", text: "no tasks or epochs recorded (run.task(...) or a framework callback records them)" })); document.getElementById("chart-tasks").parentElement.hidden = true; return; }
    document.getElementById("chart-tasks").parentElement.hidden = false;
    chart("tasks", {
      type: "bar",
      data: { labels: s.tasks.map((t) => t.name), datasets: [{ label: "energy (Wh)", data: s.tasks.map((t) => t.energy_j / 3600),
        errors: s.tasks.map((t) => (t.energy_j / 3600) * t.uncertainty_rel), backgroundColor: "#81c784" }] },
      options: { plugins: { legend: { display: false } }, scales: { x: { grid: { display: false } }, y: axis("Wh (± 1 standard uncertainty)", { beginAtZero: true }) } },
    });
    fill("tasks", table([
      { label: "task", cell: (t) => t.name }, { label: "duration", num: true, cell: (t) => duration(t.duration_s) },
      { label: "energy", num: true, cell: (t) => WP.withPm(energy(t.energy_j), t.uncertainty_rel) },
      { label: "mean power", num: true, cell: (t) => power(t.duration_s > 0 ? t.energy_j / t.duration_s : null) },
      { label: "method", cell: (t) => method(t.method) },
    ], s.tasks));
  }

  function predictions(s) {
    const list = s.predictions || [];
    if (!list.length) { fill("predictions", el("p", { class: "empty", text: "no prediction: a training with a known number of epochs or steps gets one (docs/predict.md)" })); document.getElementById("chart-predictions").parentElement.hidden = true; return; }
    document.getElementById("chart-predictions").parentElement.hidden = false;
    const actual = s.energy_j / J_PER_KWH;
    const labels = list.map((p) => `${p.unit} ${p.after}/${p.total}`);
    chart("predictions", {
      type: "line",
      data: { labels, datasets: [
        { label: "predicted total (kWh)", data: list.map((p) => p.energy_kwh), borderColor: "#1565c0", backgroundColor: "#1565c0", tension: 0 },
        { label: `interval high`, data: list.map((p) => p.energy_kwh_high), borderColor: "#90caf9", pointRadius: 0, fill: "+1", backgroundColor: "#1565c022", borderDash: [4, 3] },
        { label: `interval low`, data: list.map((p) => p.energy_kwh_low), borderColor: "#90caf9", pointRadius: 0, borderDash: [4, 3] },
        { label: s.status === "running" ? "actual so far (kWh)" : "actual total (kWh)", data: list.map(() => actual), borderColor: "#2e7d32", pointRadius: 0, borderWidth: 2 },
      ] },
      options: { scales: { x: axis("prediction made after"), y: axis("kWh", { beginAtZero: true }) } },
    });
    const last = s.prediction;
    const rows = last ? Object.entries(last.vs_actual).map(([figure, c]) => ({ figure, ...c })) : [];
    const show = { energy_kwh: (v) => energy(v * J_PER_KWH), emissions_g: emissions, duration_s: duration };
    fill("predictions", last ? el("p", { class: "hint", text: `Last prediction after ${last.unit} ${last.after} of ${last.total} (${Math.round(last.level * 100)} % interval, ${last.interval_method}):` }) : null,
      table([
        { label: "figure", cell: (r) => r.figure.replace("_", " ") }, { label: "predicted", num: true, cell: (r) => show[r.figure](r.predicted) },
        { label: "interval", num: true, cell: (r) => `${show[r.figure](r.low)} – ${show[r.figure](r.high)}` },
        { label: "actual", num: true, cell: (r) => show[r.figure](r.actual) },
        { label: "error", num: true, cell: (r) => r.error_rel === null ? "–" : (r.error_rel >= 0 ? "+" : "") + Math.round(r.error_rel * 100) + " %" },
        { label: "", cell: (r) => r.within_interval ? "inside the interval" : "outside the interval" },
      ], rows));
  }

  async function reprice() {
    const c = await request(`/runs/${run.run_id}/reprice`);
    const top = c.regions.slice(0, 12);
    document.getElementById("reprice-note").textContent = `${energy(c.energy_kwh * J_PER_KWH)}${pm(c.energy_uncertainty_rel)} of IT energy at each region's intensity and PUE; greenest first`;
    chart("reprice", {
      type: "bar",
      data: { labels: top.map((r) => r.key), datasets: [{ label: "g CO2e", data: top.map((r) => r.emissions_g),
        errors: top.map((r) => r.emissions_g * (r.emissions_uncertainty_rel || 0)), backgroundColor: top.map((_, i) => i === 0 ? "#2e7d32" : "#81c784") }] },
      options: { plugins: { legend: { display: false } }, scales: { x: { grid: { display: false } }, y: axis("g CO2e (± 1 standard uncertainty)", { beginAtZero: true }) } },
    });
    fill("reprice", table([
      { label: "region", cell: (r) => r.name }, { label: "intensity", num: true, cell: (r) => WP.withPm(sig(r.intensity_g_per_kwh) + " g/kWh", r.intensity_uncertainty_rel) },
      { label: "basis", cell: (r) => r.intensity_basis }, { label: "PUE", num: true, cell: (r) => sig(r.pue) },
      { label: "emissions", num: true, cell: (r) => WP.withPm(emissions(r.emissions_g), r.emissions_uncertainty_rel) },
      { label: "vs here", num: true, cell: (r) => r.ratio === null || r.ratio === undefined ? "–" : "× " + sig(r.ratio, 2) },
    ], top));
  }

  async function paper() {
    const p = await request(`/runs/${run.run_id}/paper`);
    document.getElementById("paragraph").textContent = p.paragraph;
    document.getElementById("paragraph-latex").textContent = p.paragraph_latex;
    document.getElementById("model-card").textContent = p.model_card || p.model_card_error;
  }
  document.querySelectorAll("button[data-copy]").forEach((b) => b.addEventListener("click", () => {
    const text = document.getElementById(b.dataset.copy).textContent;
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(() => { b.textContent = "Copied"; setTimeout(() => { b.textContent = b.dataset.copy.endsWith("latex") ? "Copy as LaTeX" : "Copy"; }, 1500); });
  }));

  async function load() {
    const s = await request(`/runs/${encodeURIComponent(ref)}/summary`);
    s.started_at_unix = s_started(s);
    head(s); components(s); carbon(s); powerChart(s); intensityChart(s); tasks(s); predictions(s);
    return s;
  }

  let s;
  try { s = await load(); } catch (error) { if (error.status !== 401) failure("figures", error); return; }
  const extras = () => {
    if (extrasShown) return;
    extrasShown = true;
    reprice().catch((e) => failure("reprice", e));
    paper().catch((e) => failure("paragraph", e));
    WP.downloads("downloads", (fmt) => `/runs/${run.run_id}/report?format=${fmt}`).catch((e) => failure("downloads", e));
    WP.badges("badges", "run=" + run.run_id).catch((e) => failure("badges", e));
  };
  extras();

  // the live view: a running run is read again every 2 s, its figures and charts updated in place
  if (s.status === "running") {
    const live = document.getElementById("live");
    live.hidden = false;
    let polls = 0;
    const timer = setInterval(async () => {
      try {
        const now = await load();
        polls += 1;
        live.dataset.polls = String(polls);
        document.getElementById("live-text").textContent = now.status === "running"
          ? `live · updated ${new Date().toLocaleTimeString("en-GB")}` : `the run ended (${now.status}); figures are final`;
        if (now.status !== "running") {
          clearInterval(timer); live.classList.remove("live");
          reprice().catch((e) => failure("reprice", e)); paper().catch((e) => failure("paragraph", e));
        }
      } catch (error) {
        document.getElementById("live-text").textContent = "live · could not refresh: " + error.message;
      }
    }, 2000);
  }
})();
