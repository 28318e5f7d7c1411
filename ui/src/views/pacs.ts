// Panoramic studies on the clinic's PACS (DICOMweb): search by patient and days, and
// analyse one (its PX images are fetched and queued; the DICOM patient is suggested later).
import * as api from "../api";
import { errorText } from "../api";
import { $, el, input, setStatus } from "../dom";

async function search(afterQueued: () => void): Promise<void> {
  const body = $<HTMLTableElement>("pacs-studies").tBodies[0];
  setStatus("pacs-status", "Asking the PACS…");
  try {
    const studies = await api.pacsStudies({
      patient: input("pacs-patient").value.trim() || undefined,
      since: input("pacs-since").value || undefined,
      until: input("pacs-until").value || undefined,
    });
    body.replaceChildren(
      ...studies.map((s) => {
        const row = el("tr");
        const analyse = el("button", "Analyse", "mini");
        analyse.type = "button";
        analyse.onclick = async () => {
          analyse.disabled = true;
          setStatus("pacs-status", `Fetching ${s.patient_name || "the study"}'s panoramic images…`);
          try {
            const queued = await api.analyseFromPacs(s.study_instance_uid);
            setStatus("pacs-status", `${queued.length} panoramic image(s) of ${s.patient_name || "the study"} added to the queue.`);
            afterQueued();
          } catch (e) {
            setStatus("pacs-status", errorText(e), true);
            analyse.disabled = false;
          }
        };
        const action = el("td");
        action.append(analyse);
        row.append(el("td", s.study_date ?? "no date"), el("td", s.patient_name || "(no name)"), el("td", s.patient_id), el("td", s.description), action);
        return row;
      }),
    );
    setStatus("pacs-status", studies.length ? `${studies.length} panoramic stud${studies.length === 1 ? "y" : "ies"} found.` : "No panoramic study matches.");
  } catch (e) {
    body.replaceChildren();
    setStatus("pacs-status", errorText(e), true);
  }
}

export function initPacs(afterQueued: () => void): void {
  $("pacs-form").onsubmit = (e) => {
    e.preventDefault();
    void search(afterQueued);
  };
}
