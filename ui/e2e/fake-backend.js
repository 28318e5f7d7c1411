// Stands in for the Rust side: what window.__TAURI_INTERNALS__ provides to @tauri-apps/api,
// with a small scripted service behind it (analyses, patients, decisions, audit rows).
// Runs before the page's own scripts. The spec injects the real data first as
// window.__PANO_FAKE_DATA = { image, geometry, findings? }: the sample radiograph as a data
// URL, the scripted geometry (e2e/fixtures/scripted-geometry.json) and no findings (scripted
// here to match it), or, for the stress flow, the engine's geometry and findings of it.
(() => {
  const data = window.__PANO_FAKE_DATA ?? {};
  const callbacks = new Map();
  const listeners = [];
  let nextId = 1;
  let nextAnalysis = 1;
  let nextPatient = 2;
  const calls = [];
  const kinds = ["MISSING", "IMPLANT", "RESIDUAL_ROOT", "CROWN_BRIDGE", "ROOT_CANAL_FILLING", "FILLING", "CARIES", "PERIAPICAL_RADIOLUCENCY"];
  const width = data.geometry?.width ?? 2356;
  const height = data.geometry?.height ?? 1292;

  // SCRIPTED by default: the spec injects e2e/fixtures/scripted-geometry.json (31 hand-placed
  // tooth outlines over the sample's teeth, 11 missing, and 8 findings): what real models
  // would give. The engine's own output from the random-weight test models is in
  // sample-geometry.json / sample-findings.json; one flow loads those as a stress case (then
  // data.findings is given and used as is).
  const geometry = data.geometry ?? { version: 1, width, height, teeth: [], findings: [] };
  // Scripted scores that match the geometry: each finding instance's score on its teeth,
  // MISSING for a tooth without an outline, everything else low (below the thresholds).
  let findings = data.findings?.map((f) => ({ fdi: String(f.fdi), finding: f.finding, score: f.score }));
  if (!findings) {
    const strong = new Map();
    for (const inst of geometry.findings) for (const t of inst.teeth) {
      const key = `${t.fdi}:${inst.finding}`;
      strong.set(key, Math.max(strong.get(key) ?? 0, inst.score));
    }
    const outlined = new Set(geometry.teeth.map((t) => t.fdi));
    findings = [];
    for (const q of [1, 2, 3, 4]) for (let t = 1; t <= 8; t++) for (const [i, k] of kinds.entries()) {
      const fdi = q * 10 + t;
      const score = k === "MISSING" ? (outlined.has(fdi) ? 0.02 : 0.95) : strong.get(`${fdi}:${k}`) ?? ((q * 8 + t + i) % 7) / 20;
      findings.push({ fdi: String(fdi), finding: k, score });
    }
  }
  const image = data.image ?? "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==";

  const analyses = new Map();
  const decisions = new Map(); // analysis id -> Map("fdi:finding" -> decision)
  const audit = new Map(); // analysis id -> rows
  const suggestions = new Map();
  const patients = [{ id: "p-1", display_name: "Ada Lovelace", external_id: "EXT-1", birth_date: "1815-12-10" }];
  let clock = Date.parse("2026-11-26T09:40:00Z");
  const now = () => new Date((clock += 61_000)).toISOString();
  const row = (id, name, status) => ({
    id, original_file_name: name, width, height, backend: "local", endpoint: null,
    model_version: "test-random-weights-1", execution_provider: "cpu", queue_ms: null, run_ms: 2400,
    status, patient_id: null, patient_name: null, approved_by: null, archived_location: null, test_model: true,
    error_message: null, created_at: "2026-11-26T10:00:00.000Z",
  });
  const log = (id, actor, action, detail = null) => {
    if (!audit.has(id)) audit.set(id, []);
    audit.get(id).push({ at: now(), actor, action, detail: detail === null ? null : JSON.stringify(detail) });
  };
  const decisionList = (id) => [...(decisions.get(id) ?? new Map()).values()];
  const emit = (event, payload) => {
    for (const l of listeners.filter((l) => l.event === event)) {
      const cb = callbacks.get(l.handler);
      if (cb) cb({ event, id: l.id, payload });
    }
  };
  const fail = (code, message) => { throw { code, message }; };
  const get = (id) => analyses.get(id) ?? fail("analysis_not_found", `no analysis ${id}`);
  const settings = {
    backend: "local", local_fallback: true, database: null, data_dir: null, models_dir: "/opt/pano/models",
    provider: "cpu", cloud_concurrency: 4, operator: null,
    runpod: { base_url: "https://api.runpod.ai/v2", endpoint_id: null, backup_endpoint_id: null, execution_timeout_s: 600, queue_timeout_s: 600, presign_ttl_s: 900, request_timeout_s: 60, max_attempts: 6 },
    s3: null, archive: { kind: "folder", path: "/mnt/archive" }, archive_input: "original", retry: { base_s: 5, cap_s: 300 },
  };
  const secrets = { runpod_api_key: true, s3_access_key_id: false, s3_secret_access_key: false };
  const handlers = {
    app_info: () => ({ version: "0.1.0", model_version: "test-random-weights-1", test_model: true,
      notice: "Random-weight test models of the real architectures: results are not for diagnosis.",
      precision: "fp32", models_problem: null, execution_provider: "cpu", models_dir: "/usr/lib/Pano/models",
      onnxruntime: "/usr/lib/Pano/onnxruntime/libonnxruntime.so.1.32.0", onnxruntime_problem: null,
      backend: "local", cloud_problem: null, keychain_problem: null }),
    queue: () => [...analyses.values()].filter((a) => a.status === "queued").map((a) => ({
      id: `job-${a.id}`, analysis_id: a.id, kind: "analyze", state: "queued", file_name: a.original_file_name, last_error: null, next_retry_at: null })),
    history: ({ filter }) => [...analyses.values()].filter((a) => !filter?.patient_id || a.patient_id === filter.patient_id).reverse(),
    take_launch: () => ({ launches: [], problem: null }),
    enqueue_files: ({ paths }) => paths.map((path) => {
      if (path.endsWith(".txt")) return { path, analysis: null, reused: false,
        error: { code: "image_unsupported_format", message: "not a supported image format (JPEG, PNG, TIFF, BMP or DICOM)" } };
      const id = `a${nextAnalysis++}`;
      const a = row(id, path.split("/").pop(), "queued");
      analyses.set(id, a);
      log(id, "", "created");
      if (path.endsWith(".dcm")) {
        suggestions.set(id, { display_name: "Erika Mustermann", external_id: "PID-7781", birth_date: "1968-04-02", existing_patient_id: null, source: "dicom" });
      }
      return { path, analysis: a, reused: false, error: null };
    }),
    open_analysis: ({ id, viewer }) => {
      const a = get(id);
      log(id, viewer ?? "", "viewed");
      const p = patients.find((x) => x.id === a.patient_id) ?? null;
      const done = ["completed", "approved"].includes(a.status);
      return { analysis: a, patient: p, findings: done ? findings : [],
        csv: done ? "file_name,fdi,finding,score\n" + findings.map((f) => `${a.original_file_name},${f.fdi},${f.finding},${f.score}`).join("\n") : null,
        notice: "Results of random-weight test models: not for diagnosis.", jobs: [], audit: audit.get(id) ?? [],
        decisions: decisionList(id), suggested_patient: suggestions.get(id) ?? null, has_geometry: done };
    },
    radiograph_image: ({ id }) => { const a = get(id); if (a.status === "rejected") fail("analysis_not_found", "the image was discarded"); return image; },
    analysis_geometry: ({ id }) => (["completed", "approved"].includes(get(id).status) ? geometry : null),
    decide_finding: ({ id, fdi, finding, decision, note, by }) => {
      const a = get(id);
      if (a.status !== "completed") fail("analysis_not_reviewable", "only an analysis waiting for review can be changed");
      if (!by) fail("decision_incomplete", "a decision needs the clinician's name");
      if (!decisions.has(id)) decisions.set(id, new Map());
      const map = decisions.get(id);
      const key = `${Number(fdi)}:${finding}`;
      const before = map.get(key)?.decision ?? "ai";
      if (decision === "clear") map.delete(key);
      else map.set(key, { fdi: Number(fdi), finding, decision, note: note ?? null, decided_by: by, decided_at: now() });
      log(id, by, "reviewed", { fdi: Number(fdi), finding, before, after: decision === "clear" ? "ai" : decision, note: note ?? null });
      return decisionList(id);
    },
    audit_trail: ({ id }) => audit.get(id) ?? [],
    search_patients: ({ query }) => patients.filter((p) => `${p.display_name} ${p.external_id ?? ""}`.toLowerCase().includes(query.toLowerCase())),
    approve: ({ id, patient, approver, thresholds }) => {
      if (!approver) fail("approval_incomplete", "approval needs the approving clinician's name");
      if (!thresholds || Object.keys(thresholds).length !== 8) fail("bad_thresholds", "eight thresholds are needed");
      const a = get(id);
      let p;
      if (patient.kind === "new") {
        p = { id: `p-${nextPatient++}`, display_name: patient.display_name, external_id: patient.external_id, birth_date: patient.birth_date };
        patients.push(p);
      } else {
        p = patients.find((x) => x.id === patient.id) ?? fail("patient_not_found", "no such patient");
      }
      Object.assign(a, { status: "approved", approved_by: approver, patient_id: p.id, patient_name: p.display_name,
        archived_location: "/mnt/archive/patients/" + p.id + "/" + id + "/" });
      log(id, approver, "approved");
      return { analysis: a, patient: p, archived_location: a.archived_location, pending_reason: null, already_approved: false };
    },
    reject: ({ id, by }) => { const a = get(id); a.status = "rejected"; decisions.delete(id); log(id, by, "rejected"); return a; },
    retry: ({ id }) => { const a = get(id); a.status = "queued"; a.error_message = null; },
    cancel: () => true,
    get_settings: () => structuredClone(settings),
    save_settings: ({ settings: s }) => { Object.assign(settings, s); return { runpod_key_cleared: false }; },
    secret_status: () => Object.entries(secrets).map(([name, is_set]) => ({ name, is_set })),
    set_secret: ({ name }) => { secrets[name] = true; },
    clear_secret: ({ name }) => { secrets[name] = false; },
    "plugin:event|listen": ({ event, handler }) => { const id = nextId++; listeners.push({ event, handler, id }); return id; },
    "plugin:event|unlisten": () => null,
    "plugin:dialog|open": () => null,
  };
  window.__TAURI_INTERNALS__ = {
    metadata: { currentWindow: { label: "main" }, currentWebview: { windowLabel: "main", label: "main" } },
    transformCallback(cb) { const id = nextId++; callbacks.set(id, cb); return id; },
    unregisterCallback(id) { callbacks.delete(id); },
    convertFileSrc: (p) => p,
    async invoke(cmd, args) {
      calls.push({ cmd, args });
      const handler = handlers[cmd];
      if (!handler) throw { code: "unknown_command", message: cmd };
      return handler(args ?? {});
    },
  };
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = { unregisterListener: () => {} };
  // For the tests.
  window.__fake = {
    calls, emit, geometry, findings,
    finish(id) {
      const a = analyses.get(id);
      a.status = "completed";
      emit("analysis-progress", { analysis_id: id, file_name: a.original_file_name, state: "completed" });
    },
    fail(id, message) {
      const a = analyses.get(id);
      Object.assign(a, { status: "failed", error_message: message });
      emit("analysis-progress", { analysis_id: id, file_name: a.original_file_name, state: "failed", code: "image_corrupt", message });
    },
  };
})();
