// Wires the DOM to the commands. Logic worth testing lives in findings.ts and queue.ts.
import { listen } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { open } from "@tauri-apps/plugin-dialog";
import * as api from "./api";
import { errorText, type AnalysisDetail, type JobRow, type QueueProblem, type Settings } from "./api";
import {
  FINDING_COLOURS,
  FINDING_KINDS,
  LOWER_TEETH,
  UPPER_TEETH,
  label,
  parseThresholds,
  percent,
  tableRows,
  toothColours,
  type SortKey,
} from "./findings";
import { cancellable, describeJob, describeQueueProblem, type JobEvent } from "./queue";
import { startupNotices } from "./notices";

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const el = <K extends keyof HTMLElementTagNameMap>(tag: K, text?: string): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
};

let thresholds = parseThresholds(localStorage.getItem("pano.thresholds"));
let current: AnalysisDetail | null = null;
const lastEvent = new Map<string, JobEvent>();
const tableQuery = { kinds: new Set<string>(), minScore: 0, aboveThresholdOnly: true, sort: "fdi" as SortKey, descending: false };

function setStatus(id: string, text: string, isError = false): void {
  const status = $(id);
  status.textContent = text;
  status.classList.toggle("error", isError);
}

// ---- views, theme ----
function showView(name: "analyses" | "history" | "settings"): void {
  for (const v of ["analyses", "history", "settings"] as const) {
    $(`view-${v}`).hidden = v !== name;
    $(`nav-${v}`).toggleAttribute("aria-current", v === name);
  }
  if (name === "settings") void loadSettings();
  if (name === "history") void loadHistory();
}

function applyTheme(theme: string | null): void {
  if (theme) document.documentElement.dataset.theme = theme;
}

// ---- queue ----
async function refreshQueue(): Promise<void> {
  let jobs: JobRow[] = [];
  try {
    jobs = await api.queue();
  } catch (e) {
    setStatus("status", errorText(e), true);
  }
  const list = $("queue");
  const items = jobs.map((job) => {
    const li = el("li");
    const event = lastEvent.get(job.analysis_id);
    const open = el("button", job.file_name);
    open.className = "link";
    open.onclick = () => void showAnalysis(job.analysis_id);
    const state = el("span", event ? describeJob(event) : job.state.replace(/_/g, " "));
    state.className = "muted";
    li.append(open, state);
    if (job.last_error) li.append(el("small", job.last_error));
    if (job.kind === "analyze" && cancellable(event?.state ?? job.state)) {
      const stop = el("button", "Cancel");
      stop.onclick = () => void api.cancel(job.analysis_id).then(refreshQueue, (e) => setStatus("status", errorText(e), true));
      li.append(stop);
    }
    return li;
  });
  // Recently finished ones stay visible for review.
  for (const [id, event] of lastEvent) {
    if (jobs.some((j) => j.analysis_id === id)) continue;
    if (!["completed", "failed", "reused", "archived", "cancelled"].includes(event.state)) continue;
    const li = el("li");
    const open = el("button", (event as JobEvent & { file_name?: string }).file_name ?? id);
    open.className = "link";
    open.onclick = () => void showAnalysis(id);
    const state = el("span", describeJob(event));
    state.className = event.state === "failed" ? "error" : "muted";
    li.append(open, state);
    if (event.state === "failed") {
      const again = el("button", "Retry");
      again.onclick = () => void api.retry(id).then(refreshQueue, (e) => setStatus("status", errorText(e), true));
      li.append(again);
    }
    items.push(li);
  }
  list.replaceChildren(...items);
}

async function addFiles(paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  setStatus("status", `Adding ${paths.length} file(s)…`);
  try {
    const results = await api.enqueueFiles(paths);
    const refused = results.filter((r) => r.error);
    for (const r of results) {
      if (r.analysis) {
        lastEvent.set(r.analysis.id, { state: r.reused ? "reused" : "queued", file_name: r.analysis.original_file_name } as JobEvent);
      }
    }
    setStatus(
      "status",
      refused.length ? refused.map((r) => `${r.path}: ${r.error?.message}`).join("\n") : `${results.length} added.`,
      refused.length > 0,
    );
    const first = results.find((r) => r.analysis);
    if (first?.analysis && (first.reused || first.analysis.status === "completed")) void showAnalysis(first.analysis.id);
  } catch (e) {
    setStatus("status", errorText(e), true);
  }
  await refreshQueue();
}

