// Typed wrappers over the Tauri commands. Errors always arrive as {code, message}.
import { invoke } from "@tauri-apps/api/core";

export interface AppError {
  code: string;
  message: string;
}

export interface AppInfo {
  version: string;
  model_version: string;
  test_model: boolean;
  notice: string | null;
  execution_provider: string;
}

export interface ToothFinding {
  fdi: string;
  finding: string;
  score: number;
}

export interface AnalysisResult {
  name: string;
  width: number;
  height: number;
  model_version: string;
  test_model: boolean;
  findings: ToothFinding[];
}

export function isAppError(value: unknown): value is AppError {
  return typeof value === "object" && value !== null && "code" in value && "message" in value;
}

export function errorText(value: unknown): string {
  return isAppError(value) ? value.message : "Something went wrong.";
}

export const appInfo = (): Promise<AppInfo> => invoke<AppInfo>("app_info");
export const analyzeFile = (path: string): Promise<AnalysisResult> => invoke<AnalysisResult>("analyze_file", { path });
