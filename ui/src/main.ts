// Wires the review workspace together: which analysis is open, the calls that change it, the
// keyboard. Each view lives in views/; logic worth testing in the pure modules (findings,
// review, geometry, viewport, adjust, keys, time, queue, notices).
import { listen } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { open } from "@tauri-apps/plugin-dialog";
import * as api from "./api";
import { errorText, type DecisionKind, type Geometry, type QueueProblem } from "./api";
import { $, el, input, setStatus, typingIn } from "./dom";
import { FINDING_KINDS, label } from "./findings";
import { ACTION_WORDS, SHORTCUTS, actionFor, keyLabel, type Action } from "./keys";
import { fasterPack, startupNotices } from "./notices";
import { describeQueueProblem, type JobEvent } from "./queue";
import { formatBirthDate } from "./time";
import { decisionKey, reviewProgress } from "./review";
import { clinician, reviewable, reviewed, state } from "./state";
import { initAudit, renderAudit } from "./views/audit";
import { approveFlow, initDecision, rejectFlow, renderDecisionState, resetDecisionForm } from "./views/decision";
import { loadHistory } from "./views/history";
import { initPacs } from "./views/pacs";
import { initOdontogram, renderOdontogram } from "./views/odontogram";
import { initOverlays, renderFindings, renderTeeth, toggleAll, toggleLayer } from "./views/overlays";
import { lastEvent, refreshQueue, waitingForReview } from "./views/queue";
import { initSettings, loadSettings } from "./views/settings";
import { initTable, renderTable } from "./views/table";
import { renderTooth } from "./views/tooth";
import { currentFilter, fit, initViewer, oneToOne, pan, resetAdjustments, setImage, toggleInvert, zoomBy } from "./views/viewer";

/** Open-to-overlay times (ms) for the tests and the curious: window.__pano.timings. */
const timings: { id: string; openToOverlayMs: number; ipcMs: number; renderMs: number; imageDecodedMs: number | null }[] = [];
(window as unknown as { __pano: unknown }).__pano = { timings };

let dragging = false;
const cache = new Map<string, { image: string | null; geometry: Geometry | null }>();

// ---- views ----
type View = "analyses" | "history" | "settings";
function showView(name: View): void {
  for (const v of ["analyses", "history", "settings"] as const) {
    $(`view-${v}`).hidden = v !== name;
    $(`nav-${v}`).toggleAttribute("aria-current", v === name);
  }
  if (name === "settings") void loadSettings();
  if (name === "history") void loadHistory(openFromList);
}

type Panel = "findings" | "tooth" | "audit" | "queue";
function showPanel(name: Panel): void {
  for (const p of ["findings", "tooth", "audit", "queue"] as const) {
    $(`panel-${p}`).hidden = p !== name;
    $(`tab-${p}`).setAttribute("aria-selected", String(p === name));
  }
}

const queueRefresh = (): Promise<void> => refreshQueue(openFromList, state.current?.analysis.id ?? null);

function openFromList(id: string): void {
  showView("analyses");
  void showAnalysis(id);
}

// ---- the open analysis ----
function renderReview(): void {
  const rows = reviewed();
  const editable = reviewable();
  $("add-form").hidden = !editable;
  renderOdontogram(rows, openTooth, state.tooth);
  renderTable(rows, editable, decide, openTooth);
  renderFindings(state.geometry, state.thresholds, state.decisions);
  if (state.tooth) renderTooth(state.tooth, rows, state.geometry, state.image, currentFilter(), editable, decide);
  const { pending, decided } = reviewProgress(rows);
  const summary = $("review-summary");
  const a = state.current?.analysis;
  if (!a || rows.length === 0) summary.textContent = "";
  else if (pending + decided === 0)
    summary.textContent = "Nothing at or above the thresholds: the AI found nothing to show. Lower a threshold, or add a finding it missed.";
  else summary.textContent = editable ? `${pending} AI finding(s) to review · ${decided} decided` : `${decided} decision(s) recorded`;
}

function openTooth(fdi: string): void {
  state.tooth = fdi;
  showPanel("tooth");
  renderReview();
}

