/* A run group (a distributed run): its totals with method and ±, the energy per node stacked by rank, its nodes,
   attempts, parts (each linked to its run page) and devices, each device counted once; report downloads. */
"use strict";
(async () => {
  const { request, el, fill, card, table, energy, emissions, power, duration, status, method, chart, colour, axis, failure } = WP;
  const id = WP.body.group;
  const enc = encodeURIComponent(id);
  let g;
  try { g = await request(`/groups/${enc}`); } catch (error) { if (error.status !== 401) failure("figures", error); return; }

  const rank = (p) => p.rank === null || p.rank === undefined ? "?" : String(p.rank);
  const partLabel = (p) => `rank ${rank(p)}` + (g.attempts > 1 ? ` (attempt ${p.attempt})` : "");
  document.title = `Run group ${g.group_id} · wattprint`;
  fill("crumbs", el("a", { href: "/", text: "Projects" }), " / ", WP.projectLink(g.project), " /");
  fill("meta", status(g.status), ` ${g.launcher} · ${g.parts.length} parts on ${g.nodes.length} node${g.nodes.length === 1 ? "" : "s"}` +
    (g.world_size ? ` · world size ${g.world_size}` : "") + (g.attempts > 1 ? ` · ${g.attempts} attempts` : "") +
    ` · started ${g.started_at.replace("T", " ").replace("Z", " UTC")}` + (g.name ? ` · ${g.name}` : ""));
  const avg = g.duration_s > 0 ? g.energy_j / g.duration_s : null;
  fill("figures",
    card("energy (IT)", energy(g.energy_j), g.energy_uncertainty_rel, g.method ? [method(g.method), " weakest method used"] : "no device yet", "figure-energy"),
    card("emissions", emissions(g.emissions_g), g.emissions_g === null ? null : g.emissions_uncertainty_rel, "each part at its own intensity", "figure-emissions"),
    card("wall time", duration(g.duration_s), null, "first start to last end", "figure-duration"),
    card("mean power", power(avg), g.energy_uncertainty_rel, "total energy over wall time"),
    card("parts", String(g.parts.length), null, `on ${g.nodes.length} node${g.nodes.length === 1 ? "" : "s"}`, "figure-parts"));

  // energy per node, one stacked bar per node, one dataset per part (rank): what each adds, each device once
  const nodes = g.nodes.map((n) => n.node);
  const biggest = Math.max(0, ...g.nodes.map((n) => n.energy_j));
  const [per, unit] = biggest >= 3.6e6 ? [3.6e6, "kWh"] : biggest >= 3600 ? [3600, "Wh"] : [1, "J"];
  chart("nodes", {
    type: "bar",
    data: { labels: nodes.map((n) => {
      const found = g.nodes.find((x) => x.node === n);
      return `node ${n} (${found.hostname})`;
    }), datasets: g.parts.map((p, i) => ({ label: partLabel(p), runId: p.run_id, backgroundColor: colour(i),
      data: nodes.map((n) => (p.node === n ? p.energy_j / per : 0)) })) },
    options: { indexAxis: "y", plugins: { legend: { display: g.parts.length <= 24, position: "right" } },
      scales: { x: axis(unit, { stacked: true, beginAtZero: true }), y: { stacked: true, grid: { display: false } } } },
  });
  document.getElementById("nodes-note").textContent = "what each part adds to the group, stacked per node (a leader carries its node's CPU and RAM)";

  fill("nodes", table([
    { label: "node", cell: (n) => n.node }, { label: "host", cell: (n) => n.hostname },
    { label: "parts", num: true, cell: (n) => n.parts }, { label: "energy", num: true, cell: (n) => energy(n.energy_j) },
    { label: "leader", cell: (n) => n.leader_run_id ? el("a", { href: "/runs/" + n.leader_run_id, text: n.leader_run_id.slice(0, 12) }) : el("span", { class: "empty", text: "none" }) },
  ], g.nodes));

  const attempts = [...new Set(g.parts.map((p) => p.attempt))].sort((a, b) => a - b).map((a) => {
    const parts = g.parts.filter((p) => p.attempt === a);
    return { attempt: a, parts: parts.length, statuses: [...new Set(parts.map((p) => p.status))], energy_j: parts.reduce((s, p) => s + p.energy_j, 0) };
  });
  fill("attempts", table([
    { label: "attempt", num: true, cell: (a) => a.attempt }, { label: "parts", num: true, cell: (a) => a.parts },
    { label: "status", cell: (a) => a.statuses.map((s) => [status(s), " "]) }, { label: "energy", num: true, cell: (a) => energy(a.energy_j) },
  ], attempts), g.attempts > 1 ? el("p", { class: "hint", text: "An elastic restart's energy counts too: the work was done." }) : null);

  fill("parts", table([
    { label: "rank", num: true, cell: rank }, { label: "local rank", num: true, cell: (p) => p.local_rank ?? "?" },
    { label: "node", cell: (p) => p.node }, { label: "attempt", num: true, cell: (p) => p.attempt },
    { label: "part", cell: (p) => el("a", { href: "/runs/" + p.run_id, "data-part": p.run_id, text: p.run_id.slice(0, 12) }) },
    { label: "status", cell: (p) => status(p.status) }, { label: "duration", num: true, cell: (p) => duration(p.duration_s) },
    { label: "adds", num: true, cell: (p) => energy(p.energy_j) },
    { label: "role", cell: (p) => p.measures_host ? "leader: its node's CPU and RAM" : "its own devices" },
  ], g.parts));

  fill("devices", table([
    { label: "node", cell: (d) => d.node }, { label: "component", cell: (d) => d.component }, { label: "device", cell: (d) => d.device },
    { label: "energy", num: true, cell: (d) => energy(d.energy_j) }, { label: "method", cell: (d) => method(d.method) },
    { label: "sent by", num: true, cell: (d) => d.reported_by > 1 ? `${d.reported_by} parts, counted once` : "1 part" },
  ], g.devices, { empty: "no device recorded yet" }));
  fill("notes", g.notes.map((n) => el("p", { class: "hint", text: "note: " + n })));

  const formats = ["md", "html", "latex"];
  const names = { md: "Markdown", html: "HTML", latex: "LaTeX" };
  const ext = { md: ".md", html: ".html", latex: ".tex" };
  fill("downloads", formats.map((f) => el("button", { class: "small", "data-format": f, title: "download the " + names[f] + " report",
    onclick: () => WP.download(`/groups/${enc}/report?format=${f}&download=true`, "group" + ext[f]).catch((e) => alert(e.message)) }, names[f])));
})();
