#!/usr/bin/env python3
"""Validates Countersign's exports with the ecosystem's own validators.

    validate_exports.py opengraph PAYLOAD.json SCHEMA_DIR
    validate_exports.py opengraph-extension SCHEMA.json
    validate_exports.py cyclonedx BOM.json

opengraph: every node and edge against BloodHound's published node and
edge JSON Schemas (SCHEMA_DIR holds opengraph-node.json and
opengraph-edge.json), the payload's shape (metadata.source_kind, graph.nodes,
graph.edges), unique node ids and edges whose ends exist; then again with
bhopengraph, an independent OpenGraph library.

opengraph-extension: BloodHound's namespacing rules for an extension
definition schema (every name NAMESPACE_Name and unique).

cyclonedx: the BOM against the official CycloneDX 1.6 JSON Schema (strict),
as cyclonedx-python-lib bundles it; every dependency ref names a bom-ref.

sbom: a software bill of materials (scripts/package writes them) against
the official schema of the CycloneDX version it declares (specVersion),
strict; every dependency ref names a component or the BOM's subject.

Exits 1 and prints each fault on stderr when the document is not valid.
"""

import json
import os
import re
import sys

import jsonschema


def opengraph(payload_path, schema_dir):
    errors = []
    doc = json.load(open(payload_path))
    if set(doc) - {"$schema", "metadata", "graph"}:
        errors.append(f"(root): unexpected keys {sorted(set(doc) - {'metadata', 'graph'})}")
    source_kind = doc.get("metadata", {}).get("source_kind")
    if not isinstance(source_kind, str) or not source_kind:
        errors.append("metadata.source_kind: missing")
    graph = doc.get("graph", {})
    nodes, edges = graph.get("nodes"), graph.get("edges")
    if not isinstance(nodes, list) or not isinstance(edges, list):
        errors.append("graph: needs nodes and edges arrays")
        return errors
    node_schema = json.load(open(os.path.join(schema_dir, "opengraph-node.json")))
    edge_schema = json.load(open(os.path.join(schema_dir, "opengraph-edge.json")))
    # $defs, if/then/else: Draft 2020-12.
    node_v = jsonschema.Draft202012Validator(node_schema)
    edge_v = jsonschema.Draft202012Validator(edge_schema)
    ids = set()
    for n, node in enumerate(nodes):
        for e in node_v.iter_errors(node):
            errors.append(f"graph.nodes[{n}]/{'/'.join(map(str, e.path))}: {e.message}")
        if node.get("id") in ids:
            errors.append(f"graph.nodes[{n}]: id {node.get('id')!r} listed twice")
        ids.add(node.get("id"))
    for n, edge in enumerate(edges):
        for e in edge_v.iter_errors(edge):
            errors.append(f"graph.edges[{n}]/{'/'.join(map(str, e.path))}: {e.message}")
        for end in ("start", "end"):
            ref = edge.get(end, {})
            if ref.get("match_by", "id") == "id" and ref.get("value") not in ids:
                errors.append(f"graph.edges[{n}].{end}: no node {ref.get('value')!r}")

    # The same payload through an independent OpenGraph library.
    from bhopengraph.OpenGraph import OpenGraph

    g = OpenGraph()
    if not g.import_from_dict(doc):
        errors.append("bhopengraph could not load the payload")
    else:
        if g.get_node_count() != len(nodes) or g.get_edge_count() != len(edges):
            errors.append(
                f"bhopengraph read {g.get_node_count()} nodes and {g.get_edge_count()} edges, "
                f"the file has {len(nodes)} and {len(edges)}"
            )
        _, found = g.validate_graph()
        # An owner who owns nothing is a node without edges: a fact, not a fault.
        errors.extend(f"bhopengraph: {m}" for m in found if "is isolated" not in m)
    return errors


def opengraph_extension(path):
    errors = []
    doc = json.load(open(path))
    schema = doc.get("schema", {})
    for key in ("name", "display_name", "version", "namespace"):
        if not isinstance(schema.get(key), str) or not schema.get(key):
            errors.append(f"schema.{key}: missing")
    if not re.fullmatch(r"v\d+\.\d+\.\d+", schema.get("version", "")):
        errors.append(f"schema.version: {schema.get('version')!r} is not vMAJOR.MINOR.PATCH")
    namespace = schema.get("namespace", "")
    if namespace.lower() == "tag":
        errors.append("schema.namespace: the tag namespace is reserved")
    names = []
    for section in ("node_kinds", "relationship_kinds"):
        if not isinstance(doc.get(section), list):
            errors.append(f"{section}: missing")
            continue
        for n, kind in enumerate(doc[section]):
            name = kind.get("name", "")
            if not name.startswith(namespace + "_") or len(name) <= len(namespace) + 1:
                errors.append(f"{section}[{n}].name: {name!r} is not {namespace}_Name")
            if not re.fullmatch(r"[A-Za-z0-9_]+", name):
                errors.append(f"{section}[{n}].name: {name!r} has characters other than A-Z a-z 0-9 _")
            names.append(name)
            if section == "node_kinds" and "color" in kind and not re.fullmatch(
                r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", kind["color"]
            ):
                errors.append(f"{section}[{n}].color: {kind['color']!r}")
            if section == "relationship_kinds" and not isinstance(kind.get("is_traversable"), bool):
                errors.append(f"{section}[{n}].is_traversable: missing")
    for name in {n for n in names if names.count(n) > 1}:
        errors.append(f"{name!r} is defined twice")
    return errors


def cyclonedx(path, declared=False):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = open(path).read()
    errors = []
    doc = json.loads(text)
    version = SchemaVersion.V1_6
    if declared:
        spec = doc.get("specVersion")
        try:
            version = SchemaVersion.from_version(spec)
        except (ValueError, TypeError):
            return [f"specVersion: {spec!r} is no CycloneDX version"]
    found = JsonStrictValidator(version).validate_str(text)
    if found is not None:
        errors.append(f"CycloneDX {version.to_version()} schema: {found}")
    refs = set()

    def collect(services):
        for s in services:
            if "bom-ref" in s:
                refs.add(s["bom-ref"])
            collect(s.get("services", []))
            collect(s.get("components", []))

    collect(doc.get("services", []))
    collect(doc.get("components", []))
    # The BOM's subject (an SBOM's: the product) and its parts.
    collect([doc["metadata"]["component"]] if "component" in doc.get("metadata", {}) else [])
    for n, d in enumerate(doc.get("dependencies", [])):
        for ref in [d["ref"], *d.get("dependsOn", [])]:
            if ref not in refs:
                errors.append(f"dependencies[{n}]: {ref!r} names no service or component")
    return errors


def main():
    kind = sys.argv[1]
    if kind == "opengraph":
        errors = opengraph(sys.argv[2], sys.argv[3])
    elif kind == "opengraph-extension":
        errors = opengraph_extension(sys.argv[2])
    elif kind == "cyclonedx":
        errors = cyclonedx(sys.argv[2])
    elif kind == "sbom":
        errors = cyclonedx(sys.argv[2], declared=True)
    else:
        sys.exit(f"unknown kind {kind!r}")
    for e in errors:
        print(f"{sys.argv[2]}: {e}", file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
