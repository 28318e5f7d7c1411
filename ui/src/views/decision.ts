// The decision form: approve for a patient (after a confirmation naming the patient) or
// reject (after a confirmation saying what is discarded). It starts empty for every
// analysis; a patient is only suggested from data (suggested_patient), one click to use.
import * as api from "../api";
import type { AnalysisDetail, Patient, PatientArg, SuggestedPatient } from "../api";
import { $, confirmDialog, el, errorTextOf, input, setStatus } from "../dom";
import { label } from "../findings";
import { reviewProgress, type ReviewedFinding } from "../review";
import { formatBirthDate, validBirthDate } from "../time";

let selected: Patient | null = null;
let searchSeq = 0;

const describePatient = (name: string, externalId: string | null | undefined, birth: string | null | undefined): string =>
  `${name} · external id: ${externalId || "none"} · born: ${formatBirthDate(birth)}`;

function showSelected(): void {
  const box = $("patient-selected");
  box.hidden = selected === null;
  if (selected) {
    box.replaceChildren(el("span", describePatient(selected.display_name, selected.external_id, selected.birth_date)));
    const change = el("button", "Change", "mini");
    change.type = "button";
    change.onclick = () => {
      selected = null;
      input("patient-search").value = "";
      showSelected();
      input("patient-search").focus();
    };
    box.append(change);
  }
  input("patient-search").hidden = selected !== null;
}

function showNewFields(): void {
  const isNew = input("new-patient").checked;
  $("new-patient-fields").hidden = !isNew;
  input("patient-search").placeholder = isNew ? "new patient's full name" : "search by name or external id";
  if (isNew) {
    selected = null;
    showSelected();
    $("patient-results").replaceChildren();
  }
}

/** Empties the form: a new analysis never inherits the last patient. */
export function resetDecisionForm(detail: AnalysisDetail): void {
  selected = null;
  for (const id of ["patient-search", "external-id", "birth-date"]) input(id).value = "";
  input("new-patient").checked = false;
  $("patient-results").replaceChildren();
  showNewFields();
  showSelected();
  renderSuggestion(detail.suggested_patient ?? null);
  setStatus("decision-status", "");
}

function renderSuggestion(s: SuggestedPatient | null): void {
  const box = $("patient-suggestion");
  box.hidden = s === null;
  if (!s) return;
  const from =
    s.source === "dicom"
      ? "From the image's DICOM details"
      : s.source === "practice_system"
        ? "From the practice system"
        : "This image was filed before for";
  const use = el("button", "Use", "mini");
  use.type = "button";
  use.id = "use-suggestion";
  use.onclick = () => {
    if (s.existing_patient_id) {
      input("new-patient").checked = false;
      showNewFields();
      selected = { id: s.existing_patient_id, display_name: s.display_name, external_id: s.external_id, birth_date: s.birth_date };
      showSelected();
    } else {
      input("new-patient").checked = true;
      showNewFields();
      input("patient-search").value = s.display_name;
      input("external-id").value = s.external_id ?? "";
      input("birth-date").value = s.birth_date ?? "";
    }
  };
  box.replaceChildren(el("span", `${from}: ${describePatient(s.display_name, s.external_id, s.birth_date)}`), use);
  // The practice system opened Pano for this patient: start with them filled in (approval
  // still asks once more, naming the patient).
  if (s.source === "practice_system") use.click();
}

async function search(): Promise<void> {
  const text = input("patient-search").value.trim();
  const results = $("patient-results");
  if (input("new-patient").checked || text.length < 2) {
    results.replaceChildren();
    return;
  }
  const seq = ++searchSeq;
  try {
    const found = await api.searchPatients(text);
    if (seq !== searchSeq) return;
    if (found.length === 0) {
      results.replaceChildren(el("li", `No patient matches “${text}”. Tick “new patient” to create one.`, "muted no-match"));
      return;
    }
    results.replaceChildren(
      ...found.slice(0, 8).map((p) => {
        const li = el("li");
        const b = el("button", describePatient(p.display_name, p.external_id, p.birth_date), "pick");
        b.type = "button";
        b.onclick = () => {
          selected = p;
          results.replaceChildren();
          showSelected();
        };
        li.append(b);
        return li;
      }),
    );
  } catch {
    // suggestions are a convenience
  }
}

/** The patient the form names, or a sentence saying what is missing. */
function patientFromForm(): { arg: PatientArg; name: string; externalId: string | null; birth: string | null; isNew: boolean } | string {
  if (input("new-patient").checked) {
    const name = input("patient-search").value.trim();
    if (!name) return "Type the new patient's full name.";
    const birth = input("birth-date").value.trim() || null;
    if (birth && !validBirthDate(birth)) return "The date of birth is not a valid past date (YYYY-MM-DD).";
    const externalId = input("external-id").value.trim() || null;
    return { arg: { kind: "new", display_name: name, external_id: externalId, birth_date: birth }, name, externalId, birth, isNew: true };
  }
  if (!selected) return "Choose the patient from the search results, or tick “new patient”.";
  return {
    arg: { kind: "existing", id: selected.id },
    name: selected.display_name,
    externalId: selected.external_id,
    birth: selected.birth_date ?? null,
    isNew: false,
  };
}

