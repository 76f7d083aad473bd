#!/usr/bin/env python3
"""Validate custom resources against their CustomResourceDefinition's openAPIV3Schema.

Usage: python3 xtask/tests/crd_schema.py CRD.yaml [MANIFESTS.yaml|-]...   ('-' reads stdin)

Every document of MANIFESTS whose apiVersion and kind are the CRD's group/version and kind is
checked against that version's openAPIV3Schema with jsonschema (Draft 7), strictly: as
`kubectl apply --validate=strict` does, a field the schema does not declare is an error (the API
server would otherwise drop it silently), except under `x-kubernetes-preserve-unknown-fields`.
The CEL rules (`x-kubernetes-validations`) are not evaluated.

Prints `ok: N KIND resource(s)` and exits 0 when all are valid; prints each error with its path
and exits 1 otherwise; exits 2 on bad usage, an unreadable file, no matching resource, or a
missing jsonschema or PyYAML (python3 -m pip install jsonschema==4.26.0; apt-get install
python3-yaml).
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
    if len(argv) < 3:
        fail(__doc__.strip().splitlines()[2])
    try:
        import yaml
        from jsonschema import Draft7Validator
    except ImportError as e:
        fail(f"{e}: python3 -m pip install jsonschema==4.26.0; apt-get install python3-yaml")
    try:
        with open(argv[1]) as f:
            crd = yaml.safe_load(f)
        docs = []
        for path in argv[2:]:
            text = sys.stdin.read() if path == "-" else open(path).read()
            docs.extend(d for d in yaml.safe_load_all(text) if d)
    except (OSError, yaml.YAMLError) as e:
        fail(str(e))
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    schemas = {
        f"{group}/{v['name']}": Draft7Validator(strict(v["schema"]["openAPIV3Schema"]))
        for v in crd["spec"]["versions"]
    }
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
        fail(f"no {kind} ({group}) resource found")
    if errors:
        sys.exit(1)
    print(f"ok: {checked} {kind} resource(s)")


if __name__ == "__main__":
    main(sys.argv)
