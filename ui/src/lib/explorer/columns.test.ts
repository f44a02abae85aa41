import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isColumns, readColumns } from "./columns";
import type { Explorer } from "../types";

// Written by the core (src/graph/columns.rs, `tests::fixture`): the
// demo's radius as columns, and the same radius as JSON.
const here = import.meta.dirname;
const bin = readFileSync(`${here}/demo-columns.bin`);
const json = JSON.parse(
  readFileSync(`${here}/demo-columns.json`, "utf8"),
) as Explorer;

describe("explorer columns", () => {
  it("reads what the core wrote, the same as the JSON", () => {
    const buf = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length);
    expect(isColumns(buf)).toBe(true);
    const ex = readColumns(buf);
    // Positions travel as 32-bit floats.
    const f32 = (v: number[]) => v.map((x) => Math.fround(x));
    expect({
      ...ex,
      nodes: { ...ex.nodes, x: f32(ex.nodes.x), y: f32(ex.nodes.y) },
    }).toEqual({
      ...json,
      nodes: { ...json.nodes, x: f32(json.nodes.x), y: f32(json.nodes.y) },
    });
    // Beyond ASCII, sliced where UTF-16 puts it.
    expect(ex.nodes.label[1]).toBe("Zahlungsdienst — Ü 😀");
    expect(ex.nodes.label[2]).toBe(json.nodes.label[2]);
  });

  it("refuses what is not columns", () => {
    const text = new TextEncoder().encode('{"targets": []}                ');
    expect(isColumns(text.buffer)).toBe(false);
    expect(() => readColumns(text.buffer)).toThrow(/CSX1/);
  });
});
