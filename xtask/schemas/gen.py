#!/usr/bin/env python3
"""Generates xtask/schemas/k8s.schema, the compact schemas behind lint-manifests' SCHEMA rules.

Sources, each pinned with its checksum (see SOURCES below):
  - kubernetes-validate (PyPI), whose wheel ships the Kubernetes API's strict JSON schemas
    (`additionalProperties: false`) for Kubernetes 1.25 to 1.37, made from the API's OpenAPI spec;
  - the Argo CD Application CRD and the Argo CD Image Updater ImageUpdater CRD (CRDS below), kept
    trimmed to what validation needs in crds.json: `--crds DIR` rebuilds it from the CRD files in
    DIR, each checked against its pinned sha256 (the repo does not carry the CRD files themselves);
  - enums.txt: the enum values the API server validates that the OpenAPI spec does not carry.

Descriptions and everything else validation does not need are dropped. The format (read by
xtask/src/lint/schema/data.rs) is line based:
  S <minor> ...                  the Kubernetes versions the file covers
  N <name>                       the definition names, in order; a reference is an index into them
  V <minor> <bytes>              a Kubernetes version, its lines taking <bytes> bytes: the first one
                                 is complete, every later one lists only what differs from it
  K <apiVersion> <Kind> <index>  a kind served at an apiVersion, with its definition
  -K <apiVersion> <Kind>         (in a later version) not served there
  D <index> <bytes>              a definition (an object), then one line per field (<bytes> bytes):
   <field> <type>                  `!field` when required
  X <index>                      (in a later version) no such definition
Types: s string, i int32, l int64, n number, b boolean, * anything, o any mapping,
x int-or-string, q quantity, B base64 bytes, @N definition N, [T list of T, {T map of T,
=A|B enum (`""` the empty string), and a leading ^ when null is not accepted.

Homelab CRDs (HOMELAB_CRDS below): the CRDs of the operators public home-ops repos use most,
trimmed the same way into homelab-crds.json, which lint-manifests reads at run time (with value
limits: patterns, ranges, lengths, counts), not into k8s.schema. `--homelab-crds DIR` rebuilds it
from the CRD files in DIR, each checked against its pinned sha256; it needs no kubernetes-validate.

Usage: python3 xtask/schemas/gen.py [--check] [--wheel PATH] [--crds DIR]
       python3 xtask/schemas/gen.py [--check] --homelab-crds DIR
  Without --wheel it reads the installed kubernetes_validate package (requirements-e2e.txt pins
  it); either way the schema files must hash to KV_SCHEMAS_SHA256. --check compares the result
  with the committed file instead of writing it (the e2e tests run it).
"""

import hashlib
import json
import os
import re
import sys
import zipfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "k8s.schema")

KV_VERSION = "1.37.0"
# sha256 of kubernetes_validate-1.37.0-py3-none-any.whl on PyPI.
KV_WHEEL_SHA256 = "85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9"
# sha256 over the wheel's v1.25 to v1.37 strict _definitions.json files, read in that order.
KV_SCHEMAS_SHA256 = "f1efdbd0b91a65b616ea63f0dc6c2ae554a19d93f45baea3dfb83f3c1537131b"
# The Kubernetes minors to generate; BASE is complete, the others are stored as differences.
BASE = "1.31"
MINORS = ["1.%d" % m for m in range(25, 38)]

CRDS = [
    # (file in the --crds folder, sha256, source)
    (
        "argo-cd-v3.5.1-application-crd.yaml",
        "5dde0e229249b6b707beb98674c1deae3949d5c319a6c45b9f5a80c99618e40c",
        "github.com/argoproj/argo-cd tag v3.5.1 (109ca7ca71139e514114499d294a492e7910a965) "
        "manifests/crds/application-crd.yaml",
    ),
    (
        "argocd-image-updater-v1.3.0-imageupdaters-crd.yaml",
        "af62a8bd99e49ae9b5630e238365b136f4800a1dda9d7ee585abc9187a610bef",
        "github.com/argoproj-labs/argocd-image-updater tag v1.3.0 (098b544f1c7d6d1368e89c3f8d92415ede353916) "
        "config/crd/bases/argocd-image-updater.argoproj.io_imageupdaters.yaml",
    ),
]


