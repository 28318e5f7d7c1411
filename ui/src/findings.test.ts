import {
  DEFAULT_THRESHOLDS,
  label,
  parseThresholds,
  percent,
  strongestPerTooth,
  tableRows,
  toothColours,
  UPPER_TEETH,
  LOWER_TEETH,
} from "./findings";
import { describeJob } from "./queue";

const sample = [
  { fdi: "21", finding: "CARIES", score: 0.2 },
  { fdi: "11", finding: "MISSING", score: 0.1 },
  { fdi: "21", finding: "FILLING", score: 0.7 },
  { fdi: "11", finding: "IMPLANT", score: 0.4 },
  { fdi: "48", finding: "CARIES", score: 0.55 },
];

describe("strongestPerTooth", () => {
  it("keeps the highest score per tooth and sorts by FDI", () => {
    expect(strongestPerTooth(sample.slice(0, 4))).toEqual([
      { fdi: "11", finding: "IMPLANT", score: 0.4 },
      { fdi: "21", finding: "FILLING", score: 0.7 },
    ]);
  });

  it("formats scores and names for people", () => {
    expect(percent(0.456)).toBe("46%");
    expect(label("ROOT_CANAL_FILLING")).toBe("root canal filling");
    expect(label("SOMETHING_NEW")).toBe("SOMETHING_NEW");
  });
});

describe("the odontogram", () => {
  it("charts all 32 teeth once", () => {
    expect(new Set([...UPPER_TEETH, ...LOWER_TEETH]).size).toBe(32);
  });

  it("colours a tooth by its strongest finding over the threshold", () => {
    const colours = toothColours(sample, DEFAULT_THRESHOLDS);
    expect(colours.get("21")?.finding).toBe("FILLING");
    expect(colours.has("11")).toBe(false);
    const lower = toothColours(sample, { ...DEFAULT_THRESHOLDS, IMPLANT: 0.3 });
    expect(lower.get("11")?.finding).toBe("IMPLANT");
  });
});

describe("the findings table", () => {
  it("filters by kind and score and sorts", () => {
    const rows = tableRows(
      sample,
      { kinds: new Set(["CARIES"]), minScore: 0, aboveThresholdOnly: false, sort: "score", descending: true },
      DEFAULT_THRESHOLDS,
    );
    expect(rows.map((r) => r.fdi)).toEqual(["48", "21"]);
    const over = tableRows(
      sample,
      { kinds: new Set(), minScore: 0, aboveThresholdOnly: true, sort: "fdi", descending: false },
      DEFAULT_THRESHOLDS,
    );
    expect(over.map((r) => `${r.fdi}:${r.finding}`)).toEqual(["21:FILLING", "48:CARIES"]);
  });

  it("reads remembered thresholds defensively", () => {
    expect(parseThresholds('{"CARIES":0.3,"BOGUS":1,"FILLING":7}').CARIES).toBe(0.3);
    expect(parseThresholds('{"FILLING":7}').FILLING).toBe(0.5);
    expect(parseThresholds("not json")).toEqual(DEFAULT_THRESHOLDS);
  });
});

describe("queue lines", () => {
  it("says what a job waits for", () => {
    expect(describeJob({ state: "waiting_for_worker", seconds: 12.4 })).toBe("waiting for a worker (12 s)");
    expect(describeJob({ state: "failed", code: "image_corrupt", message: "damaged" })).toBe("failed: damaged");
    expect(describeJob({ state: "waiting_for_storage", reason: "down", retry_at: "x" })).toBe("waiting for storage: down");
  });
});
