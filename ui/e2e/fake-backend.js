// Stands in for the Rust side: what window.__TAURI_INTERNALS__ provides to @tauri-apps/api,
// with a small scripted service behind it. Runs before the page's own scripts.
(() => {
  const callbacks = new Map();
  const listeners = [];
  let nextId = 1;
  let nextAnalysis = 1;
  const calls = [];
  const findings = [];
  const kinds = ["MISSING", "IMPLANT", "RESIDUAL_ROOT", "CROWN_BRIDGE", "ROOT_CANAL_FILLING", "FILLING", "CARIES", "PERIAPICAL_RADIOLUCENCY"];
  for (const q of [1, 2, 3, 4]) for (let t = 1; t <= 8; t++) for (const [i, k] of kinds.entries()) {
    const fdi = `${q}${t}`;
    // Tooth 11 missing, 36 caries, 46 root canal filling; the rest low.
    const strong = (fdi === "11" && k === "MISSING") || (fdi === "36" && k === "CARIES") || (fdi === "46" && k === "ROOT_CANAL_FILLING");
    findings.push({ fdi, finding: k, score: strong ? 0.9 : ((q * 8 + t + i) % 7) / 20 });
  }
  const pixel = "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==";
  const analyses = new Map();
  const row = (id, name, status) => ({
    id, original_file_name: name, width: 2356, height: 1292, backend: "local", endpoint: null,
    model_version: "test-random-weights-1", execution_provider: "cpu", queue_ms: null, run_ms: 2400,
    status, patient_id: null, approved_by: null, archived_location: null, test_model: true,
    error_message: null, created_at: "2026-11-26T10:00:00.000Z",
  });
  const emit = (event, payload) => {
    for (const l of listeners.filter((l) => l.event === event)) {
      const cb = callbacks.get(l.handler);
      if (cb) cb({ event, id: l.id, payload });
    }
  };
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
      models_problem: null, execution_provider: "cpu", models_dir: "/usr/lib/Pano/models",
      onnxruntime: "/usr/lib/Pano/onnxruntime/libonnxruntime.so.1.32.0", onnxruntime_problem: null,
      backend: "local", cloud_problem: null, keychain_problem: null }),
    queue: () => [...analyses.values()].filter((a) => a.status === "queued").map((a) => ({
      id: `job-${a.id}`, analysis_id: a.id, kind: "analyze", state: "queued", file_name: a.original_file_name, last_error: null, next_retry_at: null })),
    history: () => [...analyses.values()],
    take_opened_files: () => [],
    enqueue_files: ({ paths }) => paths.map((path) => {
      if (path.endsWith(".txt")) return { path, analysis: null, reused: false,
        error: { code: "image_unsupported_format", message: "not a supported image format (JPEG, PNG, TIFF, BMP or DICOM)" } };
      const id = `a${nextAnalysis++}`;
      const a = row(id, path.split("/").pop(), "queued");
      analyses.set(id, a);
      return { path, analysis: a, reused: false, error: null };
    }),
    open_analysis: ({ id }) => {
      const a = analyses.get(id);
      const patient = a.patient_id ? { id: a.patient_id, display_name: a.patient_name, external_id: null } : null;
      return { analysis: a, patient, findings: a.status === "queued" ? [] : findings, csv: "file_name,fdi,finding,score\n",
        notice: "Results of random-weight test models: not for diagnosis.", jobs: [], audit: [] };
    },
    debug_image: () => pixel,
    search_patients: ({ query }) => (query.toLowerCase().startsWith("ad") ? [{ id: "p-1", display_name: "Ada Lovelace", external_id: "EXT-1" }] : []),
    approve: ({ id, patient, approver }) => {
      if (!approver) throw { code: "approval_incomplete", message: "approval needs the approving clinician's name" };
      const a = analyses.get(id);
      Object.assign(a, { status: "approved", approved_by: approver, patient_id: "p-2", patient_name: patient.display_name,
        archived_location: "/mnt/archive/patients/p-2/" + id + "/" });
      return { analysis: a, patient: { id: "p-2", display_name: patient.display_name ?? "Ada Lovelace", external_id: null },
        archived_location: a.archived_location, pending_reason: null, already_approved: false };
    },
    reject: ({ id }) => Object.assign(analyses.get(id), { status: "rejected" }),
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
    calls, emit,
    finish(id) {
      const a = analyses.get(id);
      a.status = "completed";
      emit("analysis-progress", { analysis_id: id, file_name: a.original_file_name, state: "completed" });
    },
  };
})();
