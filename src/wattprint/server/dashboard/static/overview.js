/* Overview: totals over every project, the trend per day, what runs now, projects and recent runs. */
"use strict";
(async () => {
  const { request, el, fill, card, table, energy, emissions, power, duration, when, status, runLink, projectLink, chart, colour, axis, failure } = WP;
  const runColumns = [
    { label: "run", cell: runLink }, { label: "project", cell: (r) => projectLink(r.project) },
    { label: "status", cell: (r) => status(r.status) }, { label: "started", cell: (r) => el("span", { class: "when", text: when(r.started_at) }) },
    { label: "user", cell: (r) => r.username }, { label: "host", cell: (r) => r.hostname },
    { label: "duration", num: true, cell: (r) => duration(r.duration_s) },
    { label: "energy", num: true, cell: (r) => WP.withPm(energy(r.energy_j), r.energy_uncertainty_rel) },
    { label: "CO2e", num: true, cell: (r) => WP.withPm(emissions(r.emissions_g), r.emissions_g === null ? null : r.emissions_uncertainty_rel) },
  ];

  async function running() {
    try {
      const found = await request("/runs?status=running&limit=50");
      fill("running", table(runColumns, found.items, { empty: "no run is running" }));
    } catch (error) { if (error.status !== 401) failure("running", error); }
  }

  let projects;
  try { projects = (await request("/projects")).items; } catch (error) { if (error.status !== 401) failure("totals", error); return; }
  const sum = (key) => projects.reduce((a, p) => a + (p[key] || 0), 0);
  // each project's ± is its runs' relative uncertainties weighted by their energy (emissions): the same over projects
  const weighted = (key, rel) => { const total = sum(key); return total > 0 ? projects.reduce((a, p) => a + (p[key] || 0) * (p[rel] || 0), 0) / total : null; };
  const priced = projects.some((p) => p.emissions_g !== null);
  const time = sum("duration_s");
  const energyRel = weighted("energy_j", "energy_uncertainty_rel");
  fill("totals",
    card("projects", String(projects.length)), card("runs", sum("runs").toLocaleString("en")),
    card("energy", energy(sum("energy_j")), energyRel, "measured or modelled per run: see each run's method; ± weighted by energy", "total-energy"),
    card("emissions", priced ? emissions(sum("emissions_g")) : "not priced", priced ? weighted("emissions_g", "emissions_uncertainty_rel") : null, "location-based, each run at its own grid intensity", "total-emissions"),
    card("mean power", power(time ? sum("energy_j") / time : null), energyRel, "total energy over total time"));
  fill("projects", table([
    { label: "project", cell: (p) => projectLink(p.name) }, { label: "runs", num: true, cell: (p) => p.runs },
    { label: "energy", num: true, cell: (p) => WP.withPm(energy(p.energy_j), p.energy_uncertainty_rel) },
    { label: "CO2e", num: true, cell: (p) => WP.withPm(emissions(p.emissions_g), p.emissions_uncertainty_rel) },
    { label: "mean power", num: true, cell: (p) => WP.withPm(power(p.avg_power_w), p.avg_power_w === null ? null : p.energy_uncertainty_rel) },
    { label: "last run", cell: (p) => when(p.last_started_at) },
  ], projects, { empty: "no runs yet: send some with the server setting (docs/team.md)" }));

  request("/runs?limit=10").then((found) => fill("recent", table(runColumns.filter((c) => !["user", "host", "duration"].includes(c.label)), found.items)))
    .catch((error) => failure("recent", error));
  running();
  setInterval(running, 5000);

  // the trend: each project's emissions (energy where nothing is priced) per UTC day, stacked
  const shown = projects.slice().sort((a, b) => b.energy_j - a.energy_j).slice(0, 10);
  const figure = priced ? "emissions_g" : "energy_j";
  const summaries = await Promise.all(shown.map((p) => request(`/projects/${encodeURIComponent(p.name)}/summary?by=day`).catch(() => ({ groups: [] }))));
  const days = [...new Set(summaries.flatMap((s) => s.groups.map((g) => g.key)))].sort();
  const scale = priced ? 1 : 1 / WP.J_PER_KWH;
  chart("trend", {
    type: "bar",
    data: { labels: days, datasets: shown.map((p, i) => ({
      label: p.name, backgroundColor: colour(i),
      data: days.map((d) => { const g = summaries[i].groups.find((x) => x.key === d); return g && g[figure] !== null ? g[figure] * scale : 0; }),
    })) },
    options: { scales: { x: { stacked: true, grid: { display: false } }, y: axis(priced ? "g CO2e per day" : "kWh per day", { stacked: true, beginAtZero: true }) } },
  });
  document.getElementById("trend-note").textContent = (priced ? "emissions" : "energy") + " per UTC day, stacked by project" + (projects.length > shown.length ? ` (the ${shown.length} largest projects)` : "");
})();
