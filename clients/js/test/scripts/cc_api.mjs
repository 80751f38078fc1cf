// node cc_api.mjs URL TOKEN: CodeCarbon's API calls (project, experiment, run, two reports) to a wattprint server.
import { CodecarbonApiClient } from "@wattprint/client/codecarbon";
const [url, token] = process.argv.slice(2);
const cc = new CodecarbonApiClient({ url, apiKey: token });
const project = await cc.createProject("cc-js");
const experiment = await cc.createExperiment({ name: "from js", project_id: project.id, country_iso_code: "FRA" });
const run = await cc.startRun({ experiment_id: experiment.id, cpu_count: 4, cpu_model: "Test CPU",
                                timestamp: "2026-11-30T10:00:00+00:00" });
for (const [i, t] of ["2026-11-30T10:00:10+00:00", "2026-11-30T10:00:20+00:00"].entries()) {
  await cc.addEmission({ run_id: run.id, timestamp: t, duration: 10, emissions_sum: 0.0001 * (i + 1),
    cpu_energy: 0.001, gpu_energy: 0, ram_energy: 0.0005, energy_consumed: 0.0015, cpu_power: 360, ram_power: 180 });
}
let refused = null;
try { await new CodecarbonApiClient({ url, apiKey: "wp_000000000000_" + "x".repeat(40) }).createProject("nope"); }
catch (e) { refused = e.status; }
console.log(JSON.stringify({ run: run.wattprint_run_id, refused }));
