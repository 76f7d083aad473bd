#!/usr/bin/env python3
"""Validate custom resources against their CRD's openAPIV3Schema, as xtask/schemas/crds.json keeps it.

Usage: python3 xtask/tests/crd_schema.py CRDS.json KIND [MANIFESTS.yaml|-]...   ('-' reads stdin)

CRDS.json is what xtask/schemas/gen.py --crds makes: each served version of a CRD with its
openAPIV3Schema, trimmed to the keywords validation reads (types, required fields, enums,
patterns, lengths and bounds). Every document of MANIFESTS whose kind is KIND and whose
apiVersion is one CRDS.json has for KIND is checked against that schema with jsonschema (Draft 7),
strictly: as `kubectl apply --validate=strict` does, a field the schema does not declare is an
error (the API server would otherwise drop it silently), except under
`x-kubernetes-preserve-unknown-fields`.
The CEL rules (`x-kubernetes-validations`) are not evaluated.

Prints `ok: N KIND resource(s)` and exits 0 when all are valid; prints each error with its path
and exits 1 otherwise; exits 2 on bad usage, an unreadable file, a KIND that CRDS.json does not
have, no matching resource, or a missing jsonschema or PyYAML (python3 -m pip install
jsonschema==4.26.0; apt-get install python3-yaml).
"""

import sys


def fail(message):
    print(f"crd_schema.py: {message}", file=sys.stderr)
    sys.exit(2)


def strict(schema):
    """The schema with `additionalProperties: false` wherever fields are declared."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def main(argv):
    if len(argv) < 4:
        fail(__doc__.strip().splitlines()[2])
    try:
        import yaml
        from jsonschema import Draft7Validator
    except ImportError as e:
        fail(f"{e}: python3 -m pip install jsonschema==4.26.0; apt-get install python3-yaml")
    import json

    kind = argv[2]
    try:
        with open(argv[1]) as f:
            crds = json.load(f)
        docs = []
        for path in argv[3:]:
            text = sys.stdin.read() if path == "-" else open(path).read()
            docs.extend(d for d in yaml.safe_load_all(text) if d)
    except (OSError, ValueError, yaml.YAMLError) as e:
        fail(str(e))
    schemas = {
        entry["apiVersion"]: Draft7Validator(strict(entry["schema"]))
        for entry in crds["kinds"]
        if entry["kind"] == kind
    }
    if not schemas:
        fail(f"{argv[1]} has no {kind} schema: add its CRD to xtask/schemas/gen.py and run it with --crds")
    checked, errors = 0, 0
    for doc in docs:
        if doc.get("kind") != kind or doc.get("apiVersion") not in schemas:
            continue
        checked += 1
        name = doc.get("metadata", {}).get("name", "?")
        for error in schemas[doc["apiVersion"]].iter_errors(doc):
            path = ".".join(str(p) for p in error.absolute_path) or "(root)"
            print(f"{kind}/{name}: {path}: {error.message}")
            errors += 1
    if checked == 0:
        fail(f"no {kind} resource of {', '.join(sorted(schemas))} found")
    if errors:
        sys.exit(1)
    print(f"ok: {checked} {kind} resource(s)")


if __name__ == "__main__":
    main(sys.argv)
