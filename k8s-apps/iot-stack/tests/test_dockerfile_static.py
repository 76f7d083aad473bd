"""Static checks of k8s-apps/base-images (no engine needed): Dockerfile rules, hashes."""

import fnmatch
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO

BASE = REPO / "k8s-apps" / "base-images"


def instructions(text):
    """[(line number, INSTRUCTION, arguments)] with continuation lines joined."""
    result, pending, start = [], "", 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if not pending:
            start = number
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, args = full.partition(" ")
        result.append((start, keyword.upper(), args.strip()))
    return result


@pytest.fixture(scope="module")
def dockerfile():
    return instructions((BASE / "Dockerfile").read_text())


def test_instruction_parser_joins_continuations():
    parsed = instructions("FROM a AS b\n# c\nRUN x \\\n    # note\n    && y\nUSER 1\n")
    assert parsed == [(1, "FROM", "a AS b"), (3, "RUN", "x && y"), (6, "USER", "1")]


def test_every_from_pins_a_python_311_slim_tag(dockerfile):
    froms = [args.split()[0] for _, kw, args in dockerfile if kw == "FROM"]
    assert len(froms) >= 2, "expected a multi-stage build (builder + runtime)"
    for image in froms:
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-bookworm|-trixie)?", image), image


def test_multi_stage_runtime_takes_only_wheels_from_the_builder(dockerfile):
    stages = [args.split()[-1] for _, kw, args in dockerfile if kw == "FROM"]
    assert stages[0] == "builder" and stages[-1] != "builder"
    last_from = max(i for i, (_, kw, _) in enumerate(dockerfile) if kw == "FROM")
    runtime = dockerfile[last_from:]
    runtime_text = " ".join(args for _, _, args in runtime)
    assert "from=builder,source=/wheels" in runtime_text
    assert not re.search(r"apt-get|apk |gcc|build-essential", runtime_text)
    assert ("WORKDIR", "/app") in [(kw, args) for _, kw, args in runtime]


def test_last_user_is_10001(dockerfile):
    users = [args for _, kw, args in dockerfile if kw == "USER"]
    assert users and users[-1].split(":")[0] == "10001"


def test_runtime_environment(dockerfile):
    env = " ".join(args for _, kw, args in dockerfile if kw == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env and "PYTHONUNBUFFERED=1" in env


def test_every_pip_install_uses_no_cache_dir_and_require_hashes(dockerfile):
    runs = [(n, args) for n, kw, args in dockerfile if kw == "RUN"]
    installs = [(n, cmd) for n, args in runs for cmd in re.split(r"&&|;", args)
                if re.search(r"\bpip (install|wheel)\b", cmd)]
    assert len(installs) >= 2
    for line, cmd in installs:
        assert "--no-cache-dir" in cmd, f"Dockerfile:{line}: {cmd.strip()}"
        assert "--require-hashes" in cmd, f"Dockerfile:{line}: {cmd.strip()}"


def ignored(path, patterns):
    """Docker's rule: the last matching .dockerignore pattern decides."""
    verdict = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        if fnmatch.fnmatch(path, pattern.lstrip("!")):
            verdict = not negate
    return verdict


def test_every_copy_source_exists_in_the_context(dockerfile):
    patterns = [line.strip() for line in (BASE / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    copies = [(n, args.split()) for n, kw, args in dockerfile if kw in ("COPY", "ADD")]
    assert copies
    for line, parts in copies:
        if any(p.startswith("--from=") for p in parts):
            continue
        for source in [p for p in parts if not p.startswith("--")][:-1]:
            assert (BASE / source).exists(), f"Dockerfile:{line}: {source} is not in the context"
            assert not ignored(source, patterns), f"Dockerfile:{line}: .dockerignore drops {source}"


def test_every_requirement_is_pinned_with_sha256_hashes():
    text = (BASE / "requirements.txt").read_text()
    requirements = re.sub(r"\\\n", " ", text)
    entries = [line.strip() for line in requirements.splitlines()
               if line.strip() and not line.strip().startswith("#")]
    assert entries, "requirements.txt has no requirement"
    for entry in entries:
        assert re.match(r"^[A-Za-z0-9_.-]+==[0-9][^ ]* ", entry), f"not pinned: {entry}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]+)", entry)
        assert hashes and all(len(h) == 64 for h in hashes), f"no sha256 hash: {entry}"


def test_time_zones_resolve_from_the_pinned_tzdata_alone(dockerfile):
    # The image sets PYTHONTZPATH to empty, so zoneinfo may only use the tzdata package
    # from requirements.txt; run the sunrise zone lookup under the same setting.
    env = " ".join(args for _, kw, args in dockerfile if kw == "ENV")
    assert re.search(r"(^| )PYTHONTZPATH=( |$)", env)
    code = ("import zoneinfo, tzdata; assert zoneinfo.TZPATH == (); "
            "print(tzdata.IANA_VERSION, zoneinfo.ZoneInfo('America/Toronto').key)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONTZPATH": ""}, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[1] == "America/Toronto"
