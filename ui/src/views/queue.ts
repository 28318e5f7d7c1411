// The live queue: jobs, recently finished analyses to review, cancel and retry.
import * as api from "../api";
import { errorText, type JobRow } from "../api";
import { $, el, setStatus } from "../dom";
import { cancellable, describeJob, type JobEvent } from "../queue";

export const lastEvent = new Map<string, JobEvent & { file_name?: string }>();

/** Completed analyses waiting for a decision, in the order they finished. */
export function waitingForReview(): string[] {
  return [...lastEvent].filter(([, e]) => e.state === "completed" || e.state === "reused").map(([id]) => id);
}

export async function refreshQueue(openAnalysis: (id: string) => void, currentId: string | null): Promise<void> {
  let jobs: JobRow[] = [];
  try {
    jobs = await api.queue();
  } catch (e) {
    setStatus("status", errorText(e), true);
  }
  const list = $("queue");
  const item = (id: string, name: string, state: string, stateClass: string): HTMLLIElement => {
    const li = el("li");
    if (id === currentId) li.setAttribute("aria-current", "true");
    const open = el("button", name, "link");
    open.onclick = () => openAnalysis(id);
    li.append(open, el("span", state, stateClass));
    return li;
  };
  const items = jobs.map((job) => {
    const event = lastEvent.get(job.analysis_id);
    const li = item(job.analysis_id, job.file_name, event ? describeJob(event) : job.state.replace(/_/g, " "), "muted");
    if (job.last_error) li.append(el("small", job.last_error));
    if (job.kind === "analyze" && cancellable(event?.state ?? job.state)) {
      const stop = el("button", "Cancel", "mini");
      stop.onclick = () => void api.cancel(job.analysis_id).then(() => refreshQueue(openAnalysis, currentId), (e) => setStatus("status", errorText(e), true));
      li.append(stop);
    }
    return li;
  });
  // Recently finished ones stay visible for review.
  for (const [id, event] of lastEvent) {
    if (jobs.some((j) => j.analysis_id === id)) continue;
    if (!["completed", "failed", "reused", "archived", "cancelled", "approved", "rejected"].includes(event.state)) continue;
    const words = event.state === "completed" || event.state === "reused" ? "waiting for review" : describeJob(event);
    const li = item(id, event.file_name ?? id, words, event.state === "failed" ? "error" : "muted");
    if (event.state === "failed") {
      const again = el("button", "Retry", "mini");
      again.onclick = () => void api.retry(id).then(() => refreshQueue(openAnalysis, currentId), (e) => setStatus("status", errorText(e), true));
      li.append(again);
    }
    items.push(li);
  }
  list.replaceChildren(...(items.length ? items : [el("li", "Nothing queued. Drop radiographs anywhere in this window.", "muted")]));
  $("queue-count").textContent = String(waitingForReview().length || "");
}