HOMELAB_CRDS = [
    # (file in the --homelab-crds folder, sha256, source). Chosen by use in public home-ops repos
    # (onedr0p/home-ops: 78 Flux Kustomizations, 69 HelmReleases, 69 OCIRepositories, 36
    # ExternalSecrets; mebezac/home-cluster and edgard/home-ops: cert-manager Certificates).
    (
        "flux-helm-controller-helmreleases.yaml",
        "aa8638ac68465ceac1f93a617baf5be833c589c51fd78a7384a4a274c252becc",
        "github.com/fluxcd/helm-controller 0f61a8607a62be64638f2f912d9487e653960a6e (v1.6.0+21) "
        "config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml",
    ),
    (
        "flux-kustomize-controller-kustomizations.yaml",
        "da23ca0e6b4c80d3d26a91583137491e147ef4ef1e2208aece0d0af4ef851974",
        "github.com/fluxcd/kustomize-controller 186fb3b29138ce82ff61ba1a9370b96a3dd598fe (v1.9.0+36) "
        "config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml",
    ),
    (
        "flux-source-controller-ocirepositories.yaml",
        "80c7c6e5c8de0764cc83acd4de5c74bea8e51186085304d22cecc5f2eb35500e",
        "github.com/fluxcd/source-controller 39b711b111fa906c3db0a424e252a5d12e48646d (v1.9.0+13) "
        "config/crd/bases/source.toolkit.fluxcd.io_ocirepositories.yaml",
    ),
    (
        "external-secrets-externalsecrets.yaml",
        "5044be5a610ca90a075f34f03ed20b462695c43387ba9410db7f4250e47b1e2f",
        "github.com/external-secrets/external-secrets cc5bfbc2234ace9cb0caff4ea89c435cf517b27b "
        "(helm-chart-2.9.0) config/crds/bases/external-secrets.io_externalsecrets.yaml",
    ),
    (
        "cert-manager-certificates.yaml",
        "c0d1a3f51f8b13ba55b34300aa495606e3f4104eebc69d9c7b63efbcdebf70c3",
        "github.com/cert-manager/cert-manager 2d0d7f7f74241a9cbf79f0e2a7bb247238ee09fd "
        "(v1.21.0-beta.0+212) deploy/crds/cert-manager.io_certificates.yaml",
    ),
]
HOMELAB_JSON = os.path.join(HERE, "homelab-crds.json")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class Source:
    """The strict schema files of kubernetes-validate, from its wheel or its installed package."""

    def __init__(self, wheel):
        self.wheel = None
        self.digest = hashlib.sha256()
        if wheel:
            data = open(wheel, "rb").read()
            if sha256(data) != KV_WHEEL_SHA256:
                sys.exit("%s: sha256 %s, expected %s" % (wheel, sha256(data), KV_WHEEL_SHA256))
            self.wheel = zipfile.ZipFile(wheel)
        else:
            import kubernetes_validate  # noqa: pinned in requirements-e2e.txt

            version = kubernetes_validate.__version__
            if version != KV_VERSION:
                sys.exit("kubernetes-validate %s is installed; gen.py is pinned to %s" % (version, KV_VERSION))
            self.root = os.path.dirname(kubernetes_validate.__file__)

    def read(self, path):
        if self.wheel:
            data = self.wheel.read("kubernetes_validate/" + path)
        else:
            data = open(os.path.join(self.root, path), "rb").read()
        self.digest.update(data)
        return data

    def verify(self):
        """Every file read, in order, hashes to KV_SCHEMAS_SHA256 (so the installed package
        serves the same data as the pinned wheel)."""
        if self.digest.hexdigest() != KV_SCHEMAS_SHA256:
            sys.exit("kubernetes-validate's schemas hash to %s, expected %s" % (self.digest.hexdigest(), KV_SCHEMAS_SHA256))