async function decide(fdi: string, finding: string, decision: DecisionKind | "clear", note: string | null): Promise<void> {
  const current = state.current;
  if (!current) return;
  const by = input("approver").value.trim();
  if (!by) {
    setStatus("decision-status", "Type your name as the clinician first: every decision is recorded with it.", true);
    input("approver").focus();
    return;
  }
  localStorage.setItem("pano.clinician", by);
  let wanted = decision;
  if (decision === "added") {
    const row = reviewed().find((r) => decisionKey(r.fdi, r.finding) === decisionKey(fdi, finding));
    // The AI already shows it: adding it means agreeing with it.
    if (row?.over) wanted = "confirmed";
  }
  setStatus("decision-status", "");
  try {
    state.decisions = await api.decideFinding(current.analysis.id, Number(fdi), finding, wanted, note, by);
    renderReview();
    setStatus("status", wanted === "clear" ? `Decision on ${label(finding)} ${fdi} withdrawn.` : `${label(finding)} on tooth ${fdi}: ${wanted}.`, false, true);
    renderAudit(await api.auditTrail(current.analysis.id));
  } catch (e) {
    setStatus("status", errorText(e), true);
  }
}

async function loadVisuals(id: string, hasGeometry: boolean): Promise<{ image: string | null; geometry: Geometry | null }> {
  const hit = cache.get(id);
  if (hit) return hit;
  const [image, geometry] = await Promise.all([
    api.radiographImage(id).catch(() => null),
    hasGeometry ? api.analysisGeometry(id).catch(() => null) : Promise.resolve(null),
  ]);
  const entry = { image, geometry };
  if (image) {
    cache.set(id, entry);
    if (cache.size > 4) cache.delete(cache.keys().next().value as string);
  }
  return entry;
}

async function showAnalysis(id: string): Promise<void> {
  const t0 = performance.now();
  performance.mark("pano-open-start");
  let detail: api.AnalysisDetail;
  let visuals: { image: string | null; geometry: Geometry | null };
  try {
    // The image and the outlines are asked for at once with the details.
    const visualsPromise = loadVisuals(id, true);
    detail = await api.openAnalysis(id, clinician());
    visuals = await visualsPromise;
  } catch (e) {
    setStatus("status", errorText(e), true);
    return;
  }
  const ipcMs = performance.now() - t0;
  const a = detail.analysis;
  const changed = state.current?.analysis.id !== id;
  state.current = detail;
  state.decisions = detail.decisions ?? [];
  state.image = ["rejected"].includes(a.status) ? null : visuals.image;
  const g = visuals.geometry;
  // Outlines of another size than the image would be drawn in the wrong place: not drawn.
  state.geometry = g && g.width === a.width && g.height === a.height && a.status !== "rejected" ? g : null;
  if (["rejected"].includes(a.status)) cache.delete(id);
  if (changed) {
    state.tooth = null;
    resetDecisionForm(detail);
    showPanel("findings");
    resetAdjustments();
  }
  $("workspace").classList.remove("empty");
  $("decision").hidden = false;
  $("analysis-title").textContent = `${a.original_file_name} — ${a.width}×${a.height}`;
  const where = a.endpoint ? `RunPod ${a.endpoint}` : `this computer${a.execution_provider ? ` (${a.execution_provider})` : ""}`;
  $("analysis-meta").textContent = `${a.status} · ${where} · models ${a.model_version}${a.run_ms ? ` · ${(a.run_ms / 1000).toFixed(1)} s` : ""}`;
  const notice = $("analysis-notice");
  notice.hidden = !detail.notice && !a.test_model;
  notice.textContent = detail.notice ?? "Test models: not for diagnosis.";
  $("csv").textContent = detail.csv ?? "(no result yet)";
  // States the viewer shows instead of (or over) the picture.
  const failed = $("failed-state");
  failed.hidden = a.status !== "failed";
  if (a.status === "failed") {
    $("failed-message").textContent = a.error_message ?? "The analysis did not finish.";
  }
  const waiting = $("waiting-state");
  waiting.hidden = !["queued", "running"].includes(a.status);
  waiting.textContent = `Analysing ${a.original_file_name}… the results appear here when it is done.`;
  const decoded = changed || !$<HTMLImageElement>("viewer-image").src ? setImage(state.image, a.width, a.height) : Promise.resolve();
  if (changed) renderTeeth(state.geometry);
  renderReview();
  renderDecisionState(detail);
  renderAudit(detail.audit ?? []);
  $("no-geometry").hidden = state.geometry !== null || !state.image || a.status !== "completed";
  void queueRefresh();
  const renderMs = performance.now() - t0 - ipcMs;
  requestAnimationFrame(() => {
    performance.mark("pano-overlay-drawn");
    const openToOverlayMs = performance.now() - t0;
    const entry = { id, openToOverlayMs, ipcMs, renderMs, imageDecodedMs: null as number | null };
    timings.push(entry);
    void decoded.then(() => (entry.imageDecodedMs = performance.now() - t0));
  });
}

