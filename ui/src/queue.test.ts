import { describeQueueProblem } from "./queue";

describe("describeQueueProblem", () => {
  it("says in plain words that the queue stopped, why, and that it starts again", () => {
    expect(describeQueueProblem({ code: "store_error", message: "the database is locked", retry_in_s: 8 })).toBe(
      "The analysis queue stopped: the database is locked. Pano starts it again in 8 seconds; nothing queued is lost.",
    );
    expect(describeQueueProblem({ code: "queue_crashed", message: "x", retry_in_s: 1 })).toContain("again in a moment");
  });
});
