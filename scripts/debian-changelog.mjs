// Writes the Debian changelog entry of one version from CHANGELOG.md, on
// stdout, for the .deb's /usr/share/doc/countersign/changelog.gz (Debian
// policy 12.7: every package installs its changelog; 4.4 gives the format):
//
//   countersign (0.1.0) unstable; urgency=medium
//
//     * Ownership and dependency map: …, wrapped at 80 columns.
//
//    -- Maintainer <address>  Thu, 03 Dec 2026 08:20:00 +0000
//
// Reads the section headed `## VERSION` (optionally followed by a date or
// "(unreleased)"); its `- ` items become `  * ` items, its `### Added` style
// headings `  [ Added ]` groups, as dch writes them. Exits 1, naming the file,
// when CHANGELOG.md has no section for the version: a packaged version is
// described there first.
//
//   node scripts/debian-changelog.mjs CHANGELOG.md VERSION "MAINTAINER" "RFC 5322 DATE"
import { readFileSync } from "node:fs";

const [file, version, maintainer, date] = process.argv.slice(2);
if (!file || !version || !maintainer || !date) {
  console.error(
    'usage: node scripts/debian-changelog.mjs CHANGELOG.md VERSION "MAINTAINER" "DATE"',
  );
  process.exit(2);
}

const lines = readFileSync(file, "utf8").split("\n");
const escaped = version.replace(/[.]/g, "\\.");
const heading = new RegExp(`^## \\[?${escaped}\\]?(\\s|$)`);
const start = lines.findIndex((l) => heading.test(l));
if (start < 0) {
  console.error(`${file}: no section for version ${version} (a line "## ${version}")`);
  process.exit(1);
}
const end = lines.findIndex((l, i) => i > start && /^## /.test(l));
const section = lines.slice(start + 1, end < 0 ? undefined : end);

// Items and group headings, with each item's continuation lines joined.
const entries = [];
for (const line of section) {
  if (/^### /.test(line)) {
    entries.push({ group: line.slice(4).trim() });
  } else if (/^- /.test(line)) {
    entries.push({ item: line.slice(2).trim() });
  } else if (/^\s+\S/.test(line) && entries.at(-1)?.item !== undefined) {
    entries.at(-1).item += " " + line.trim();
  }
}
if (!entries.some((e) => e.item !== undefined)) {
  console.error(`${file}:${start + 1}: the section for ${version} lists no changes ("- " items)`);
  process.exit(1);
}

/** Wraps `text` to 80 columns, the first line after `first`, the others after `rest`. */
function wrap(text, first, rest) {
  const out = [];
  let prefix = first;
  let words = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (words.length && (prefix + [...words, word].join(" ")).length > 80) {
      out.push(prefix + words.join(" "));
      prefix = rest;
      words = [];
    }
    words.push(word);
  }
  out.push(prefix + words.join(" "));
  return out;
}

/** Markdown's code spans and links as plain text. */
function plain(text) {
  return text.replace(/`/g, "").replace(/\[([^\]]+)\]\(([^)]+)\)/g, "$1 ($2)");
}

const body = [];
for (const e of entries) {
  if (e.group !== undefined) {
    if (body.length) body.push("");
    body.push(`  [ ${e.group} ]`);
  } else {
    body.push(...wrap(plain(e.item), "  * ", "    "));
  }
}

process.stdout.write(
  [
    `countersign (${version}) unstable; urgency=medium`,
    "",
    ...body,
    "",
    ` -- ${maintainer}  ${date}`,
    "",
  ].join("\n"),
);