function afterDecision(text: string): void {
  const id = state.current?.analysis.id;
  if (!id) return;
  const event = lastEvent.get(id);
  if (event) lastEvent.set(id, { ...event, state: text.startsWith("Rejected") ? "rejected" : "approved" });
  void showAnalysis(id).then(() => setStatus("decision-status", text));
}

function nextAnalysis(): void {
  const ids = waitingForReview().filter((id) => id !== state.current?.analysis.id);
  if (ids.length === 0) {
    setStatus("status", "No other analysis waits for review.", false, true);
    return;
  }
  void showAnalysis(ids[0]);
}

// ---- thresholds ----
function renderThresholds(): void {
  $("thresholds").replaceChildren(
    ...FINDING_KINDS.map((k) => {
      const lab = el("label", `${label(k)} `);
      const field = el("input");
      Object.assign(field, { type: "number", min: "0", max: "1", step: "0.05", value: String(state.thresholds[k]) });
      field.onchange = () => {
        const v = Number(field.value);
        if (field.value !== "" && v >= 0 && v <= 1) {
          state.thresholds = { ...state.thresholds, [k]: v };
          localStorage.setItem("pano.thresholds", JSON.stringify(state.thresholds));
          renderReview();
        }
      };
      lab.append(field);
      return lab;
    }),
  );
}

// ---- keyboard ----
function act(action: Action): void {
  const inAnalyses = !$("view-analyses").hidden;
  const step = 80;
  switch (action) {
    case "help":
      $<HTMLDialogElement>("help-dialog").showModal();
      return;
    case "close":
      if (state.tooth) {
        state.tooth = null;
        showPanel("findings");
        renderReview();
      }
      return;
  }
  if (!inAnalyses || !state.current) return;
  const current = state.current;
  switch (action) {
    case "approve":
      void approveFlow(current, reviewed(), state.thresholds, afterDecision);
      break;
    case "reject":
      void rejectFlow(current, reviewed(), afterDecision);
      break;
    case "next":
      nextAnalysis();
      break;
    case "toggle-teeth":
      toggleLayer("layer-teeth");
      break;
    case "toggle-findings":
      toggleLayer("layer-findings");
      break;
    case "toggle-overlays":
      toggleAll();
      break;
    case "zoom-in":
      zoomBy(1.25);
      break;
    case "zoom-out":
      zoomBy(0.8);
      break;
    case "fit":
      fit();
      break;
    case "one-to-one":
      oneToOne();
      break;
    case "pan-left":
      pan(step, 0);
      break;
    case "pan-right":
      pan(-step, 0);
      break;
    case "pan-up":
      pan(0, step);
      break;
    case "pan-down":
      pan(0, -step);
      break;
    case "invert":
      toggleInvert();
      if (state.tooth) renderReview();
      break;
    case "reset-adjustments":
      resetAdjustments();
      if (state.tooth) renderReview();
      break;
  }
}

function initKeyboard(): void {
  document.addEventListener("keydown", (e) => {
    if (document.querySelector("dialog[open]")) return;
    // Arrow keys move the image only when no other control (a list, a slider) wants them.
    if (e.key.startsWith("Arrow") && e.target instanceof HTMLElement && e.target !== document.body && !e.target.closest("#viewer")) return;
    const action = actionFor(e, typingIn(e.target));
    if (!action) return;
    e.preventDefault();
    act(action);
  });
  $("help-list").replaceChildren(
    ...SHORTCUTS.filter((s, i, all) => all.findIndex((t) => t.action === s.action) === i).map((s) => {
      const li = el("li");
      li.append(el("kbd", keyLabel(s.action)), document.createTextNode(` ${ACTION_WORDS[s.action]}`));
      return li;
    }),
  );
  $("help").onclick = () => $<HTMLDialogElement>("help-dialog").showModal();
  $("help-close").onclick = () => $<HTMLDialogElement>("help-dialog").close();
}

