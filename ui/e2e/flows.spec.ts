import { expect, test, type Page } from "@playwright/test";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const shots = path.resolve(here, "../../docs/screenshots");

async function open(page: Page): Promise<void> {
  await page.addInitScript({ path: path.join(here, "fake-backend.js") });
  await page.goto("/");
  await expect(page.locator("#model-info")).toContainText("test-random-weights-1");
}

async function drop(page: Page, paths: string[]): Promise<void> {
  await page.evaluate((p) => {
    const fake = (window as unknown as { __fake: { emit: (e: string, x: unknown) => void } }).__fake;
    fake.emit("tauri://drag-drop", { paths: p, position: { x: 10, y: 10 } });
  }, paths);
}

test("drop, wait, review with thresholds, approve for a new patient", async ({ page }) => {
  await open(page);
  await expect(page.locator("#test-model-banner")).toContainText("not for diagnosis");
  await drop(page, ["/scans/pan-01432.jpg", "/scans/notes.txt"]);
  await expect(page.locator("#status")).toContainText("notes.txt: not a supported image format");
  await expect(page.locator("#queue")).toContainText("pan-01432.jpg");
  await page.evaluate(() => (window as unknown as { __fake: { finish: (id: string) => void } }).__fake.finish("a1"));
  await expect(page.locator("#analysis-meta")).toContainText("completed");
  await expect(page.locator("#analysis-notice")).toContainText("not for diagnosis");
  await expect(page.locator(".tooth")).toHaveCount(32);
  await expect(page.locator(".tooth.marked")).toHaveCount(3);
  await expect(page.locator("#findings tbody tr")).toHaveCount(3);
  // A lower threshold for caries colours more teeth and lists more rows; it is remembered.
  await page.locator("summary", { hasText: "Thresholds" }).click();
  await page.locator("#thresholds").getByLabel("caries", { exact: true }).fill("0.3");
  await page.locator("#thresholds").getByLabel("caries", { exact: true }).dispatchEvent("change");
  await expect(page.locator("#findings tbody tr")).not.toHaveCount(3);
  expect(await page.evaluate(() => localStorage.getItem("pano.thresholds"))).toContain('"CARIES":0.3');
  // Sorting by score puts the strongest first.
  await page.locator("button[data-sort=score]").click();
  await expect(page.locator("#findings tbody tr").first()).toContainText("90%");
  await page.screenshot({ path: path.join(shots, "ui-review.png") });

  // Without the clinician's name the form does not submit.
  await page.locator("#approve").click();
  expect(
    await page.evaluate(() => (window as unknown as { __fake: { calls: { cmd: string }[] } }).__fake.calls.some((c) => c.cmd === "approve")),
  ).toBe(false);
  await page.locator("#approver").fill("Dr Bell");
  await page.locator("#new-patient").check();
  await page.locator("#patient-search").fill("Grace Hopper");
  await page.locator("#approve").click();
  await expect(page.locator("#decision-status")).toContainText("Approved by Dr Bell for Grace Hopper; filed in /mnt/archive/patients/");
  const approve = await page.evaluate(() =>
    (window as unknown as { __fake: { calls: { cmd: string; args: unknown }[] } }).__fake.calls.filter((c) => c.cmd === "approve").pop(),
  );
  expect(approve?.args).toEqual({ id: "a1", patient: { kind: "new", display_name: "Grace Hopper", external_id: null }, approver: "Dr Bell" });
  await expect(page.locator("#approve")).toBeDisabled();
});

test("settings never show a stored key and send only typed ones", async ({ page }) => {
  await open(page);
  await page.locator("#nav-settings").click();
  await expect(page.locator("#view-analyses")).toBeHidden();
  await expect(page.locator("#view-settings")).toBeVisible();
  const key = page.locator("#secret-runpod_api_key");
  await expect(key).toHaveValue("");
  await expect(key).toHaveAttribute("placeholder", /stored in the keychain/);
  await page.locator("#secret-s3_secret_access_key").fill("typed-secret");
  await page.locator('input[name="runpod.endpoint_id"]').fill("abc123");
  await expect(page.locator('select[name="archive_input"]')).toHaveValue("original");
  await page.locator('select[name="archive_input"]').selectOption("deidentified");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#settings-status")).toHaveText("Saved.");
  const calls = await page.evaluate(() =>
    (window as unknown as { __fake: { calls: { cmd: string; args: Record<string, unknown> }[] } }).__fake.calls,
  );
  expect(calls.filter((c) => c.cmd === "set_secret").map((c) => c.args.name)).toEqual(["s3_secret_access_key"]);
  const saved = calls.find((c) => c.cmd === "save_settings")?.args.settings as Record<string, Record<string, unknown>>;
  expect(saved.runpod.endpoint_id).toBe("abc123");
  expect((saved as unknown as Record<string, unknown>).archive_input).toBe("deidentified");
  expect(JSON.stringify(saved)).not.toContain("typed-secret");
  await expect(page.locator("#secret-s3_secret_access_key")).toHaveValue("");
  await page.screenshot({ path: path.join(shots, "ui-settings.png") });
});

test("keyboard: the drop zone opens the file picker; dark theme and 4K stay readable", async ({ page }) => {
  await open(page);
  await page.locator("#drop-zone").focus();
  await page.keyboard.press("Enter");
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { __fake: { calls: { cmd: string }[] } }).__fake.calls.some((c) => c.cmd === "plugin:dialog|open")))
    .toBe(true);
  await page.locator("#theme").click();
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
  await drop(page, ["/scans/pan-01432.jpg"]);
  await page.evaluate(() => (window as unknown as { __fake: { finish: (id: string) => void } }).__fake.finish("a1"));
  await expect(page.locator(".tooth")).toHaveCount(32);
  await page.screenshot({ path: path.join(shots, "ui-dark-1280x800.png") });
  await page.setViewportSize({ width: 3840, height: 2160 });
  const size = await page.locator("body").evaluate((b) => parseFloat(getComputedStyle(b).fontSize));
  expect(size).toBeGreaterThanOrEqual(19);
  await page.screenshot({ path: path.join(shots, "ui-dark-3840x2160.png") });
});
