// Settings with keys: a stored key is never shown, only typed ones are sent.
import * as api from "../api";
import { errorText, type Settings } from "../api";
import { $, input, setStatus } from "../dom";

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

export async function loadSettings(): Promise<void> {
  try {
    loadedSettings = await api.getSettings();
    const form = $("settings-form") as HTMLFormElement;
    for (const field of Array.from(form.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>("[name]"))) {
      const value = getPath(loadedSettings, field.name);
      if (field instanceof HTMLInputElement && field.type === "checkbox") field.checked = value === true;
      else field.value = value === null || value === undefined ? "" : String(value);
    }
    for (const s of await api.secretStatus()) {
      const secret = input(`secret-${s.name}`);
      secret.value = "";
      secret.placeholder = s.is_set ? "stored in the keychain (type to replace)" : "not set";
    }
  } catch (e) {
    setStatus("settings-status", errorText(e), true);
  }
}

async function saveSettingsForm(afterSave: () => Promise<void>): Promise<void> {
  const form = $("settings-form") as HTMLFormElement;
  const next: Settings = structuredClone(loadedSettings);
  for (const field of Array.from(form.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>("[name]"))) {
    // Text the settings keep as text (a clinic name) is "" when empty, not absent.
    const empty = field.dataset.empty === "text" ? "" : null;
    let value: unknown = field instanceof HTMLInputElement && field.type === "checkbox" ? field.checked : field.value.trim() || empty;
    if (field.dataset.type === "number" && typeof value === "string") {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) {
        setStatus("settings-status", `“${value}” is not a number for ${field.closest("label")?.textContent?.trim() ?? field.name}.`, true);
        return;
      }
      value = n;
    }
    if (field.name.startsWith("s3.") && !next.s3 && (value === null || value === false)) continue;
    setPath(next, field.name, value);
  }
  const archive = next.archive as Record<string, unknown>;
  if (archive.kind !== "folder") delete archive.path;
  try {
    // Settings first: a new RunPod address removes the old key, and a key typed in this
    // same form is meant for the new address.
    const saved = await api.saveSettings(next);
    let typedRunpodKey = false;
    for (const name of ["runpod_api_key", "s3_access_key_id", "s3_secret_access_key"] as const) {
      const value = input(`secret-${name}`).value;
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
    await Promise.all([loadSettings(), afterSave()]);
  } catch (e) {
    setStatus("settings-status", errorText(e), true);
  }
}

export function initSettings(afterSave: () => Promise<void>): void {
  $("settings-form").onsubmit = (e) => {
    e.preventDefault();
    void saveSettingsForm(afterSave);
  };
  const check = (button: string, result: string, run: () => Promise<api.ConnectionCheck>): void => {
    $(button).onclick = () =>
      void run().then(
        (c) => setStatus(result, [c.summary, ...c.warnings.map((w) => w.message)].join(" · ")),
        (e) => setStatus(result, errorText(e), true),
      );
  };
  $("test-models").onclick = () =>
    void api.testModels().then(
      (what) => setStatus("test-models-result", what),
      (e) => setStatus("test-models-result", errorText(e), true),
    );
  check("test-archive", "test-archive-result", api.testArchive);
  check("test-cloud", "test-cloud-result", api.testCloud);
  check("test-pacs", "test-pacs-result", api.testPacs);
  $("clear-keys").onclick = () =>
    void Promise.all((["runpod_api_key", "s3_access_key_id", "s3_secret_access_key"] as const).map((n) => api.clearSecret(n))).then(
      loadSettings,
      (e) => setStatus("settings-status", errorText(e), true),
    );
}
