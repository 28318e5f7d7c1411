// Typed wrappers over the Tauri commands. Errors always arrive as {code, message}.
import { invoke } from "@tauri-apps/api/core";

export interface AppError {
  code: string;
  message: string;
}

export interface AppInfo {
  version: string;
  model_version: string | null;
  test_model: boolean;
  notice: string | null;
  /** "fp32", or "int8" / "fp16" for an optional faster model pack. */
  precision: string;
  models_problem: AppError | null;
  execution_provider: string;
  models_dir: string | null;
  onnxruntime: string | null;
  onnxruntime_problem: AppError | null;
  backend: string;
  cloud_problem: AppError | null;
  keychain_problem: AppError | null;
}

export interface ToothFinding {
  fdi: string;
  finding: string;
  score: number;
}

export interface AnalysisRow {
  id: string;
  original_file_name: string;
  width: number;
  height: number;
  backend: string;
  endpoint: string | null;
  model_version: string;
  execution_provider: string | null;
  queue_ms: number | null;
  run_ms: number | null;
  status: string;
  patient_id: string | null;
  approved_by: string | null;
  archived_location: string | null;
  test_model: boolean;
  error_message: string | null;
  created_at: string;
  /** The approved patient's name (never show `patient_id` to people). */
  patient_name?: string | null;
}

export interface JobRow {
  id: string;
  analysis_id: string;
  kind: string;
  state: string;
  file_name: string;
  last_error: string | null;
  next_retry_at: string | null;
}

/** One row of the append-only audit log; `detail` is JSON for `reviewed` rows. */
export interface AuditRow {
  at: string;
  actor: string;
  action: string;
  detail: string | null;
}

export type DecisionKind = "confirmed" | "rejected" | "added";

/** The clinician's current decision on one (tooth, finding); none means the AI's score stands. */
export interface FindingDecision {
  fdi: number | string;
  finding: string;
  decision: DecisionKind;
  note: string | null;
  decided_by: string;
  decided_at: string;
}

/** Who the image probably shows, from data only (DICOM tags, or an earlier approval of the same bytes). */
export interface SuggestedPatient {
  display_name: string;
  external_id: string | null;
  birth_date: string | null;
  existing_patient_id: string | null;
  source: "dicom" | "earlier_analysis" | "practice_system";
}

export interface AnalysisDetail {
  analysis: AnalysisRow;
  patient: Patient | null;
  findings: ToothFinding[];
  csv: string | null;
  notice: string | null;
  audit?: AuditRow[];
  decisions?: FindingDecision[];
  suggested_patient?: SuggestedPatient | null;
  has_geometry?: boolean;
}

/** Vector data of an analysis in image pixels (rings flattened [x0,y0,x1,y1,...], closed implicitly). */
export interface Geometry {
  version: number;
  width: number;
  height: number;
  teeth: { fdi: number; outline: number[][] }[];
  findings: GeometryFinding[];
}

export interface GeometryFinding {
  id: number;
  finding: string;
  score: number;
  box: [number, number, number, number];
  outline: number[][];
  teeth: { fdi: number; share: number }[];
}

export interface EnqueueResult {
  path: string;
  analysis: AnalysisRow | null;
  reused: boolean;
  error: AppError | null;
}

export interface Patient {
  id: string;
  display_name: string;
  external_id: string | null;
  birth_date?: string | null;
}

export interface ApprovalOutcome {
  analysis: AnalysisRow;
  patient: Patient;
  archived_location: string | null;
  pending_reason: string | null;
  already_approved: boolean;
}

export type PatientArg =
  | { kind: "existing"; id: string }
  | { kind: "new"; display_name: string; external_id: string | null; birth_date: string | null };

/** The queue runner stopped ("queue-problem" event); it starts again by itself. */
export interface QueueProblem {
  code: string;
  message: string;
  retry_in_s: number;
}

/** A "Test" button's answer: it works, plus what should still be fixed. */
export interface ConnectionCheck {
  summary: string;
  warnings: AppError[];
}

export interface SecretStatus {
  name: "runpod_api_key" | "s3_access_key_id" | "s3_secret_access_key";
  is_set: boolean;
}

/** The settings file as the app edits it (no key can be represented). */
export type Settings = Record<string, unknown>;

export function isAppError(value: unknown): value is AppError {
  return typeof value === "object" && value !== null && "code" in value && "message" in value;
}

export function errorText(value: unknown): string {
  return isAppError(value) ? value.message : "Something went wrong.";
}

