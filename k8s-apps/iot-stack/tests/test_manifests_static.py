"""Static checks of the iot-stack manifests that trivy does not make (no tools needed)."""

import re
from zoneinfo import ZoneInfo

import pytest

from conftest import REPO, STACK, configmap_files

CRONJOBS = {  # file -> (script file, ConfigMap name)
    "forecasting/cronjob.yaml": ("forecasting/forecast.py", "forecast-script"),
    "sunrise/sunrise-cronjob.yaml": ("sunrise/sunrise_to_influx.py", "sunrise-script"),
}


def value(text, key):
    found = re.findall(rf"^\s*{key}: (.+)$", text, re.M)
    assert len(found) == 1, f"{key}: expected once, found {found}"
    return found[0].strip().strip('"')


@pytest.mark.parametrize("path", sorted(CRONJOBS))
def test_cronjob_contract(path):
    text = (STACK / path).read_text()
    script, configmap = CRONJOBS[path]
    assert value(text, "kind") == "CronJob"
    assert value(text, "concurrencyPolicy") == "Forbid"
    assert int(value(text, "startingDeadlineSeconds")) > 0
    assert int(value(text, "successfulJobsHistoryLimit")) >= 1
    assert int(value(text, "failedJobsHistoryLimit")) >= 1
    ZoneInfo(value(text, "timeZone"))  # a valid IANA zone
    assert value(text, "restartPolicy") in ("Never", "OnFailure")
    assert value(text, "automountServiceAccountToken") == "false"
    assert value(text, "image") == "ghcr.io/dcasati/python-base"  # no tag: see images:
    name = script.rsplit("/", 1)[1]
    assert value(text, "command") == f'["python", "/app/{name}"]'
    assert re.search(rf"configMap:\n\s+name: {configmap}\n", text)
    assert re.search(r"- name: script\n\s+mountPath: /app\n\s+readOnly: true", text)
    assert re.search(r"- name: tmp\n\s+mountPath: /tmp", text)
    assert re.search(r"- name: tmp\n\s+emptyDir:", text)
    assert len(re.findall(r"runAsUser: 10001", text)) == 2
    assert len(re.findall(r"runAsGroup: 10001", text)) == 2
    assert len(re.findall(r"type: RuntimeDefault", text)) == 2
    assert re.findall(r"runAsNonRoot: (\S+)", text) == ["true", "true"]  # pod, container
    assert value(text, "readOnlyRootFilesystem") == "true"
    assert value(text, "allowPrivilegeEscalation") == "false"
    assert value(text, "privileged") == "false"
    assert re.search(r"capabilities:\n\s+drop: \[\"ALL\"\]", text)
    for section in ("requests", "limits"):
        block = re.search(rf"{section}:\n\s+cpu: \S+\n\s+memory: \S+", text)
        assert block, f"{section} must set cpu and memory"
    assert text.count("name: influxdb-credentials") == 5


def test_kustomization_wires_every_service():
    text = (STACK / "kustomization.yaml").read_text()
    assert value(text, "namespace") == "iot-stack"
    for path, (script, configmap) in CRONJOBS.items():
        assert f"  - {path}\n" in text
        # The ConfigMap holds the script and the shared module, nothing else (conftest's
        # run_script lays out /app from the same list).
        files = [p.relative_to(STACK).as_posix() for p in configmap_files(STACK / script)]
        block = re.search(rf"- name: {configmap}\n    files:\n((?:      - \S+\n)+)", text)
        assert block and re.findall(r"- (\S+)", block.group(1)) == files, files
    assert "  - namespace.yaml\n" in text
    assert re.search(r"- name: ghcr.io/dcasati/python-base\n\s+newTag: sha-[0-9a-f]{7}\n", text)


def test_argocd_application_and_image_updater():
    text = (REPO / "k8s-apps" / "argocd" / "iot-stack-application.yaml").read_text()
    assert value(text, "repoURL") == "https://github.com/dcasati/homelab"
    assert value(text, "path") == "k8s-apps/iot-stack"
    assert re.search(r"automated:\n\s+prune: true", text)
    # Image Updater v1 ignores the v0 annotations: the ImageUpdater resource replaces them.
    assert "argocd-image-updater.argoproj.io/" not in text
    updater = (REPO / "k8s-apps" / "argocd" / "image-updater.yaml").read_text()
    assert value(updater, "kind") == "ImageUpdater"
    assert re.search(r"^    - namePattern: iot-stack$", updater, re.M)
    assert value(updater, "imageName") == "ghcr.io/dcasati/python-base"
    assert value(updater, "updateStrategy") == "newest-build"
    assert value(updater, "allowTags") == "regexp:^sha-[0-9a-f]{7}$"
    assert value(updater, "method") == "git"
    assert value(updater, "writeBackTarget") == "kustomization:/k8s-apps/iot-stack"
    assert value(updater, "key") == "cosign.pub"
    kustomization = (REPO / "k8s-apps" / "argocd" / "kustomization.yaml").read_text()
    assert value(kustomization, "namespace") == "argocd"
