/* A project: totals, energy and emissions over time, breakdowns, its runs (sort, filter, search, compare),
   repeated trainings, the greenest regions for its workload, reports and badges. */
"use strict";
(async () => {
  const { request, el, fill, card, energy, emissions, power, duration, when, status, chart, colour, axis, failure, J_PER_KWH } = WP;
  const name = WP.body.project;
  const enc = encodeURIComponent(name);

  // -- totals -------------------------------------------------------------------------------------------------
  let totals;
  try {
    totals = (await request("/projects")).items.find((p) => p.name === name);
  } catch (error) { if (error.status !== 401) failure("totals", error); return; }
  if (!totals) { fill("totals", el("p", { class: "error", text: `there is no project ${JSON.stringify(name)} on this server` })); return; }
  function drawTotals(energyRel, emissionsRel) {
    const how = energyRel === null ? null : "each run's ± weighted by its share, taken as correlated";
    fill("totals", card("runs", String(totals.runs)), card("energy", energy(totals.energy_j), energyRel, how, "total-energy"),
      card("emissions", emissions(totals.emissions_g), totals.emissions_g === null ? null : emissionsRel, "location-based", "total-emissions"),
      card("run time", duration(totals.duration_s)), card("mean power", power(totals.avg_power_w), energyRel, "total energy over total time"));
  }
  drawTotals(null, null);

  // -- over time and breakdown --------------------------------------------------------------------------------
  async function overTime() {
    const by = document.getElementById("time-by").value;
    const s = await request(`/projects/${enc}/summary?by=${by}`);
    chart("time", {
      type: "bar",
      data: { labels: s.groups.map((g) => g.key), datasets: [
        { label: "energy (kWh)", data: s.groups.map((g) => g.energy_j / J_PER_KWH), backgroundColor: "#81c784", yAxisID: "y" },
        { label: "emissions (g CO2e)", type: "line", data: s.groups.map((g) => g.emissions_g), borderColor: "#1565c0", backgroundColor: "#1565c0", yAxisID: "y1", tension: 0.2 },
      ] },
      options: { scales: { x: { grid: { display: false } }, y: axis("kWh", { beginAtZero: true }), y1: axis("g CO2e", { beginAtZero: true, position: "right", grid: { display: false } }) } },
    });
  }
  async function breakdown() {
    const by = document.getElementById("breakdown-by").value;
    const s = await request(`/projects/${enc}/summary?by=${by}`);
    const groups = s.groups.slice().sort((a, b) => b.energy_j - a.energy_j).slice(0, 15);
    chart("breakdown", {
      type: "bar",
      data: { labels: groups.map((g) => g.key === null ? "(unknown)" : g.key), datasets: [
        { label: "energy (kWh)", data: groups.map((g) => g.energy_j / J_PER_KWH), backgroundColor: groups.map((_, i) => colour(i)) },
      ] },
      options: { indexAxis: "y", plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: (c) => {
        const g = groups[c.dataIndex]; return `${g.runs} runs · ${emissions(g.emissions_g)} · mean ${power(g.avg_power_w)}`; } } } },
        scales: { x: axis("kWh", { beginAtZero: true }), y: { grid: { display: false } } } },
    });
  }
  document.getElementById("time-by").addEventListener("change", () => overTime().catch((e) => alert(e.message)));
  document.getElementById("breakdown-by").addEventListener("change", () => breakdown().catch((e) => alert(e.message)));
  overTime().catch((e) => failure("chart-time", e));
  breakdown().catch((e) => failure("chart-breakdown", e));

  // -- runs: loaded once (up to 5,000), then sorted, filtered and searched in the page ------------------------
  let runs = [];
  let cursor = null;
  do {
    const page = await request(`/runs?project=${enc}&limit=1000${cursor ? "&cursor=" + encodeURIComponent(cursor) : ""}`);
    runs = runs.concat(page.items); cursor = page.next_cursor;
  } while (cursor && runs.length < 5000);
  if (!cursor) { // every run loaded: the totals' uncertainty, weighting each run's by its share (a bound, not a sum in quadrature)
    const weighted = (value, rel) => {
      const total = runs.reduce((a, r) => a + (r[value] || 0), 0);
      return total > 0 ? runs.reduce((a, r) => a + (r[value] || 0) * (r[rel] || 0), 0) / total : null;
    };
    drawTotals(weighted("energy_j", "energy_uncertainty_rel"), weighted("emissions_g", "emissions_uncertainty_rel"));
  }
  const selected = new Set();
  const state = { sort: "started_at", desc: true };
  const tags = (r) => ((r.extra && r.extra.tags) || []);
  const group = (r) => (r.extra && r.extra.group) || null; // a part of a distributed run: its row links the group
  const columns = [
    { key: "select", label: "", cell: (r) => el("input", { type: "checkbox", "aria-label": "select " + r.run_id, checked: selected.has(r.run_id),
      onchange: (e) => { e.target.checked ? selected.add(r.run_id) : selected.delete(r.run_id); updateCompare(); } }) },
    { key: "name", label: "run", cell: (r) => [WP.runLink(r), tags(r).length ? el("span", { class: "hint", text: " " + tags(r).join(", ") }) : null,
      group(r) ? el("div", { class: "hint" }, `rank ${group(r).rank ?? "?"} of run group `, el("a", { class: "group-link",
        href: "/groups/" + encodeURIComponent(group(r).group_id), text: group(r).group_id })) : null] },
    { key: "status", label: "status", cell: (r) => status(r.status) },
    { key: "started_at", label: "started", cell: (r) => el("span", { class: "when", text: when(r.started_at) }) },
    { key: "username", label: "user", cell: (r) => r.username },
    { key: "hostname", label: "host", cell: (r) => r.hostname },
    { key: "duration_s", label: "duration", num: true, cell: (r) => duration(r.duration_s) },
    { key: "energy_j", label: "energy", num: true, cell: (r) => WP.withPm(energy(r.energy_j), r.energy_uncertainty_rel) },
    { key: "emissions_g", label: "CO2e", num: true, cell: (r) => WP.withPm(emissions(r.emissions_g), r.emissions_g === null ? null : r.emissions_uncertainty_rel) },
    { key: "location", label: "location", cell: (r) => r.location || "unknown" },
  ];
  function options(id, values) {
    const select = document.getElementById(id);
    for (const v of [...new Set(values)].sort()) select.append(el("option", { value: v, text: v }));
    select.addEventListener("change", draw);
  }
  options("filter-status", runs.map((r) => r.status));
  options("filter-user", runs.map((r) => r.username));
  options("filter-host", runs.map((r) => r.hostname));
  document.getElementById("search").addEventListener("input", draw);
  function visible() {
    const words = document.getElementById("search").value.toLowerCase().split(/\s+/).filter(Boolean);
    const want = { status: document.getElementById("filter-status").value, username: document.getElementById("filter-user").value,
      hostname: document.getElementById("filter-host").value };
    const found = runs.filter((r) => Object.entries(want).every(([k, v]) => !v || r[k] === v) && words.every((w) =>
      [r.name, r.run_id, r.username, r.hostname, r.command, r.location, r.status, group(r) && group(r).group_id, ...tags(r)].some((f) => f && String(f).toLowerCase().includes(w))));
    const key = state.sort, sign = state.desc ? -1 : 1;
    return found.sort((a, b) => {
      const x = a[key], y = b[key];
      if (x === y) return 0; if (x === null || x === undefined) return 1; if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * sign;
    });
  }
  function draw() {
    const rows = visible();
    const head = el("tr", {}, columns.map((c) => el("th", {
      class: [c.num ? "num" : "", c.key !== "select" ? "sortable" : "", c.key === state.sort ? (state.desc ? "sorted-desc" : "sorted-asc") : ""].join(" ").trim(),
      "data-sort": c.key, text: c.label,
      onclick: c.key === "select" ? undefined : () => { state.desc = state.sort === c.key ? !state.desc : c.num || c.key === "started_at"; state.sort = c.key; draw(); },
    })));
    const body = rows.map((r) => el("tr", { "data-run": r.run_id }, columns.map((c) => el("td", { class: c.num ? "num" : "" }, c.cell(r)))));
    fill("runs", el("table", { id: "runs-table" }, el("thead", {}, head), el("tbody", {}, body)));
    document.getElementById("runs-count").textContent = `${rows.length} of ${runs.length} runs shown` + (cursor ? " (the newest 5,000 loaded)" : "");
  }
  function updateCompare() {
    const button = document.getElementById("compare-selected");
    button.disabled = selected.size < 2;
    button.textContent = selected.size ? `Compare selected (${selected.size})` : "Compare selected";
  }
  document.getElementById("compare-selected").addEventListener("click", () => {
    location.href = "/compare?" + [...selected].map((id) => "run=" + id).join("&");
  });
  draw();

  // -- repeated trainings ------------------------------------------------------------------------------------
  request(`/projects/${enc}/duplicates`).then((d) => fill("duplicates",
    d.groups.length ? el("p", {}, `${d.repeats} repeated run(s) cost ${energy(d.repeat_energy_kwh * J_PER_KWH)} and ${emissions(d.repeat_emissions_g)} beyond their first run.`) : null,
    WP.table([
      { label: "training", cell: (g) => el("a", { href: "/runs/" + g.run_ids[0], text: g.name || g.run_ids[0].slice(0, 12) }) },
      { label: "runs", num: true, cell: (g) => g.runs },
      { label: "repeats cost", num: true, cell: (g) => energy(g.repeat_energy_kwh * J_PER_KWH) },
      { label: "repeats CO2e", num: true, cell: (g) => emissions(g.repeat_emissions_g) },
      { label: "", cell: (g) => el("a", { href: "/compare?" + g.run_ids.slice(0, 12).map((id) => "run=" + id).join("&"), text: "compare" }) },
    ], d.groups, { empty: "no repeated training: no two runs share a config fingerprint" })))
    .catch((e) => failure("duplicates", e));

  // -- the greenest regions for this workload: the mean run's IT energy priced everywhere ---------------------
  const finished = runs.filter((r) => r.status !== "running");
  if (finished.length) {
    const meanJ = finished.reduce((a, r) => a + r.energy_j, 0) / finished.length;
    const rel = finished.reduce((a, r) => a + r.energy_j * r.energy_uncertainty_rel, 0) / Math.max(1e-12, finished.reduce((a, r) => a + r.energy_j, 0));
    request("/compare-regions", { method: "POST", json: { energy_kwh: meanJ / J_PER_KWH, energy_uncertainty_rel: rel, workload: "the project's mean run" } })
      .then((c) => {
        const top = c.regions.slice(0, 10);
        document.getElementById("regions-note").textContent = `A mean run (${energy(meanJ)}${WP.pm(rel)} of IT energy) priced with each region's intensity and PUE; greenest first.`;
        chart("regions", {
          type: "bar",
          data: { labels: top.map((r) => r.key), datasets: [{ label: "g CO2e per mean run", data: top.map((r) => r.emissions_g),
            errors: top.map((r) => r.emissions_g * (r.emissions_uncertainty_rel || 0)), backgroundColor: "#66bb6a" }] },
          options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: axis("g CO2e per run (± 1 standard uncertainty)", { beginAtZero: true }), y: { grid: { display: false }, ticks: { autoSkip: false } } } },
        });
        fill("regions", WP.table([
          { label: "region", cell: (r) => r.name }, { label: "intensity", num: true, cell: (r) => WP.withPm(WP.sig(r.intensity_g_per_kwh) + " g/kWh", r.intensity_uncertainty_rel) },
          { label: "PUE", num: true, cell: (r) => WP.sig(r.pue) }, { label: "CO2e per run", num: true, cell: (r) => WP.withPm(emissions(r.emissions_g), r.emissions_uncertainty_rel) },
        ], top));
      }).catch((e) => failure("regions", e));
  } else {
    fill("regions", el("p", { class: "empty", text: "no finished run to price yet" }));
  }

  WP.downloads("downloads", (fmt) => `/projects/${enc}/report?format=${fmt}`).catch((e) => failure("downloads", e));
  WP.badges("badges", "project=" + enc).catch((e) => failure("badges", e));
})();
