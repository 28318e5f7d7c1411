// The queue's words: what a job event says to people. Mirrors pano-service's JobView.
import type { QueueProblem } from "./api";

export interface JobEvent {
  state: string;
  seconds?: number;
  reason?: string;
  retry_at?: string;
  code?: string;
  message?: string;
  location?: string;
}

export function describeJob(e: JobEvent): string {
  switch (e.state) {
    case "queued":
      return "queued";
    case "reused":
      return "already analysed with these models";
    case "uploading":
      return "uploading";
    case "waiting_for_worker":
      return `waiting for a worker (${Math.round(e.seconds ?? 0)} s)`;
    case "running":
      return `running (${Math.round(e.seconds ?? 0)} s)`;
    case "waiting_for_storage":
      return `waiting for storage: ${e.reason ?? ""}`;
    case "waiting_for_runpod":
      return `waiting for RunPod: ${e.reason ?? ""}`;
    case "falling_back_to_local":
      return `running on this computer instead (${e.reason ?? ""})`;
    case "completed":
      return "done";
    case "archived":
      return `filed in ${e.location ?? ""}`;
    case "failed":
      return `failed: ${e.message ?? ""}`;
    case "cancelled":
      return "cancelled";
    default:
      return e.state;
  }
}

/** Whether a job in this state can still be cancelled. */
export function cancellable(state: string): boolean {
  return ["queued", "uploading", "waiting_for_worker", "running", "waiting_for_storage", "waiting_for_runpod"].includes(state);
}

/** What the notice says while the queue runner is stopped and waits to start again. */
export function describeQueueProblem(p: QueueProblem): string {
  const when = p.retry_in_s <= 1 ? "in a moment" : `in ${p.retry_in_s} seconds`;
  return `The analysis queue stopped: ${p.message}. Pano starts it again ${when}; nothing queued is lost.`;
}
