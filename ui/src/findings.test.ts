import { label, percent, strongestPerTooth } from "./findings";

describe("strongestPerTooth", () => {
  it("keeps the highest score per tooth and sorts by FDI", () => {
    const result = strongestPerTooth([
      { fdi: "21", finding: "CARIES", score: 0.2 },
      { fdi: "11", finding: "MISSING", score: 0.1 },
      { fdi: "21", finding: "FILLING", score: 0.7 },
      { fdi: "11", finding: "IMPLANT", score: 0.4 },
    ]);
    expect(result).toEqual([
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