def load_enums():
    enums = {}
    for line in open(os.path.join(HERE, "enums.txt")):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        definition, field, values = line.split()
        enums[(definition, field)] = values
    return enums


class Converter:
    """JSON schema nodes to the compact type strings, hoisting inline objects into definitions."""

    def __init__(self, defs, enums):
        self.defs = defs  # name -> JSON schema
        self.enums = enums
        self.out = {}  # name -> [(field, type, required)]

    def ref_name(self, ref):
        return ref.rsplit("/", 1)[-1]

    def is_object_def(self, schema):
        return "properties" in schema

    def convert_def(self, name, schema):
        if name in self.out:
            return
        self.out[name] = None  # a placeholder against recursion
        required = set(schema.get("required", []))
        fields = []
        for field, sub in sorted(schema.get("properties", {}).items()):
            ty = self.type_of(sub, name + "." + field)
            enum = self.enums.get((name, field))
            if enum:
                ty = apply_enum(ty, enum)
            fields.append((field, ty, field in required))
        self.out[name] = fields

    def type_of(self, s, path):
        nullable = True
        if "$ref" in s:
            target = self.ref_name(s["$ref"])
            t = self.defs[target]
            if self.is_object_def(t):
                self.convert_def(target, t)
                return "@" + target
            return self.type_of(t, target)
        if "oneOf" in s or "anyOf" in s:
            alts = s.get("oneOf") or s.get("anyOf")
            kinds = set()
            for a in alts:
                ty = a.get("type")
                kinds.update(ty if isinstance(ty, list) else [ty])
            kinds.discard("null")
            if kinds == {"string", "integer"}:
                return "x"
            if kinds == {"string", "number"}:
                return "q"
            return "*"
        if s.get("x-kubernetes-int-or-string"):
            return "x"
        if s.get("x-kubernetes-preserve-unknown-fields") and "properties" not in s:
            return "*"
        ty = s.get("type")
        if ty is None:
            return "*"
        if isinstance(ty, list):
            nullable = "null" in ty
            ty = [t for t in ty if t != "null"]
            ty = ty[0] if len(ty) == 1 else None
        else:
            nullable = False
        prefix = "" if nullable else "^"
        fmt = s.get("format")
        if ty == "string":
            if "enum" in s and not path.endswith((".apiVersion", ".kind")):
                return prefix + "=" + "|".join(v if v else '""' for v in s["enum"])
            return prefix + ("B" if fmt == "byte" else "s")
        if ty == "integer":
            return prefix + ("i" if fmt == "int32" else "l")
        if ty == "number":
            return prefix + "n"
        if ty == "boolean":
            return prefix + "b"
        if ty == "array":
            return prefix + "[" + self.type_of(s.get("items", {}), path + "#")
        if ty == "object":
            if "properties" in s:
                # An inline object (CRDs): hoisted into a definition named by its path.
                self.defs[path] = s
                self.convert_def(path, s)
                return prefix + "@" + path
            extra = s.get("additionalProperties")
            if isinstance(extra, dict):
                return prefix + "{" + self.type_of(extra, path + "%")
            return prefix + "o"
        return "*"


def apply_enum(ty, values):
    prefix = "^" if ty.startswith("^") else ""
    ty = ty.lstrip("^")
    if ty.startswith("["):
        return prefix + "[" + apply_enum(ty[1:], values)
    if ty != "s":
        sys.exit("enums.txt names a field of type %s, not a string" % ty)
    return prefix + "=" + values


