import { fasterPack, startupNotices } from "./notices";
import type { AppInfo } from "./api";

const ok: AppInfo = {
  version: "0.1.0", model_version: "m", test_model: false, notice: null, precision: "fp32", models_problem: null,
  execution_provider: "cpu", models_dir: "/m", onnxruntime: "/lib/libonnxruntime.so",
  onnxruntime_problem: null, backend: "auto", cloud_problem: null, keychain_problem: null,
};
const err = (message: string) => ({ code: "x", message });

describe("startupNotices", () => {
  it("says nothing when everything is usable", () => {
    expect(startupNotices(ok)).toEqual({ problems: [], notes: [] });
  });

  it("treats a missing cloud as a note when analyses fall back to this computer", () => {
    const info = { ...ok, cloud_problem: err("no RunPod endpoint id is set"), keychain_problem: err("no keychain") };
    expect(startupNotices(info)).toEqual({
      problems: [],
      notes: ["Analyses run on this computer: no RunPod endpoint id is set."],
    });
  });

  it("treats a missing cloud as a problem when only the cloud may analyse", () => {
    const info = { ...ok, backend: "cloud", cloud_problem: err("no endpoint"), keychain_problem: err("no keychain"),
      onnxruntime_problem: err("no runtime") };
    expect(startupNotices(info).problems).toEqual(["no endpoint", "no keychain"]);
  });

  it("reports missing models and runtime wherever analyses may run locally", () => {
    const info = { ...ok, backend: "local", models_problem: err("no models"), onnxruntime_problem: err("no runtime"),
      cloud_problem: err("no endpoint") };
    expect(startupNotices(info)).toEqual({ problems: ["no models", "no runtime"], notes: [] });
  });

  it("names a faster pack wherever it analyses here, and not when only the cloud analyses", () => {
    const int8 = { ...ok, precision: "int8" };
    expect(startupNotices(int8).notes).toEqual([
      "Faster INT8 models are in use on this computer: their scores differ slightly from the standard models'.",
    ]);
    expect(startupNotices({ ...int8, backend: "cloud" }).notes).toEqual([]);
  });

  it("treats a backend that names no precision as the standard models", () => {
    const older = { ...ok, precision: undefined as unknown as string };
    expect(fasterPack(older)).toBeNull();
    expect(startupNotices(older)).toEqual({ problems: [], notes: [] });
    expect(fasterPack({ ...ok, precision: "fp16" })).toBe("FP16");
  });
});
