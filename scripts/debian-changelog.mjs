// Writes the Debian changelog of the .deb (/usr/share/doc/countersign/
// changelog.gz; Debian policy 12.7 asks every package for one, 4.4 gives
// the format) from CHANGELOG.md, on stdout: one entry per version section,
// newest first, the packaged version's on top.
//
//   countersign (0.1.0) UNRELEASED; urgency=medium
//
//     * Added: Ownership and dependency map: …, wrapped at 80 columns.
//       - a nested item
//
//    -- Maintainer <address>  Thu, 03 Dec 2026 08:20:00 +0000
//
// CHANGELOG.md is read as Keep a Changelog writes it: `## [1.2.0] -
// 2026-12-01` or `## 1.2.0 (2026-12-01)` headings (a `## [Unreleased]`
// section is skipped; `(unreleased)` marks the packaged version as not yet
// released, which Debian writes as the distribution UNRELEASED), `### Added`
// groups (each item says its group: in dch's format a bracketed line names
// a contributor, not a group), `-`, `*` or `+` items with nested items and
// continuation lines, and paragraphs. Code spans and inline links become
// plain text; fenced code blocks are left out.
//
// The packaged version's entry is dated DATE (the commit's time); older
// ones by the date in their heading. Exits 1 naming the file and line when
// the newest section is not VERSION, when a section lists nothing, or when
// an older one has no date.
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

function fail(line, message) {
  console.error(`${file}${line ? `:${line}` : ""}: ${message}`);
  process.exit(1);
}

let text;
try {
  text = readFileSync(file, "utf8");
} catch (e) {
  fail(0, `cannot read it (${e.code ?? e.message})`);
}

// The version sections: heading line, version, date or "unreleased", and
// the lines up to the next `## `.
const sections = [];
let fenced = false;
for (const [i, line] of text.split("\n").entries()) {
  if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
  if (fenced || /^\s*(```|~~~)/.test(line)) {
    sections.at(-1)?.lines.push({ n: i + 1, text: "" });
    continue;
  }
  const heading = /^## +\[?([^\]\s]+)\]?(.*)$/.exec(line);
  if (heading) {
    const rest = heading[2];
    sections.push({
      n: i + 1,
      version: heading[1],
      date: /(\d{4}-\d{2}-\d{2})/.exec(rest)?.[1],
      unreleased: /unreleased/i.test(rest) || /^unreleased$/i.test(heading[1]),
      lines: [],
    });
  } else {
    sections.at(-1)?.lines.push({ n: i + 1, text: line });
  }
}
const versions = sections.filter((s) => !/^unreleased$/i.test(s.version));
if (!versions.length) fail(0, `no version sections ("## ${version}")`);
if (versions[0].version !== version) {
  const listed = versions.some((s) => s.version === version);
  fail(
    versions[0].n,
    listed
      ? `the newest section is ${versions[0].version}, not ${version}, the version being packaged`
      : `no section for version ${version} (a line "## ${version}" above the others)`,
  );
}

/** Markdown's code spans, emphasis and inline links as plain text. */
function plain(s) {
  return s
    .replace(/`/g, "")
    .replace(/\*\*([^*]+)\*\*/g, "$1")
    .replace(/\[([^\]]+)\]\(([^)]+)\)/g, "$1 ($2)");
}

/** `text` wrapped at 80 columns, the first line after `first`, the rest after `rest`. */
function wrap(s, first, rest) {
  const out = [];
  let prefix = first;
  let words = [];
  for (const word of plain(s).split(/\s+/).filter(Boolean)) {
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

/** The body of one section: items (depth 0 or nested), paragraphs. */
function body(section) {
  const blocks = []; // { kind: "item" | "para", depth, text }
  let group;
  for (const { text: line } of section.lines) {
    const item = /^(\s*)[-*+] +(.*)$/.exec(line);
    if (/^### /.test(line)) {
      group = line.slice(4).trim();
    } else if (item) {
      const depth = item[1].length >= 2 ? 1 : 0;
      const lead = depth === 0 && group ? `${group}: ` : "";
      blocks.push({ kind: "item", depth, text: lead + item[2].trim() });
    } else if (!line.trim()) {
      blocks.push({ kind: "break" });
    } else if (/^\s+\S/.test(line) && blocks.at(-1)?.kind === "item") {
      blocks.at(-1).text += " " + line.trim();
    } else if (blocks.at(-1)?.kind === "para") {
      blocks.at(-1).text += " " + line.trim();
    } else {
      blocks.push({ kind: "para", text: line.trim() });
    }
  }
  const out = [];
  for (const b of blocks) {
    if (b.kind === "item" && b.depth === 0) out.push(...wrap(b.text, "  * ", "    "));
    if (b.kind === "item" && b.depth === 1) out.push(...wrap(b.text, "    - ", "      "));
    if (b.kind === "para") out.push(...wrap(b.text, "  ", "  "));
  }
  if (!blocks.some((b) => b.kind === "item")) {
    fail(section.n, `the section for ${section.version} lists no changes ("- " items)`);
  }
  return out;
}

const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** A heading's YYYY-MM-DD as RFC 5322's date, at midnight UTC. */
function rfc5322(day) {
  const d = new Date(`${day}T00:00:00Z`);
  const dd = String(d.getUTCDate()).padStart(2, "0");
  return `${days[d.getUTCDay()]}, ${dd} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} 00:00:00 +0000`;
}

const entries = versions.map((section, i) => {
  if (i > 0 && !section.date) {
    fail(section.n, `${section.version} has no release date ("## [${section.version}] - YYYY-MM-DD")`);
  }
  const distribution = i === 0 && section.unreleased ? "UNRELEASED" : "unstable";
  return [
    `countersign (${section.version}) ${distribution}; urgency=medium`,
    "",
    ...body(section),
    "",
    ` -- ${maintainer}  ${i === 0 ? date : rfc5322(section.date)}`,
    "",
  ].join("\n");
});
process.stdout.write(entries.join("\n"));
