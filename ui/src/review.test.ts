import type { FindingDecision, Geometry } from "./api";
import { cssFilter, NEUTRAL } from "./adjust";
import { contrast, DEFAULT_THRESHOLDS, FINDING_CODES, FINDING_COLOURS, FINDING_KINDS, textOn } from "./findings";
import { addedMarks, cropAround, drawnInstances, outlinePath, ringPath, ringsBox, toothBoxes } from "./geometry";
import { actionFor } from "./keys";
import { auditSentence, isPresent, reviewFindings, reviewProgress, reviewTableRows, toothSummary } from "./review";
import { formatBirthDate, formatLocal, validBirthDate } from "./time";
import { fitView, limitsFor, panBy, toImage, zoomAt } from "./viewport";

const findings = [
  { fdi: "36", finding: "CARIES", score: 0.8 },
  { fdi: "36", finding: "FILLING", score: 0.6 },
  { fdi: "16", finding: "CARIES", score: 0.2 },
  { fdi: "46", finding: "ROOT_CANAL_FILLING", score: 0.9 },
];
const decision = (fdi: number, finding: string, d: FindingDecision["decision"], note: string | null = null): FindingDecision => ({
  fdi,
  finding,
  decision: d,
  note,
  decided_by: "Dr A",
  decided_at: "2026-11-26T09:42:00Z",
});

describe("the review", () => {
  const decisions = [decision(36, "CARIES", "confirmed"), decision(46, "ROOT_CANAL_FILLING", "rejected"), decision(16, "CARIES", "added", "distal")];
  const rows = reviewFindings(findings, decisions, DEFAULT_THRESHOLDS);

  it("gives every row its source; string and number FDI match", () => {
    expect(rows.map((r) => r.source)).toEqual(["confirmed", "ai", "added", "rejected"]);
    expect(rows[2].note).toBe("distal");
    expect(rows.filter(isPresent).map((r) => `${r.fdi}:${r.finding}`)).toEqual(["36:CARIES", "36:FILLING", "16:CARIES"]);
  });

  it("lists over-threshold and decided rows; counts what is left", () => {
    const q = { kinds: new Set<string>(), minScore: 0, aboveThresholdOnly: true, sort: "fdi" as const, descending: false };
    expect(reviewTableRows(rows, q).map((r) => r.fdi)).toEqual(["16", "36", "36", "46"]);
    expect(reviewProgress(rows)).toEqual({ pending: 1, decided: 3 });
    expect(toothSummary(rows).get("36")?.map((r) => r.finding)).toEqual(["FILLING", "CARIES"]);
    expect(toothSummary(reviewFindings(findings, [], { ...DEFAULT_THRESHOLDS, CARIES: 1, FILLING: 1, ROOT_CANAL_FILLING: 1 })).size).toBe(0);
  });

  it("says audit rows in plain words with local time and zone", () => {
    const at = "2026-11-26T09:42:00Z";
    const detail = JSON.stringify({ fdi: 36, finding: "CARIES", before: "ai", after: "confirmed", note: null });
    expect(auditSentence({ at, actor: "Dr A", action: "reviewed", detail }, { timeZone: "Europe/Berlin", locale: "en-GB" })).toBe(
      "Dr A confirmed caries on tooth 36 — 26 Nov 2026, 10:42 CET",
    );
    const back = JSON.stringify({ fdi: 36, finding: "CARIES", before: "rejected", after: "ai" });
    expect(auditSentence({ at, actor: "Dr A", action: "reviewed", detail: back }, { timeZone: "UTC" })).toContain("withdrew the decision on caries on tooth 36");
    const changed = JSON.stringify({ fdi: 16, finding: "PERIAPICAL_RADIOLUCENCY", before: "confirmed", after: "rejected", note: "artefact" });
    expect(auditSentence({ at, actor: "Dr A", action: "reviewed", detail: changed }, { timeZone: "UTC" })).toContain(
      "Dr A rejected periapical radiolucency on tooth 16 (was confirmed) — note: “artefact”",
    );
    expect(auditSentence({ at, actor: "Dr B", action: "approved", detail: null }, { timeZone: "UTC" })).toMatch(/^Dr B approved/);
  });
});

describe("times and dates", () => {
  it("shows local time with its zone", () => {
    expect(formatLocal("2026-07-01T08:00:00Z", { timeZone: "Europe/Berlin", locale: "en-GB" })).toBe("1 Jul 2026, 10:00 CEST");
    expect(formatLocal("not a date")).toBe("not a date");
  });
  it("reads and checks dates of birth", () => {
    expect(formatBirthDate("1815-12-10", "en-GB")).toBe("10 December 1815");
    expect(formatBirthDate(null)).toBe("not given");
    expect(validBirthDate("1968-04-02")).toBe(true);
    expect(validBirthDate("1968-02-30")).toBe(false);
    expect(validBirthDate("2999-01-01")).toBe(false);
  });
});

describe("colours and codes", () => {
  it("every finding has a code and text on it that meets WCAG AA", () => {
    for (const k of FINDING_KINDS) {
      expect(FINDING_CODES[k]).toBeTruthy();
      expect(contrast(FINDING_COLOURS[k], textOn(FINDING_COLOURS[k]))).toBeGreaterThanOrEqual(4.5);
    }
    expect(new Set(Object.values(FINDING_COLOURS)).size).toBe(8);
  });
});