// ---- analysis view ----
let zoom = 1;
let pan = { x: 0, y: 0 };
function applyTransform(): void {
  $("viewer-image").style.transform = `translate(${pan.x}px, ${pan.y}px) scale(${zoom})`;
}
function zoomBy(factor: number): void {
  zoom = Math.min(8, Math.max(1, zoom * factor));
  if (zoom === 1) pan = { x: 0, y: 0 };
  applyTransform();
}

async function showLayer(): Promise<void> {
  if (!current) return;
  const layer = (document.querySelector('input[name="layer"]:checked') as HTMLInputElement).value as
    | "semantic-segmentation"
    | "instance-detection";
  try {
    ($("viewer-image") as HTMLImageElement).src = await api.debugImage(current.analysis.id, layer);
  } catch (e) {
    ($("viewer-image") as HTMLImageElement).removeAttribute("src");
    setStatus("status", errorText(e), true);
  }
}

function renderOdontogram(): void {
  if (!current) return;
  const colours = toothColours(current.findings, thresholds);
  const row = (teeth: string[]): HTMLElement => {
    const div = el("div");
    div.className = "teeth";
    for (const fdi of teeth) {
      const f = colours.get(fdi);
      const tooth = el("span", fdi);
      tooth.className = "tooth";
      if (f) {
        tooth.style.background = FINDING_COLOURS[f.finding];
        tooth.classList.add("marked");
      }
      tooth.title = f ? `${fdi}: ${label(f.finding)} ${percent(f.score)}` : `${fdi}: nothing over threshold`;
      div.append(tooth);
    }
    return div;
  };
  $("odontogram").replaceChildren(row(UPPER_TEETH), row(LOWER_TEETH));
  $("legend").replaceChildren(
    ...FINDING_KINDS.map((k) => {
      const item = el("span", label(k));
      item.style.setProperty("--swatch", FINDING_COLOURS[k]);
      return item;
    }),
  );
}

function renderTable(): void {
  if (!current) return;
  const body = $<HTMLTableElement>("findings").tBodies[0];
  body.replaceChildren(
    ...tableRows(current.findings, tableQuery, thresholds).map((f) => {
      const tr = el("tr");
      tr.append(el("td", f.fdi), el("td", label(f.finding)), el("td", percent(f.score)));
      return tr;
    }),
  );
}

function renderThresholds(): void {
  $("thresholds").replaceChildren(
    ...FINDING_KINDS.map((k) => {
      const lab = el("label", `${label(k)} `);
      const input = el("input");
      Object.assign(input, { type: "number", min: "0", max: "1", step: "0.05", value: String(thresholds[k]) });
      input.onchange = () => {
        const v = Number(input.value);
        if (v >= 0 && v <= 1) {
          thresholds = { ...thresholds, [k]: v };
          localStorage.setItem("pano.thresholds", JSON.stringify(thresholds));
          renderOdontogram();
          renderTable();
        }
      };
      lab.append(input);
      return lab;
    }),
  );
}

async function showAnalysis(id: string): Promise<void> {
  try {
    current = await api.openAnalysis(id, localStorage.getItem("pano.clinician") ?? "");
  } catch (e) {
    setStatus("status", errorText(e), true);
    return;
  }
  const a = current.analysis;
  $("analysis").hidden = false;
  $("analysis-title").textContent = `${a.original_file_name} — ${a.width}×${a.height}`;
  const where = a.endpoint ? `RunPod ${a.endpoint}` : `this computer${a.execution_provider ? ` (${a.execution_provider})` : ""}`;
  $("analysis-meta").textContent = `${a.status} · ${where} · models ${a.model_version}${a.run_ms ? ` · ${(a.run_ms / 1000).toFixed(1)} s` : ""}`;
  const notice = $("analysis-notice");
  notice.hidden = !current.notice;
  notice.textContent = current.notice ?? "";
  $("csv").textContent = current.csv ?? "(no result yet)";
  zoom = 1;
  pan = { x: 0, y: 0 };
  applyTransform();
  renderOdontogram();
  renderTable();
  const decided = a.status !== "completed";
  ($("approve") as HTMLButtonElement).disabled = decided;
  ($("reject") as HTMLButtonElement).disabled = !["completed", "failed"].includes(a.status);
  setStatus(
    "decision-status",
    a.status === "approved"
      ? `Approved by ${a.approved_by ?? "?"} for ${current.patient?.display_name ?? "?"}` +
          (a.archived_location ? `; filed in ${a.archived_location}` : "; waiting to be filed")
      : "",
  );
  if (current.findings.length > 0) await showLayer();
}

