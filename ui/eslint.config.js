import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  { languageOptions: { globals: { ...globals.browser } } },
  { files: ["e2e/**", "playwright.config.ts"], languageOptions: { globals: { ...globals.node } } },
);
