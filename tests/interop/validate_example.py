#!/usr/bin/env python3
"""Validates a JSON document against a schema of the OpenAPI document with
an independent validator (jsonschema, Draft 2020-12 as OpenAPI 3.1 uses).

    validate_example.py OPENAPI.yaml SCHEMA_NAME DOCUMENT.json
"""

import json
import sys

import jsonschema
import yaml


def main():
    openapi_path, name, doc_path = sys.argv[1:4]
    spec = yaml.safe_load(open(openapi_path))
    assert spec["openapi"].startswith("3.1"), spec["openapi"]
    # Resolve "#/components/schemas/..." references against the whole document.
    schema = {"$ref": f"#/components/schemas/{name}", **{"components": spec["components"]}}
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(json.load(open(doc_path))), key=lambda e: list(e.path))
    for e in errors:
        print(f"{doc_path}: {'/'.join(map(str, e.path)) or '(root)'}: {e.message}", file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