async function decide(approveIt: boolean): Promise<void> {
  if (!current) return;
  const clinician = ($("approver") as HTMLInputElement).value.trim();
  localStorage.setItem("pano.clinician", clinician);
  try {
    if (approveIt) {
      const text = ($("patient-search") as HTMLInputElement).value.trim();
      const isNew = ($("new-patient") as HTMLInputElement).checked;
      const patient: api.PatientArg = isNew
        ? { kind: "new", display_name: text, external_id: ($("external-id") as HTMLInputElement).value.trim() || null }
        : { kind: "existing", id: text.split(" · ").pop() ?? text };
      const outcome = await api.approve(current.analysis.id, patient, clinician);
      await showAnalysis(current.analysis.id);
      if (!outcome.archived_location) {
        setStatus("decision-status", `Approved for ${outcome.patient.display_name}; filing waits: ${outcome.pending_reason ?? "storage"}`);
      }
    } else {
      await api.reject(current.analysis.id, clinician);
      await showAnalysis(current.analysis.id);
      setStatus("decision-status", "Rejected: the results and uploads were discarded.");
    }
  } catch (e) {
    setStatus("decision-status", errorText(e), true);
  }
}

async function suggestPatients(): Promise<void> {
  const text = ($("patient-search") as HTMLInputElement).value.trim();
  if (text.length < 2 || ($("new-patient") as HTMLInputElement).checked) return;
  try {
    const found = await api.searchPatients(text);
    $("patient-list").replaceChildren(
      ...found.map((p) => {
        const o = el("option");
        o.value = `${p.display_name}${p.external_id ? ` (${p.external_id})` : ""} · ${p.id}`;
        return o;
      }),
    );
  } catch {
    // suggestions are a convenience
  }
}

// ---- history ----
async function loadHistory(): Promise<void> {
  const who = ($("history-patient") as HTMLInputElement).value.trim();
  const since = ($("history-since") as HTMLInputElement).value;
  const until = ($("history-until") as HTMLInputElement).value;
  try {
    let patientId: string | undefined;
    if (who) {
      const found = await api.searchPatients(who);
      if (found.length === 0) {
        $<HTMLTableElement>("history").tBodies[0].replaceChildren();
        return;
      }
      patientId = found[0].id;
    }
    const rows = await api.history({ patient_id: patientId, since: since || undefined, until: until || undefined, limit: 100 });
    $<HTMLTableElement>("history").tBodies[0].replaceChildren(
      ...rows.map((r) => {
        const tr = el("tr");
        const name = el("td");
        const link = el("button", r.original_file_name);
        link.className = "link";
        link.onclick = () => {
          showView("analyses");
          void showAnalysis(r.id);
        };
        name.append(link);
        tr.append(el("td", r.created_at.slice(0, 16).replace("T", " ")), name, el("td", r.status),
          el("td", `${r.model_version}${r.test_model ? " (test)" : ""}`), el("td", r.patient_id ?? ""));
        return tr;
      }),
    );
  } catch (e) {
    setStatus("status", errorText(e), true);
  }
}

// ---- settings ----
let loadedSettings: Settings = {};
function getPath(obj: Settings, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj);
}
function setPath(obj: Settings, path: string, value: unknown): void {
  const keys = path.split(".");
  let o = obj as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) {
    if (!o[k] || typeof o[k] !== "object") o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1]] = value;
}

async function loadSettings(): Promise<void> {
  try {
    loadedSettings = await api.getSettings();
    const form = $("settings-form") as HTMLFormElement;
    for (const input of Array.from(form.querySelectorAll<HTMLInputElement | HTMLSelectElement>("[name]"))) {
      const value = getPath(loadedSettings, input.name);
      if (input instanceof HTMLInputElement && input.type === "checkbox") input.checked = value === true;
      else input.value = value === null || value === undefined ? "" : String(value);
    }
    for (const s of await api.secretStatus()) {
      const input = $(`secret-${s.name}`) as HTMLInputElement;
      input.value = "";
      input.placeholder = s.is_set ? "stored in the keychain (type to replace)" : "not set";
    }
  } catch (e) {
    setStatus("settings-status", errorText(e), true);
  }
}