// ---- files ----
/** The patient a practice system launched Pano for: images added while it is shown are
 * suggested for this patient (the clinician still confirms at approval). */
let pmsPatient: api.PmsPatient | null = null;

function renderPmsPatient(): void {
  const box = $("pms-patient");
  box.hidden = pmsPatient === null;
  if (!pmsPatient) return;
  const name = [pmsPatient.first_name, pmsPatient.last_name].filter(Boolean).join(" ") || "a patient";
  $("pms-patient-text").textContent =
    `From the practice system: ${name} · patient number ${pmsPatient.external_id}` +
    (pmsPatient.birth_date ? ` · born ${formatBirthDate(pmsPatient.birth_date)}` : "") +
    ". Radiographs added now are suggested for this patient.";
}

async function takeLaunch(): Promise<void> {
  const pending = await api.takeLaunch();
  if (pending.problem) setStatus("status", `The practice system's request was not used: ${pending.problem.message}`, true);
  // Each launch's files go with that launch's patient only. A launch naming a patient sets
  // the bar; a launch with files and no patient ("Open with") ends it.
  for (const launch of pending.launches) {
    if (launch.patient || launch.files.length > 0) pmsPatient = launch.patient;
    renderPmsPatient();
    await addFiles(launch.files, launch.patient);
  }
}

async function addFiles(paths: string[], patient: api.PmsPatient | null = pmsPatient): Promise<void> {
  if (paths.length === 0) return;
  setStatus("status", `Adding ${paths.length} file(s)…`);
  try {
    const results = await api.enqueueFiles(paths, patient);
    const refused = results.filter((r) => r.error);
    for (const r of results) {
      if (r.analysis) lastEvent.set(r.analysis.id, { state: r.reused ? "reused" : "queued", file_name: r.analysis.original_file_name });
    }
    setStatus(
      "status",
      refused.length ? refused.map((r) => `${r.path}: ${r.error?.message}`).join("\n") : `${results.length} added.`,
      refused.length > 0,
      true,
    );
    const first = results.find((r) => r.analysis);
    if (first?.analysis && (first.reused || first.analysis.status === "completed")) void showAnalysis(first.analysis.id);
    else if (!state.current) showPanel("queue");
  } catch (e) {
    setStatus("status", errorText(e), true);
  }
  await queueRefresh();
}