CRDS_JSON = os.path.join(HERE, "crds.json")
# What validation reads of a schema: k8s.schema's types, and the value constraints that
# xtask/tests/crd_schema.py checks with jsonschema (the keywords that mean the same in OpenAPI v3
# and JSON Schema draft 7). The rest (descriptions, defaults, CEL rules, list types) is dropped.
KEEP = {
    "type", "properties", "required", "items", "additionalProperties", "format", "enum",
    "oneOf", "anyOf", "allOf", "not", "$ref",
    "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields",
    "pattern", "minLength", "maxLength", "minimum", "maximum", "multipleOf",
    "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
}


def trim(schema):
    if isinstance(schema, dict):
        return {k: (trim(v) if k != "properties" else {p: trim(s) for p, s in v.items()})
                for k, v in schema.items() if k in KEEP}
    if isinstance(schema, list):
        return [trim(v) for v in schema]
    return schema


def crds_from(folder, pinned=None):
    """crds.json's content from the CRD files in `folder`, each checked against CRDS (or
    `pinned`)."""
    pinned = CRDS if pinned is None else pinned
    kinds = []
    for file, digest, _ in pinned:
        data = open(os.path.join(folder, file), "rb").read()
        if sha256(data) != digest:
            sys.exit("%s: sha256 %s, expected %s" % (file, sha256(data), digest))
        for doc in yaml.safe_load_all(data):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for v in spec["versions"]:
                if v.get("served", True):
                    kinds.append({
                        "apiVersion": "%s/%s" % (spec["group"], v["name"]),
                        "kind": spec["names"]["kind"],
                        "schema": trim(v["schema"]["openAPIV3Schema"]),
                    })
    sources = [{"file": f, "sha256": d, "source": src} for f, d, src in pinned]
    return json.dumps({"sources": sources, "kinds": kinds}, indent=1, sort_keys=True) + "\n"