async function saveSettingsForm(): Promise<void> {
  const form = $("settings-form") as HTMLFormElement;
  const next: Settings = structuredClone(loadedSettings);
  for (const input of Array.from(form.querySelectorAll<HTMLInputElement | HTMLSelectElement>("[name]"))) {
    const value = input instanceof HTMLInputElement && input.type === "checkbox" ? input.checked : input.value.trim() || null;
    if (input.name.startsWith("s3.") && !next.s3 && (value === null || value === false)) continue;
    setPath(next, input.name, value);
  }
  const archive = next.archive as Record<string, unknown>;
  if (archive.kind !== "folder") delete archive.path;
  try {
    // Settings first: a new RunPod address removes the old key, and a key typed in this
    // same form is meant for the new address.
    const saved = await api.saveSettings(next);
    let typedRunpodKey = false;
    for (const name of ["runpod_api_key", "s3_access_key_id", "s3_secret_access_key"] as const) {
      const value = ($(`secret-${name}`) as HTMLInputElement).value;
      if (value.trim()) {
        await api.setSecret(name, value);
        if (name === "runpod_api_key") typedRunpodKey = true;
      }
    }
    setStatus(
      "settings-status",
      saved.runpod_key_cleared && !typedRunpodKey
        ? "Saved. The RunPod address changed: enter the RunPod API key again for the new address."
        : "Saved.",
      saved.runpod_key_cleared && !typedRunpodKey,
    );
    await Promise.all([loadSettings(), loadInfo()]);
  } catch (e) {
    setStatus("settings-status", errorText(e), true);
  }
}

// ---- start ----
async function loadInfo(): Promise<void> {
  try {
    const info = await api.appInfo();
    $("model-info").textContent = `v${info.version} · models ${info.model_version ?? "none"} · ${info.backend} · ${info.execution_provider}`;
    const banner = $("test-model-banner");
    banner.hidden = !info.test_model;
    banner.textContent = info.notice ?? "Test models with random weights: results are not for diagnosis.";
    $("runtime-info").textContent =
      `In use: models ${info.models_dir ?? "none"} · ONNX Runtime ${info.onnxruntime ?? "not found"}`;
    ($("settings-form").querySelector("[name=models_dir]") as HTMLInputElement).placeholder =
      info.models_dir ? `default: ${info.models_dir}` : "";
    const { problems, notes } = startupNotices(info);
    const bar = $("problems");
    bar.hidden = problems.length + notes.length === 0;
    bar.classList.toggle("note", problems.length === 0);
    bar.textContent = [...problems, ...notes].join(" · ");
  } catch (e) {
    $("problems").hidden = false;
    $("problems").classList.remove("note");
    $("problems").textContent = errorText(e);
  }
}