// ---- start ----
async function loadInfo(): Promise<void> {
  try {
    const info = await api.appInfo();
    $("model-info").textContent = `v${info.version} · models ${info.model_version ?? "none"}${fasterPack(info) ? ` (${fasterPack(info)})` : ""} · ${info.backend} · ${info.execution_provider}`;
    const banner = $("test-model-banner");
    banner.hidden = !info.test_model;
    banner.textContent = info.notice ?? "Test models with random weights: results are not for diagnosis.";
    $("runtime-info").textContent = `In use: models ${info.models_dir ?? "none"} · ONNX Runtime ${info.onnxruntime ?? "not found"}`;
    ($("settings-form").querySelector("[name=models_dir]") as HTMLInputElement).placeholder = info.models_dir ? `default: ${info.models_dir}` : "";
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
  const theme = localStorage.getItem("pano.theme");
  if (theme) document.documentElement.dataset.theme = theme;
  $("nav-analyses").onclick = () => showView("analyses");
  $("nav-history").onclick = () => showView("history");
  $("nav-settings").onclick = () => showView("settings");
  for (const p of ["findings", "tooth", "audit", "queue"] as const) $(`tab-${p}`).onclick = () => showPanel(p);
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
  $("pick-files-empty").onclick = () => void pick();
  $("drop-zone").onkeydown = (e) => {
    if (e.key === "Enter") void pick();
  };
  initViewer((d) => (dragging = d));
  initOverlays(openTooth, () => dragging);
  initOdontogram();
  initTable(renderReview, (fdi, finding, decision, note) => void decide(fdi, finding, decision, note));
  initDecision();
  initAudit();
  initSettings(loadInfo);
  initKeyboard();
  $("tooth-close").onclick = () => act("close");
  $("decision").onsubmit = (e) => {
    e.preventDefault();
    if (state.current) void approveFlow(state.current, reviewed(), state.thresholds, afterDecision);
  };
  $("reject").onclick = () => {
    if (state.current) void rejectFlow(state.current, reviewed(), afterDecision);
  };
  $("retry-failed").onclick = () => {
    const id = state.current?.analysis.id;
    if (id) void api.retry(id).then(queueRefresh, (e) => setStatus("status", errorText(e), true));
  };
  $("approve").title = `Approve and file (${keyLabel("approve")}); asks to confirm`;
  $("reject").title = `Reject (${keyLabel("reject")}); asks to confirm`;
  $("copy-csv").onclick = () => void navigator.clipboard?.writeText(state.current?.csv ?? "");
  $("save-csv").onclick = async () => {
    if (!state.current) return;
    try {
      // The app asks where in its own save dialog; the UI never names a path to write.
      const target = await api.saveCsv(state.current.analysis.id, clinician());
      if (target) setStatus("status", `Saved ${target}`, false, true);
    } catch (e) {
      setStatus("status", errorText(e), true);
    }
  };
  $("save-report").onclick = async () => {
    if (!state.current) return;
    try {
      const target = await api.saveReport(state.current.analysis.id);
      if (target) setStatus("decision-status", `Report saved: ${target}`, false, true);
    } catch (e) {
      setStatus("decision-status", errorText(e), true);
    }
  };
  $("open-report").onclick = async () => {
    if (!state.current) return;
    try {
      await api.openReport(state.current.analysis.id);
    } catch (e) {
      setStatus("decision-status", errorText(e), true);
    }
  };
  $("send-pacs").onclick = async () => {
    if (!state.current) return;
    setStatus("decision-status", "Sending to the PACS…");
    try {
      const receipt = await api.sendToPacs(state.current.analysis.id);
      setStatus(
        "decision-status",
        `Sent to the PACS (${receipt.sent_by.join(" and ")}): the annotated radiograph and the report, ` +
          (receipt.same_study_as_input ? "in the radiograph's own study." : "in a new study for this patient."),
        false,
        true,
      );
    } catch (e) {
      setStatus("decision-status", errorText(e), true);
    }
  };
  initPacs(() => void queueRefresh());
  $("history-form").onsubmit = (e) => {
    e.preventDefault();
    void loadHistory(openFromList);
  };
  renderThresholds();
  showPanel("queue");
  await loadInfo();

  await listen<JobEvent & { analysis_id: string; file_name: string }>("analysis-progress", (event) => {
    lastEvent.set(event.payload.analysis_id, event.payload);
    void queueRefresh();
    const current = state.current;
    if (event.payload.state === "completed" && (!current || current.analysis.status !== "completed")) {
      void showAnalysis(event.payload.analysis_id);
    } else if (current?.analysis.id === event.payload.analysis_id && ["completed", "archived", "failed"].includes(event.payload.state)) {
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
    setStatus("status", "The analysis queue is running again.", false, true);
    void queueRefresh();
  });
  // The keychain was locked or not there at start and can be read now.
  await listen("keys-ready", () => void loadInfo());
  const body = document.body;
  await getCurrentWebview().onDragDropEvent((event) => {
    const type = event.payload.type;
    body.classList.toggle("drag-over", type === "enter" || type === "over");
    if (type === "drop") void addFiles(event.payload.paths);
  });
  // Results from before a restart that still wait for a decision.
  try {
    for (const row of await api.history({ limit: 20 })) {
      if (row.status === "completed" && !lastEvent.has(row.id)) lastEvent.set(row.id, { state: "completed", file_name: row.original_file_name });
    }
  } catch (e) {
    setStatus("status", errorText(e), true);
  }
  await queueRefresh();
  $("pms-patient-done").onclick = () => {
    pmsPatient = null;
    renderPmsPatient();
  };
  await listen("files-opened", () => void takeLaunch());
  await takeLaunch();
}

void start();
