import { getCurrentWebview } from "@tauri-apps/api/webview";
import { analyzeFile, appInfo, errorText, type AnalysisResult } from "./api";
import { label, percent, strongestPerTooth } from "./findings";

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function setStatus(text: string, isError = false): void {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function showResult(result: AnalysisResult): void {
  $("result").hidden = false;
  $("result-title").textContent = `${result.name} — ${result.width}×${result.height}`;
  const body = $<HTMLTableElement>("findings").tBodies[0];
  body.replaceChildren(
    ...strongestPerTooth(result.findings).map((f) => {
      const row = document.createElement("tr");
      for (const text of [f.fdi, label(f.finding), percent(f.score)]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
}

async function analyze(path: string): Promise<void> {
  setStatus(`Analysing ${path}…`);
  try {
    showResult(await analyzeFile(path));
    setStatus("Done.");
  } catch (e) {
    setStatus(errorText(e), true);
  }
}

async function start(): Promise<void> {
  try {
    const info = await appInfo();
    $("model-info").textContent = `v${info.version} · models ${info.model_version} · ${info.execution_provider}`;
    if (info.test_model) {
      const banner = $("test-model-banner");
      banner.textContent = info.notice ?? "Test models with random weights: results are not for diagnosis.";
      banner.hidden = false;
    }
  } catch (e) {
    setStatus(errorText(e), true);
  }
  const zone = $("drop-zone");
  await getCurrentWebview().onDragDropEvent((event) => {
    const kind = event.payload.type;
    zone.classList.toggle("over", kind === "enter" || kind === "over");
    if (kind === "drop" && event.payload.paths.length > 0) {
      void analyze(event.payload.paths[0]);
    }
  });
}

void start();