export const appInfo = (): Promise<AppInfo> => invoke("app_info");
/** The patient a practice-management system launched Pano for (program link arguments). */
export interface PmsPatient {
  external_id: string;
  first_name: string | null;
  last_name: string | null;
  birth_date: string | null;
}
export interface Launch {
  files: string[];
  patient: PmsPatient | null;
}
export interface PendingLaunch {
  launches: Launch[];
  problem: AppError | null;
}
export const enqueueFiles = (paths: string[], pmsPatient: PmsPatient | null = null): Promise<EnqueueResult[]> =>
  invoke("enqueue_files", { paths, pmsPatient });
export const takeLaunch = (): Promise<PendingLaunch> => invoke("take_launch");
export const queue = (): Promise<JobRow[]> => invoke("queue");
export const openAnalysis = (id: string, viewer: string): Promise<AnalysisDetail> => invoke("open_analysis", { id, viewer });
export const debugImage = (id: string, kind: "semantic-segmentation" | "instance-detection"): Promise<string> =>
  invoke("debug_image", { id, kind });
/** `thresholds`: the 8 thresholds in force, keyed by CSV finding name (filed with the approval). */
export const approve = (id: string, patient: PatientArg, approver: string, thresholds: Record<string, number>): Promise<ApprovalOutcome> =>
  invoke("approve", { id, patient, approver, thresholds });
/** The plain radiograph as a data URL. */
export const radiographImage = (id: string): Promise<string> => invoke("radiograph_image", { id });
/** Tooth regions and finding instances; null for analyses stored without geometry. */
export const analysisGeometry = (id: string): Promise<Geometry | null> => invoke("analysis_geometry", { id });
/** Sets (or with "clear" removes) the decision on one (tooth, finding); answers all decisions of the analysis. */
export const decideFinding = (
  id: string,
  fdi: number,
  finding: string,
  decision: DecisionKind | "clear",
  note: string | null,
  by: string,
): Promise<FindingDecision[]> => invoke("decide_finding", { id, fdi, finding, decision, note, by });
export const auditTrail = (id: string): Promise<AuditRow[]> => invoke("audit_trail", { id });
export const reject = (id: string, by: string): Promise<AnalysisRow> => invoke("reject", { id, by });
export const cancel = (id: string): Promise<boolean> => invoke("cancel", { id });
export const retry = (id: string): Promise<void> => invoke("retry", { id });
export const history = (filter: { patient_id?: string; since?: string; until?: string; limit?: number }): Promise<AnalysisRow[]> =>
  invoke("history", { filter });
export const searchPatients = (query: string): Promise<Patient[]> => invoke("search_patients", { query });
export const exportCsv = (id: string, viewer: string): Promise<string> => invoke("export_csv", { id, viewer });
/** Opens the app's save dialog and writes the CSV where the user chose; the path written, or null if cancelled. */
export const saveCsv = (id: string, viewer: string): Promise<string | null> => invoke("save_csv", { id, viewer });
/** The patient report (PDF) of an approved analysis, saved where the app's save dialog says. */
export const saveReport = (id: string): Promise<string | null> => invoke("save_report", { id });
/** Writes the patient report and opens it in the computer's PDF viewer, for printing. */
export const openReport = (id: string): Promise<void> => invoke("open_report", { id });
export const testModels = (): Promise<string> => invoke("test_models");
export const getSettings = (): Promise<Settings> => invoke("get_settings");
/** `runpod_key_cleared`: the RunPod address changed, so its key was removed (enter it again). */
export interface SettingsSaved {
  runpod_key_cleared: boolean;
}
export const saveSettings = (settings: Settings): Promise<SettingsSaved> => invoke("save_settings", { settings });
export const testArchive = (): Promise<ConnectionCheck> => invoke("test_archive");
export const testCloud = (): Promise<ConnectionCheck> => invoke("test_cloud");
export const testPacs = (): Promise<ConnectionCheck> => invoke("test_pacs");
export interface PacsReceipt {
  study_instance_uid: string;
  instances: string[];
  sent_by: string[];
  same_study_as_input: boolean;
}
export interface PacsStudy {
  study_instance_uid: string;
  patient_name: string;
  patient_id: string;
  study_date: string | null;
  description: string;
  modalities: string[];
}
export const pacsStudies = (query: { patient?: string; since?: string; until?: string }): Promise<PacsStudy[]> =>
  invoke("pacs_studies", { query });
export const analyseFromPacs = (studyUid: string): Promise<AnalysisRow[]> => invoke("analyse_from_pacs", { studyUid });
/** Sends an approved analysis to the PACS: the annotated radiograph and the report, as DICOM. */
export const sendToPacs = (id: string): Promise<PacsReceipt> => invoke("send_to_pacs", { id });
export const secretStatus = (): Promise<SecretStatus[]> => invoke("secret_status");
export const setSecret = (name: SecretStatus["name"], value: string): Promise<void> => invoke("set_secret", { name, value });
export const clearSecret = (name: SecretStatus["name"]): Promise<void> => invoke("clear_secret", { name });
