// What the bar under the title says at start: problems that stop analyses (red) and notes
// about what runs where (muted). Pure, so the rules are unit-tested.
import type { AppInfo } from "./api";

export interface StartupNotices {
  problems: string[];
  notes: string[];
}

/** "INT8" / "FP16" for an optional faster model pack; null for the standard fp32 models. */
export function fasterPack(info: AppInfo): string | null {
  return info.precision && info.precision !== "fp32" ? info.precision.toUpperCase() : null;
}

export function startupNotices(info: AppInfo): StartupNotices {
  const problems: string[] = [];
  const notes: string[] = [];
  if (info.models_problem) problems.push(info.models_problem.message);
  // The runtime matters only when analyses may run on this computer.
  if (info.backend !== "cloud" && info.onnxruntime_problem) problems.push(info.onnxruntime_problem.message);
  const cloud = [info.cloud_problem, info.keychain_problem].filter((p) => p !== null);
  if (info.backend === "cloud") {
    problems.push(...cloud.map((p) => p.message));
  } else if (info.backend === "auto" && cloud.length > 0) {
    // "Cloud, falling back to this computer" with no usable cloud is how a fresh install
    // starts: analyses still run here, so this is a note, not an error.
    notes.push(`Analyses run on this computer: ${cloud[0].message}.`);
  }
  const faster = fasterPack(info);
  if (faster && !info.models_problem && info.backend !== "cloud") {
    notes.push(
      `Faster ${faster} models are in use on this computer: their scores differ slightly from the standard models'.`,
    );
  }
  return { problems, notes };
}