const geometry: Geometry = {
  version: 1,
  width: 1000,
  height: 500,
  teeth: [
    { fdi: 36, outline: [[600, 260, 660, 260, 660, 420, 600, 420]] },
    { fdi: 16, outline: [[300, 80, 360, 80, 360, 240, 300, 240]] },
  ],
  findings: [
    { id: 0, finding: "CARIES", score: 0.7, box: [610, 270, 650, 300], outline: [[610, 270, 650, 270, 650, 300]], teeth: [{ fdi: 36, share: 0.9 }] },
    { id: 1, finding: "CARIES", score: 0.3, box: [310, 200, 340, 230], outline: [[310, 200, 340, 200, 340, 230]], teeth: [{ fdi: 16, share: 0.8 }] },
    { id: 2, finding: "FILLING", score: 0.9, box: [600, 250, 660, 280], outline: [[600, 250, 660, 250, 660, 280]], teeth: [] },
  ],
};

describe("geometry", () => {
  it("turns rings into paths and boxes", () => {
    expect(ringPath([0, 0, 10, 0, 10, 5])).toBe("M0 0L10 0L10 5Z");
    expect(ringPath([0, 0, 1, 1])).toBe("");
    expect(outlinePath([[0, 0, 1, 0, 1, 1], [5, 5, 6, 5, 6, 6]])).toBe("M0 0L1 0L1 1ZM5 5L6 5L6 6Z");
    expect(ringsBox([[3, 4, 10, 2, 7, 9]])).toEqual([3, 2, 10, 9]);
    expect(ringsBox([])).toBeNull();
    expect(toothBoxes(geometry).get("36")).toEqual([600, 260, 660, 420]);
  });

  it("crops around a tooth inside the image", () => {
    const [x, y, w, h] = cropAround([600, 260, 660, 420], 1000, 500);
    expect(w).toBeGreaterThanOrEqual(200);
    expect(y + h).toBeLessThanOrEqual(500);
    expect(x).toBeLessThanOrEqual(600);
    expect(cropAround([0, 0, 10, 10], 1000, 500)[0]).toBe(0);
  });

  it("draws an instance when its own score reaches its kind's threshold, styled by the decision on its main tooth", () => {
    const drawn = drawnInstances(geometry, DEFAULT_THRESHOLDS, [decision(36, "CARIES", "rejected")]);
    expect(drawn.map((d) => [d.instance.id, d.status])).toEqual([
      [0, "rejected"],
      [2, "ai"],
    ]);
    const lower = drawnInstances(geometry, { ...DEFAULT_THRESHOLDS, CARIES: 0.25 }, [decision(16, "CARIES", "added")]);
    expect(lower.find((d) => d.instance.id === 1)?.status).toBe("confirmed");
  });

  it("marks added findings with no drawn instance on their tooth", () => {
    const decisions = [decision(16, "CARIES", "added")];
    const drawn = drawnInstances(geometry, DEFAULT_THRESHOLDS, decisions);
    expect(addedMarks(geometry, drawn, decisions)).toEqual([{ fdi: "16", finding: "CARIES", box: [300, 80, 360, 240] }]);
    expect(addedMarks(geometry, drawn, [decision(11, "CARIES", "added")])).toEqual([]);
  });
});

describe("the viewer's numbers", () => {
  it("fits and zooms at the cursor", () => {
    const fit = fitView(3000, 1500, 1000, 800);
    expect(fit.scale).toBeCloseTo(1 / 3);
    expect(fit.y).toBeCloseTo(150);
    const limits = limitsFor(fit.scale);
    const z = zoomAt(fit, 2, 400, 300, limits);
    expect(toImage(z, 400, 300)[0]).toBeCloseTo(toImage(fit, 400, 300)[0]);
    expect(toImage(z, 400, 300)[1]).toBeCloseTo(toImage(fit, 400, 300)[1]);
    expect(zoomAt(fit, 1000, 0, 0, limits).scale).toBe(limits.max);
    expect(zoomAt(fit, 0.001, 0, 0, limits).scale).toBe(limits.min);
  });

  it("pans but keeps the image under the centre", () => {
    const v = { scale: 1, x: 0, y: 0 };
    expect(panBy(v, 50, 0, 3000, 1500, 1000, 800).x).toBe(50);
    expect(panBy(v, 5000, 0, 3000, 1500, 1000, 800).x).toBe(500);
    expect(panBy(v, -9000, 0, 3000, 1500, 1000, 800).x).toBe(500 - 3000);
  });

  it("builds one filter for the adjustments", () => {
    expect(cssFilter(NEUTRAL)).toBe("none");
    expect(cssFilter({ brightness: 1.2, contrast: 1, gamma: 1.5, invert: true })).toBe("url(#gamma-filter) brightness(1.2) invert(1)");
  });
});

describe("keyboard shortcuts", () => {
  it("act only when not typing and without modifiers", () => {
    expect(actionFor({ key: "A" }, false)).toBe("approve");
    expect(actionFor({ key: "a" }, true)).toBeNull();
    expect(actionFor({ key: "a", ctrlKey: true }, false)).toBeNull();
    expect(actionFor({ key: "Escape" }, true)).toBe("close");
    expect(actionFor({ key: "=" }, false)).toBe("zoom-in");
    expect(actionFor({ key: "ArrowLeft" }, false)).toBe("pan-left");
    expect(actionFor({ key: "q" }, false)).toBeNull();
  });
});
