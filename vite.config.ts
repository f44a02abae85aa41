/// <reference types="vitest/config" />
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type PluginOption } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import license, { type Dependency } from "rollup-plugin-license";

// The licences Countersign accepts for code bundled into the front end: the
// list about.toml accepts for the Rust crates (tests/package.rs checks the
// two agree). A bundled package under any other licence, or under none,
// fails the build with the package's name.
const ACCEPTED_LICENCES =
  "(MIT OR Apache-2.0 OR Apache-2.0 WITH LLVM-exception OR BSD-3-Clause OR BSD-2-Clause OR ISC OR 0BSD OR Zlib OR Unicode-3.0 OR BSL-1.0 OR MPL-2.0 OR CDLA-Permissive-2.0)";

// Where the notices of the bundled npm packages go; scripts/package puts
// them into the packages' third-party licences (docs/packaging.md).
const NOTICES = fileURLToPath(
  new URL("target/ui/third-party-licenses.txt", import.meta.url),
);

// The packages bundled so far in this build, by name@version. The graph
// layout's web worker is bundled by a second Rollup build that finishes
// before the page's, so the page's build writes what both hold.
const bundled = new Map<string, Dependency>();

function collect(writeNotices: boolean): PluginOption {
  return license({
    thirdParty: {
      includePrivate: false,
      multipleVersions: true,
      allow: {
        test: ACCEPTED_LICENCES,
        failOnUnlicensed: true,
        failOnViolation: true,
      },
      output: (dependencies: Dependency[]) => {
        for (const dep of dependencies)
          bundled.set(`${dep.name}@${dep.version}`, dep);
        if (writeNotices) {
          mkdirSync(dirname(NOTICES), { recursive: true });
          writeFileSync(NOTICES, notices([...bundled.values()]));
        }
      },
    },
  });
}

/** The notices as plain text: each package's name, version and declared
 * licence, then its licence file and NOTICE as the package ships them. */
function notices(dependencies: Dependency[]): string {
  return dependencies
    .sort((a, b) =>
      `${a.name}@${a.version}`.localeCompare(`${b.name}@${b.version}`),
    )
    .map((dep) => {
      const text =
        dep.licenseText?.trim() ??
        `${dep.license} (the package ships no licence file)`;
      const notice = dep.noticeText?.trim();
      return [
        "-".repeat(80),
        `${dep.name} ${dep.version} (${dep.license})`,
        "",
        text,
        ...(notice ? ["", notice] : []),
        "",
      ].join("\n");
    })
    .join("\n");
}

// The front end lives in ui/; its build goes to ui/dist, which
// src-tauri/tauri.conf.json embeds into the desktop binary.
export default defineConfig({
  root: "ui",
  plugins: [svelte(), collect(true)],
  worker: {
    plugins: () => [collect(false)],
  },
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "safari16",
  },
  resolve: process.env.VITEST ? { conditions: ["browser"] } : undefined,
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    setupFiles: ["src/test-setup.ts"],
  },
});