def crd_schemas(crds_text):
    """(apiVersion, kind, definition name, schema) for each CRD kind of crds.json."""
    crds = json.loads(crds_text)
    if crds["sources"] != [{"file": f, "sha256": d, "source": src} for f, d, src in CRDS]:
        sys.exit("crds.json was made from other CRDs than gen.py pins: run gen.py --crds DIR")
    for entry in crds["kinds"]:
        schema = dict(entry["schema"])
        props = dict(schema.get("properties", {}))
        # The API server validates metadata as ObjectMeta, not as the CRD's `type: object`.
        props["metadata"] = {"$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
        schema["properties"] = props
        api_version, kind = entry["apiVersion"], entry["kind"]
        group, version = api_version.split("/")
        yield api_version, kind, "%s.%s.%s" % (group, version, kind), schema


def version_tables(source, enums, crds_text):
    """For each minor: {definition name: fields} and {(apiVersion, kind): definition name}."""
    tables = {}
    for minor in MINORS:
        path = "kubernetes-json-schema/v%s.0-local-strict/_definitions.json" % minor
        defs = json.loads(source.read(path))["$defs"]
        conv = Converter(defs, enums)
        kinds = {}
        for name, schema in sorted(defs.items()):
            for gvk in schema.get("x-kubernetes-group-version-kind", []):
                if name.endswith("List") or gvk["kind"] in ("WatchEvent", "DeleteOptions", "Status"):
                    continue
                if "properties" not in schema or "metadata" not in schema["properties"]:
                    continue
                api = gvk["version"] if not gvk["group"] else "%s/%s" % (gvk["group"], gvk["version"])
                conv.convert_def(name, schema)
                kinds[(api, gvk["kind"])] = name
        for api, kind, name, schema in crd_schemas(crds_text):
            conv.defs[name] = schema
            conv.convert_def(name, schema)
            kinds[(api, kind)] = name
        tables[minor] = (conv.out, kinds)
    return tables


def render(tables, header):
    names = sorted({n for defs, _ in tables.values() for n in defs})
    index = {n: i for i, n in enumerate(names)}

    def ty(t):
        return re.sub(r"@([^\s\[{]+)", lambda m: "@%d" % index[m.group(1)], t)

    def def_lines(i, fields):
        body = "".join(" %s%s %s\n" % ("!" if req else "", field, ty(t)) for field, t, req in fields)
        # The byte length of the field lines lets the reader skip them without reading them.
        return ["D %d %d" % (i, len(body)) + "\n" + body.rstrip("\n")] if body else ["D %d 0" % i]

    lines = list(header)
    lines.append("S " + " ".join(MINORS))
    lines += ["N " + n for n in names]
    base_defs, base_kinds = tables[BASE]
    for minor in [BASE] + [m for m in MINORS if m != BASE]:
        defs, kinds = tables[minor]
        section = []
        for (api, kind), name in sorted(kinds.items()):
            if minor == BASE or base_kinds.get((api, kind)) != name:
                section.append("K %s %s %d" % (api, kind, index[name]))
        if minor != BASE:
            for api, kind in sorted(set(base_kinds) - set(kinds)):
                section.append("-K %s %s" % (api, kind))
        for name in names:
            if name in defs:
                if minor == BASE or base_defs.get(name) != defs[name]:
                    section.extend(def_lines(index[name], defs[name]))
            elif name in base_defs:
                section.append("X %d" % index[name])
        body = "\n".join(section) + "\n"
        # Likewise the section's byte length, so that a reader skips the versions it does not need.
        lines.append("V %s %d" % (minor, len(body)))
        lines.append(body.rstrip("\n"))
    return "\n".join(lines) + "\n"


def main():
    args = sys.argv[1:]
    check = "--check" in args
    wheel = args[args.index("--wheel") + 1] if "--wheel" in args else None
    crds_dir = args[args.index("--crds") + 1] if "--crds" in args else None
    if "--homelab-crds" in args:
        text = crds_from(args[args.index("--homelab-crds") + 1], HOMELAB_CRDS)
        if check:
            if open(HOMELAB_JSON).read() != text:
                sys.exit("xtask/schemas/homelab-crds.json is out of date: run gen.py --homelab-crds DIR")
            print("homelab-crds.json is up to date")
            return
        with open(HOMELAB_JSON + ".tmp", "w") as f:
            f.write(text)
        os.replace(HOMELAB_JSON + ".tmp", HOMELAB_JSON)
        print("wrote %s (%d bytes)" % (HOMELAB_JSON, len(text)))
        return
    crds_text = crds_from(crds_dir) if crds_dir else open(CRDS_JSON).read()
    source = Source(wheel)
    header = [
        "# Generated by xtask/schemas/gen.py; do not edit. Regenerate: python3 xtask/schemas/gen.py",
        "# kubernetes-validate %s (PyPI wheel sha256 %s), strict schemas of Kubernetes %s to %s"
        % (KV_VERSION, KV_WHEEL_SHA256, MINORS[0], MINORS[-1]),
    ]
    for file, digest, src in CRDS:
        header.append("# crds.json from %s (sha256 %s): %s" % (file, digest, src))
    header.append("# enums.txt: enum values from the API server's validation")
    text = render(version_tables(source, load_enums(), crds_text), header)
    source.verify()
    if check:
        current = open(OUT).read() if os.path.exists(OUT) else ""
        if current != text:
            sys.exit("xtask/schemas/k8s.schema is out of date: run python3 xtask/schemas/gen.py")
        if crds_dir and open(CRDS_JSON).read() != crds_text:
            sys.exit("xtask/schemas/crds.json is out of date: run python3 xtask/schemas/gen.py --crds DIR")
        print("k8s.schema is up to date")
        return
    for path, content in [(OUT, text), (CRDS_JSON, crds_text)]:
        with open(path + ".tmp", "w") as f:
            f.write(content)
        os.replace(path + ".tmp", path)
    print("wrote %s (%d bytes)" % (OUT, len(text)))


if __name__ == "__main__":
    main()
