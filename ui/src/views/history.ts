// Past analyses: local times with their zone, patients by name, and "nothing found" states.
import * as api from "../api";
import { errorText } from "../api";
import { $, el, input, setStatus } from "../dom";
import { formatLocal } from "../time";

const STATUS_WORDS: Record<string, string> = {
  queued: "queued",
  running: "running",
  completed: "waiting for review",
  approved: "approved",
  rejected: "rejected",
  failed: "failed",
  cancelled: "cancelled",
};

export async function loadHistory(openAnalysis: (id: string) => void): Promise<void> {
  const who = input("history-patient").value.trim();
  const since = input("history-since").value;
  const until = input("history-until").value;
  const body = $<HTMLTableElement>("history").tBodies[0];
  const empty = $("history-empty");
  empty.hidden = true;
  try {
    let patientId: string | undefined;
    if (who) {
      const found = await api.searchPatients(who);
      if (found.length === 0) {
        body.replaceChildren();
        empty.textContent = `No patient matches “${who}”.`;
        empty.hidden = false;
        return;
      }
      patientId = found[0].id;
      if (found.length > 1) {
        empty.textContent = `${found.length} patients match “${who}”; showing ${found[0].display_name}. Type more of the name to choose another.`;
        empty.hidden = false;
      }
    }
    const rows = await api.history({ patient_id: patientId, since: since || undefined, until: until || undefined, limit: 100 });
    if (rows.length === 0) {
      empty.textContent = who || since || until ? "No analyses match these filters." : "No analyses yet.";
      empty.hidden = false;
    }
    body.replaceChildren(
      ...rows.map((r) => {
        const tr = el("tr");
        const name = el("td");
        const link = el("button", r.original_file_name, "link");
        link.onclick = () => openAnalysis(r.id);
        name.append(link);
        const status = el("td", STATUS_WORDS[r.status] ?? r.status.replace(/_/g, " "));
        if (r.status === "failed" && r.error_message) status.title = r.error_message;
        tr.append(
          el("td", formatLocal(r.created_at)),
          name,
          status,
          el("td", r.patient_name ?? (r.patient_id ? "(name not available)" : "—")),
          el("td", r.approved_by ?? "—"),
          el("td", `${r.model_version}${r.test_model ? " (test models, not for diagnosis)" : ""}`),
        );
        return tr;
      }),
    );
  } catch (e) {
    setStatus("status", errorText(e), true);
  }
}