function clinicianName(): string | null {
  const name = input("approver").value.trim();
  if (!name) {
    setStatus("decision-status", "Type your name as the clinician first (it is remembered on this computer).", true);
    input("approver").focus();
    return null;
  }
  localStorage.setItem("pano.clinician", name);
  return name;
}

function summaryLine(rows: ReviewedFinding[]): string {
  const { pending, decided } = reviewProgress(rows);
  const present = rows.filter((r) => r.source === "confirmed" || r.source === "added" || (r.source === "ai" && r.over));
  const words = present.slice(0, 6).map((r) => `${label(r.finding)} ${r.fdi}`);
  return (
    `${present.length} finding(s) in the record${words.length ? ` (${words.join(", ")}${present.length > 6 ? ", …" : ""})` : ""}; ` +
    `${decided} decided by you, ${pending} AI finding(s) left as the AI scored them.`
  );
}

export async function approveFlow(detail: AnalysisDetail, rows: ReviewedFinding[], thresholds: Record<string, number>, after: (text: string) => void): Promise<void> {
  if (detail.analysis.status !== "completed") return;
  const approver = clinicianName();
  if (!approver) return;
  const patient = patientFromForm();
  if (typeof patient === "string") {
    setStatus("decision-status", patient, true);
    input("patient-search").focus();
    return;
  }
  const who = el("dl", undefined, "confirm-patient");
  for (const [k, v] of [
    ["Patient", `${patient.name}${patient.isNew ? " (new patient)" : ""}`],
    ["External id", patient.externalId ?? "none"],
    ["Date of birth", formatBirthDate(patient.birth)],
    ["Approved by", approver],
  ]) who.append(el("dt", k), el("dd", v));
  const ok = await confirmDialog(
    "File this analysis for this patient?",
    [who, summaryLine(rows), `Image: ${detail.analysis.original_file_name}. The thresholds in force are filed with it.`],
    "Approve and file",
  );
  if (!ok) return;
  try {
    setStatus("decision-status", "Filing…");
    const outcome = await api.approve(detail.analysis.id, patient.arg, approver, { ...thresholds });
    after(
      outcome.archived_location
        ? `Approved by ${approver} for ${outcome.patient.display_name}; filed in ${outcome.archived_location}`
        : `Approved by ${approver} for ${outcome.patient.display_name}; filing waits: ${outcome.pending_reason ?? "storage"}`,
    );
  } catch (e) {
    setStatus("decision-status", errorTextOf(e), true);
  }
}

export async function rejectFlow(detail: AnalysisDetail, rows: ReviewedFinding[], after: (text: string) => void): Promise<void> {
  if (!["completed", "failed"].includes(detail.analysis.status)) return;
  const by = clinicianName();
  if (!by) return;
  const { decided } = reviewProgress(rows);
  const discarded = el("ul");
  discarded.append(
    el("li", `the AI's results (${detail.findings.length} scores, the outlines and the CSV)`),
    el("li", decided ? `your ${decided} decision(s) on findings` : "no decisions (none made yet)"),
    el("li", "the stored image files and any temporary cloud upload"),
  );
  const ok = await confirmDialog(
    `Reject ${detail.analysis.original_file_name}?`,
    [
      "This discards, for good:",
      discarded,
      "Kept: the record that it was analysed and rejected, with the audit trail. This cannot be undone.",
    ],
    "Reject and discard",
    true,
  );
  if (!ok) return;
  try {
    await api.reject(detail.analysis.id, by);
    after("Rejected: the results and uploads were discarded.");
  } catch (e) {
    setStatus("decision-status", errorTextOf(e), true);
  }
}

/** The form's look for the analysis's state: inputs only while it can be decided. */
export function renderDecisionState(detail: AnalysisDetail): void {
  const a = detail.analysis;
  const open = a.status === "completed";
  $("decision-fields").hidden = !open;
  ($("approve") as HTMLButtonElement).disabled = !open;
  ($("reject") as HTMLButtonElement).disabled = !["completed", "failed"].includes(a.status);
  $("report-actions").hidden = a.status !== "approved";
  if (a.status === "approved") {
    const p = detail.patient;
    setStatus(
      "decision-status",
      `Approved by ${a.approved_by ?? "?"} for ${p?.display_name ?? a.patient_name ?? "?"}` +
        (p ? ` (external id: ${p.external_id || "none"}, born: ${formatBirthDate(p.birth_date)})` : "") +
        (a.archived_location ? `; filed in ${a.archived_location}` : "; waiting to be filed"),
    );
  } else if (a.status === "rejected") {
    setStatus("decision-status", "Rejected: the results and uploads were discarded.");
  }
}

export function initDecision(): void {
  input("approver").value = localStorage.getItem("pano.clinician") ?? "";
  input("approver").addEventListener("change", () => localStorage.setItem("pano.clinician", input("approver").value.trim()));
  input("new-patient").onchange = showNewFields;
  input("patient-search").oninput = () => {
    if (selected) selected = null;
    void search();
  };
}