async function start(): Promise<void> {
  applyTheme(localStorage.getItem("pano.theme"));
  ($("approver") as HTMLInputElement).value = localStorage.getItem("pano.clinician") ?? "";
  $("nav-analyses").onclick = () => showView("analyses");
  $("nav-history").onclick = () => showView("history");
  $("nav-settings").onclick = () => showView("settings");
  $("theme").onclick = () => {
    const dark = document.documentElement.dataset.theme !== "dark";
    document.documentElement.dataset.theme = dark ? "dark" : "light";
    localStorage.setItem("pano.theme", document.documentElement.dataset.theme);
  };
  const pick = async (): Promise<void> => {
    const chosen = await open({ multiple: true, filters: [{ name: "Radiographs", extensions: ["jpg", "jpeg", "png", "tif", "tiff", "bmp", "dcm"] }] });
    await addFiles(Array.isArray(chosen) ? chosen : chosen ? [chosen] : []);
  };
  $("pick-files").onclick = () => void pick();
  $("drop-zone").onkeydown = (e) => {
    if (e.key === "Enter") void pick();
  };
  for (const radio of Array.from(document.querySelectorAll('input[name="layer"]'))) {
    radio.addEventListener("change", () => void showLayer());
  }
  $("zoom-in").onclick = () => zoomBy(1.25);
  $("zoom-out").onclick = () => zoomBy(0.8);
  $("zoom-reset").onclick = () => zoomBy(0);
  const viewer = $("viewer");
  viewer.onwheel = (e) => {
    e.preventDefault();
    zoomBy(e.deltaY < 0 ? 1.15 : 0.87);
  };
  viewer.onkeydown = (e) => {
    if (e.key === "+" || e.key === "=") zoomBy(1.25);
    if (e.key === "-") zoomBy(0.8);
  };
  let drag: { x: number; y: number } | null = null;
  viewer.onpointerdown = (e) => {
    drag = { x: e.clientX - pan.x, y: e.clientY - pan.y };
    viewer.setPointerCapture(e.pointerId);
  };
  viewer.onpointermove = (e) => {
    if (!drag || zoom === 1) return;
    pan = { x: e.clientX - drag.x, y: e.clientY - drag.y };
    applyTransform();
  };
  viewer.onpointerup = () => (drag = null);
  const kind = $("filter-kind") as HTMLSelectElement;
  kind.append(...FINDING_KINDS.map((k) => Object.assign(el("option", label(k)), { value: k })));
  kind.onchange = () => {
    tableQuery.kinds = kind.value ? new Set([kind.value]) : new Set();
    renderTable();
  };
  ($("filter-min") as HTMLInputElement).onchange = (e) => {
    tableQuery.minScore = Number((e.target as HTMLInputElement).value) || 0;
    renderTable();
  };
  ($("filter-over") as HTMLInputElement).onchange = (e) => {
    tableQuery.aboveThresholdOnly = (e.target as HTMLInputElement).checked;
    renderTable();
  };
  for (const button of Array.from(document.querySelectorAll<HTMLButtonElement>("button[data-sort]"))) {
    button.onclick = () => {
      const key = button.dataset.sort as SortKey;
      tableQuery.descending = tableQuery.sort === key ? !tableQuery.descending : key === "score";
      tableQuery.sort = key;
      renderTable();
    };
  }
  $("copy-csv").onclick = () => void navigator.clipboard?.writeText(current?.csv ?? "");
  $("save-csv").onclick = async () => {
    if (!current) return;
    try {
      // The app asks where in its own save dialog; the UI never names a path to write.
      const target = await api.saveCsv(current.analysis.id, localStorage.getItem("pano.clinician") ?? "");
      if (target) setStatus("status", `Saved ${target}`);
    } catch (e) {
      setStatus("status", errorText(e), true);
    }
  };
  $("decision").onsubmit = (e) => {
    e.preventDefault();
    void decide(true);
  };
  $("reject").onclick = () => void decide(false);
  $("patient-search").oninput = () => void suggestPatients();
  $("history-form").onsubmit = (e) => {
    e.preventDefault();
    void loadHistory();
  };
  $("settings-form").onsubmit = (e) => {
    e.preventDefault();
    void saveSettingsForm();
  };
  $("test-models").onclick = () =>
    void api.testModels().then(
      (what) => setStatus("test-models-result", what),
      (e) => setStatus("test-models-result", errorText(e), true),
    );
  $("test-archive").onclick = () =>
    void api.testArchive().then(
      (check) => setStatus("test-archive-result", [check.summary, ...check.warnings.map((w) => w.message)].join(" · ")),
      (e) => setStatus("test-archive-result", errorText(e), true),
    );
  $("test-cloud").onclick = () =>
    void api.testCloud().then(
      (check) => setStatus("test-cloud-result", [check.summary, ...check.warnings.map((w) => w.message)].join(" · ")),
      (e) => setStatus("test-cloud-result", errorText(e), true),
    );
  $("clear-keys").onclick = () =>
    void Promise.all((["runpod_api_key", "s3_access_key_id", "s3_secret_access_key"] as const).map((n) => api.clearSecret(n)))
      .then(loadSettings, (e) => setStatus("settings-status", errorText(e), true));
  renderThresholds();
  await loadInfo();

  await listen<JobEvent & { analysis_id: string; file_name: string }>("analysis-progress", (event) => {
    lastEvent.set(event.payload.analysis_id, event.payload);
    void refreshQueue();
    if (event.payload.state === "completed" && (!current || current.analysis.status !== "completed")) {
      void showAnalysis(event.payload.analysis_id);
    } else if (current?.analysis.id === event.payload.analysis_id && ["completed", "archived"].includes(event.payload.state)) {
      void showAnalysis(event.payload.analysis_id);
    }
  });
  await listen<QueueProblem>("queue-problem", (event) => {
    const notice = $("queue-problem");
    notice.hidden = false;
    notice.textContent = describeQueueProblem(event.payload);
  });
  await listen("queue-recovered", () => {
    $("queue-problem").hidden = true;
    setStatus("status", "The analysis queue is running again.");
    void refreshQueue();
  });
  // The keychain was locked or not there at start and can be read now.
  await listen("keys-ready", () => void loadInfo());
  const zone = $("drop-zone");
  await getCurrentWebview().onDragDropEvent((event) => {
    const type = event.payload.type;
    zone.classList.toggle("over", type === "enter" || type === "over");
    if (type === "drop") void addFiles(event.payload.paths);
  });
  // Results from before a restart that still wait for a decision.
  try {
    for (const row of await api.history({ limit: 20 })) {
      if (row.status === "completed" && !lastEvent.has(row.id)) {
        lastEvent.set(row.id, { state: "completed", file_name: row.original_file_name } as JobEvent);
      }
    }
  } catch (e) {
    setStatus("status", errorText(e), true);
  }
  await refreshQueue();
  await listen("files-opened", () => void api.takeOpenedFiles().then(addFiles));
  await addFiles(await api.takeOpenedFiles());
}

void start();
