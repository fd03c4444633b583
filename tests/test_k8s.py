"""The Kubernetes manifests (deploy/k8s/): parsed, and checked against each other, the Dockerfile,
the app's settings and the memory measured in benchmarks/LOAD.md, so that they cannot rot while
no cluster runs them here. Where kubectl is installed it also builds every kustomization and
decodes the workloads into Kubernetes' own types, both offline (no cluster is asked).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.conftest import ROOT
from tests.test_container import DOCKERFILE, command, health_command, instructions

K8S = ROOT / "deploy" / "k8s"
TRYOUT = K8S / "postgres-tryout"
LOAD = ROOT / "benchmarks" / "LOAD.md"
HEALTH = "/_stcore/health"
APP_KINDS = {
    "Namespace",
    "Deployment",
    "Service",
    "Ingress",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
}
NGINX = "nginx.ingress.kubernetes.io/"
KUBECTL = shutil.which("kubectl")


def documents(path: Path) -> list[dict]:
    """The YAML documents of one file (empty ones left out)."""
    with path.open(encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def kustomizations() -> list[Path]:
    return sorted(K8S.rglob("kustomization.yaml"))


def resources(folder: Path) -> list[dict]:
    """Every object a kustomization folder applies, in the order of its ``resources``."""
    listed = documents(folder / "kustomization.yaml")[0]["resources"]
    return [doc for name in listed for doc in documents(folder / name)]


def one(objects: list[dict], kind: str, name: str | None = None) -> dict:
    found = [o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module")
def app() -> list[dict]:
    return resources(K8S)


@pytest.fixture(scope="module")
def steps() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text(encoding="utf-8"))


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def container(workload: dict) -> dict:
    [c] = pod_spec(workload)["containers"]
    return c


def container_port(c: dict, port: int | str) -> int:
    """A port given by number or by the container port's name, as a number."""
    if isinstance(port, int):
        return port
    [number] = [p["containerPort"] for p in c["ports"] if p.get("name") == port]
    return number


def image_port(steps) -> int:
    """The port the image's CMD serves on (``--server.port=N``)."""
    [cmd] = [command(args) for keyword, args in steps if keyword == "CMD"]
    [port] = [int(a.split("=", 1)[1]) for a in cmd if a.startswith("--server.port=")]
    return port


MEMORY_UNITS = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def memory_bytes(quantity: str | int) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(quantity)).groups()
    return float(number) * MEMORY_UNITS[unit]


def cpu_cores(quantity: str | int | float) -> float:
    text = str(quantity)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def measured_rss_mb() -> list[float]:
    """Every resident size of one server process in benchmarks/LOAD.md's tables: the columns
    whose title has "RSS" and "(MB)", cells of numbers only ("270", or one per replica as in
    "251, 260" or "248 -> 270, 250 -> 266")."""
    values, header = [], None
    for line in LOAD.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not set("".join(cells)) <= set("-: "):
            for title, cell in zip(header, cells, strict=False):
                if "RSS" in title and "(MB)" in title and re.fullmatch(r"[0-9., >-]+", cell):
                    values += [float(x) for x in re.findall(r"\d+(?:\.\d+)?", cell)]
    return values


# -- every file, every kustomization --


def test_every_manifest_parses_and_says_what_it_is():
    files = sorted(K8S.rglob("*.yaml"))
    assert len(files) >= 8
    for path in files:
        docs = documents(path)
        assert docs, f"{path.name} is empty"
        for doc in docs:
            assert {"apiVersion", "kind"} <= doc.keys(), path
            if doc["kind"] != "Kustomization":
                assert doc["metadata"]["name"], path
    assert not list(K8S.rglob("*.yml")), "use .yaml, as the kustomizations list them"


@pytest.mark.parametrize("kustomization", kustomizations(), ids=lambda p: p.parent.name)
def test_each_kustomization_lists_exactly_the_manifests_beside_it(kustomization):
    """Every manifest of a folder is applied, except the examples (``*.example.yaml``):
    applying an example Secret would replace the real credentials with its placeholders."""
    folder = kustomization.parent
    listed = documents(kustomization)[0]["resources"]
    assert len(listed) == len(set(listed)), listed
    present = {
        p.name
        for p in folder.glob("*.yaml")
        if p.name != "kustomization.yaml" and not p.name.endswith(".example.yaml")
    }
    assert set(listed) == present
    keys = [(o["kind"], o["metadata"]["name"]) for o in resources(folder)]
    assert len(keys) == len(set(keys)), f"an object is defined twice: {keys}"


def test_the_app_has_what_a_cluster_needs_and_no_credentials(app):
    kinds = {o["kind"] for o in app}
    assert kinds >= APP_KINDS
    assert "Secret" not in kinds  # made by hand: secret.example.yaml
    [example] = documents(K8S / "secret.example.yaml")
    assert example["kind"] == "Secret"
    tryout = {o["kind"] for o in resources(TRYOUT)}
    assert tryout == {"Secret", "Service", "StatefulSet"}
    namespace = one(app, "Namespace")["metadata"]["name"]
    for folder in (K8S, TRYOUT):
        assert documents(folder / "kustomization.yaml")[0]["namespace"] == namespace


# -- the Deployment, its Service and the image --


def test_the_deployment_service_and_budget_select_the_same_pods(app):
    deployment = one(app, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector and selector.items() <= labels.items()
    service = one(app, "Service")
    assert service["spec"]["selector"] == selector
    assert one(app, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == selector
    for spread in pod_spec(deployment).get("topologySpreadConstraints", []):
        assert spread["labelSelector"]["matchLabels"] == selector
    # the try-out database's pods are not among them
    for obj in resources(TRYOUT):
        if obj["kind"] == "StatefulSet":
            assert not selector.items() <= obj["spec"]["template"]["metadata"]["labels"].items()


def test_one_port_from_the_image_to_the_service(app, steps):
    port = image_port(steps)
    assert ("EXPOSE", str(port)) in steps
    deployment = one(app, "Deployment")
    c = container(deployment)
    assert [p["containerPort"] for p in c["ports"]] == [port]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container_port(c, c[probe]["httpGet"]["port"]) == port, probe
    service = one(app, "Service")
    [service_port] = service["spec"]["ports"]
    assert container_port(c, service_port["targetPort"]) == port


def test_the_probes_ask_streamlits_health_endpoint(app, steps):
    c = container(one(app, "Deployment"))
    health_url = re.search(r"http://[^'\"]+", health_command(steps)[2])[0]
    assert urlsplit(health_url).path == HEALTH  # the same endpoint as the image's HEALTHCHECK
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["path"] == HEALTH, probe
    # no restart before the image's own start period is over
    [options] = [a.partition("CMD ")[0] for k, a in steps if k == "HEALTHCHECK"]
    start_period = int(re.search(r"--start-period=(\d+)s", options)[1])
    assert c["livenessProbe"]["initialDelaySeconds"] >= start_period
    assert c["readinessProbe"]["initialDelaySeconds"] < c["livenessProbe"]["initialDelaySeconds"]
    # a busy pod (the slowest page measured took seconds) is not taken out at the first miss
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["timeoutSeconds"] >= 3 and c[probe]["failureThreshold"] >= 3, probe


def test_the_image_is_the_one_the_kustomization_names(app):
    image = container(one(app, "Deployment"))["image"]
    names = [i["name"] for i in documents(K8S / "kustomization.yaml")[0].get("images", [])]
    assert image.rsplit(":", 1)[0] in names


def test_resources_have_requests_and_limits_that_hold_the_measured_memory(app):
    res = container(one(app, "Deployment"))["resources"]
    for what in ("cpu", "memory"):
        assert what in res["requests"] and what in res["limits"], what
    assert cpu_cores(res["limits"]["cpu"]) >= cpu_cores(res["requests"]["cpu"]) > 0
    request = memory_bytes(res["requests"]["memory"])
    limit = memory_bytes(res["limits"]["memory"])
    assert limit >= request > 0
    rss = measured_rss_mb()
    assert len(rss) >= 20, "benchmarks/LOAD.md's tables changed: read the RSS columns again"
    assert limit >= max(rss) * 1e6, f"a server was measured at {max(rss)} MB"
    assert request >= statistics.median(rss) * 1e6


def test_the_pods_run_as_the_images_user_and_cannot_gain_privileges(app, steps):
    useradd = next(a for k, a in steps if k == "RUN" and "useradd" in a)
    uid = int(re.search(r"useradd\b.*--uid (\d+)", useradd)[1])
    gid = int(re.search(r"groupadd\b.*--gid (\d+)", useradd)[1])
    pod = pod_spec(one(app, "Deployment"))
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == uid != 0
    assert security["runAsGroup"] == gid and security["fsGroup"] == gid
    c_security = container(one(app, "Deployment"))["securityContext"]
    assert c_security["allowPrivilegeEscalation"] is False
    assert c_security["capabilities"]["drop"] == ["ALL"]


def test_every_folder_the_app_writes_is_a_volume_when_the_root_is_read_only(app, steps):
    from dashboard.store import backend

    [workdir] = [a for k, a in steps if k == "WORKDIR"]
    store = f"{workdir}/{backend.DEFAULT_PATH.parent.relative_to(ROOT).as_posix()}"
    c = container(one(app, "Deployment"))
    if not c["securityContext"].get("readOnlyRootFilesystem"):
        pytest.skip("the root file system is writable")
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert {"/tmp", store} <= mounts
    volumes = {v["name"] for v in pod_spec(one(app, "Deployment"))["volumes"]}
    assert {m["name"] for m in c["volumeMounts"]} <= volumes


# -- the environment and the Secret --


def env(c: dict) -> dict[str, dict]:
    return {e["name"]: e for e in c["env"]}


def test_the_store_url_comes_from_the_secret_and_the_example_shows_every_key(app):
    variables = env(container(one(app, "Deployment")))
    ref = variables["NN_LAB_STORE"]["valueFrom"]["secretKeyRef"]
    assert "value" not in variables["NN_LAB_STORE"]
    refs = {
        (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for e in variables.values()
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert (ref["name"], ref["key"]) in refs
    assert ("nn-lab", "cookie-secret") in refs  # Streamlit's cookie key, the same on every pod
    [example] = documents(K8S / "secret.example.yaml")
    tryout = one(resources(TRYOUT), "Secret", ref["name"])
    for secret in (example, tryout):
        assert secret["metadata"]["name"] == ref["name"]
        assert {key for name, key in refs if name == ref["name"]} <= secret["stringData"].keys()
        url = urlsplit(secret["stringData"][ref["key"]])
        assert url.scheme == "postgresql" and url.port == 5432 and url.path.strip("/")
        assert re.search(r"not-a-real-password", url.password or ""), "a placeholder, said so"


def test_every_nn_lab_setting_is_one_the_app_reads(app):
    variables = env(container(one(app, "Deployment")))
    assert variables["NN_LAB_BLAS_THREADS"]["value"] == "1"  # one thread: the pod's one core
    code = "\n".join(
        p.read_text(encoding="utf-8") for d in ("dashboard", "nn") for p in (ROOT / d).rglob("*.py")
    )
    for name, variable in variables.items():
        if name.startswith("NN_LAB_"):
            assert f'"{name}"' in code, f"{name}: no module reads it (a typo?)"
        if "value" in variable:
            assert isinstance(variable["value"], str), f"{name}: quote the value"
    for name in ("NN_LAB_MAX_TRAINING", "NN_LAB_STORE_DAYS", "NN_LAB_WORKSPACE_MB"):
        assert float(variables[name]["value"]) > 0, name


# -- the Ingress and the autoscaler --


def test_the_ingress_reaches_the_service_with_cookie_affinity_and_long_websockets(app):
    from dashboard.common import limits

    ingress = one(app, "Ingress")
    service = one(app, "Service")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    backends = [
        path["backend"]["service"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert backends
    for backend in backends:
        assert backend["name"] == service["metadata"]["name"]
        by = "name" if "name" in backend["port"] else "port"
        assert backend["port"].get("name", backend["port"].get("number")) in [
            p[by] for p in service["spec"]["ports"]
        ]
    notes = {k.removeprefix(NGINX): v for k, v in ingress["metadata"]["annotations"].items()}
    assert all(isinstance(v, str) for v in notes.values()), "annotation values are strings"
    assert notes["affinity"] == "cookie"
    assert notes["affinity-mode"] == "persistent"
    assert re.fullmatch(r"[A-Za-z0-9_]+", notes["session-cookie-name"])
    assert int(notes["session-cookie-max-age"]) >= 4 * 3600  # longer than a lesson
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(notes[timeout]) >= 3600, timeout
    # through the Service's own address, or hashed on something else, there is no affinity
    assert notes.get("service-upstream", "false") == "false"
    assert "upstream-hash-by" not in notes
    body = re.fullmatch(r"(\d+)([km]?)", notes["proxy-body-size"].lower())
    assert body, notes["proxy-body-size"]
    body_bytes = int(body[1]) * {"": 1, "k": 2**10, "m": 2**20}[body[2]]
    assert body_bytes > limits.MAX_UPLOAD_MB * 1e6  # an upload and its multipart envelope


def test_the_autoscaler_starts_where_the_deployment_does_and_never_drops_sessions(app):
    hpa = one(app, "HorizontalPodAutoscaler")["spec"]
    deployment = one(app, "Deployment")
    target = hpa["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        "apps/v1",
        "Deployment",
        deployment["metadata"]["name"],
    )
    assert hpa["minReplicas"] == deployment["spec"]["replicas"] <= hpa["maxReplicas"]
    [metric] = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"  # a share of the CPU request, which exists
    assert hpa["behavior"]["scaleDown"]["selectPolicy"] == "Disabled"


def test_a_rollout_never_removes_a_pod_before_its_replacement_is_ready(app):
    deployment = one(app, "Deployment")
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert pod_spec(deployment)["terminationGracePeriodSeconds"] >= 10


# -- the try-out database --


def test_the_tryout_secret_points_at_the_tryout_database():
    objects = resources(TRYOUT)
    database = one(objects, "StatefulSet")
    service = one(objects, "Service")
    assert database["spec"]["serviceName"] == service["metadata"]["name"]
    labels = database["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    c = container(database)
    credentials = one(objects, "Secret", c["envFrom"][0]["secretRef"]["name"])["stringData"]
    app_secret = one(objects, "Secret", "nn-lab")
    url = urlsplit(app_secret["stringData"]["store-url"])
    assert url.hostname == service["metadata"]["name"]
    assert url.port == container_port(c, service["spec"]["ports"][0]["targetPort"])
    assert url.username == credentials["POSTGRES_USER"]
    assert url.password == credentials["POSTGRES_PASSWORD"]
    assert url.path.strip("/") == credentials["POSTGRES_DB"]
    assert "not-a-real-password" in credentials["POSTGRES_PASSWORD"]
    for path in TRYOUT.glob("*.yaml"):  # each file says what it is for, on its first line
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# FOR TRYING THE LAB OUT ONLY"), path.name


def test_the_readme_names_every_manifest_and_the_sizing_in_force(app):
    text = (K8S / "README.md").read_text(encoding="utf-8")
    for path in K8S.rglob("*.yaml"):
        assert path.name in text, f"deploy/k8s/README.md does not mention {path.name}"
    deployment = one(app, "Deployment")
    res = container(deployment)["resources"]
    training = env(container(deployment))["NN_LAB_MAX_TRAINING"]["value"]
    for said in [
        f"`replicas: {deployment['spec']['replicas']}`",
        f"**{res['requests']['memory']}**",
        f"**{res['limits']['memory']}**",
        f'`NN_LAB_MAX_TRAINING: "{training}"`',
    ]:
        assert said in text, f"the README's sizing does not say {said}"


# -- with kubectl, offline --


def kubectl(*args: str, home: Path) -> str:
    """Run kubectl with an empty configuration and a home of its own: it never reaches a
    cluster or anybody's credentials."""
    done = subprocess.run(
        [KUBECTL, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"KUBECONFIG": "/dev/null", "PATH": os.environ.get("PATH", ""), "HOME": str(home)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed here")
@pytest.mark.parametrize("kustomization", kustomizations(), ids=lambda p: p.parent.name)
def test_kubectl_builds_each_kustomization_into_the_objects_parsed_here(kustomization, tmp_path):
    out = kubectl("kustomize", str(kustomization.parent), home=tmp_path)
    built = [d for d in yaml.safe_load_all(out) if d]
    namespace = documents(kustomization)[0]["namespace"]
    expected = {(o["kind"], o["metadata"]["name"]) for o in resources(kustomization.parent)}
    assert {(o["kind"], o["metadata"]["name"]) for o in built} == expected
    for obj in built:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == namespace


def key_paths(value, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in key_paths(v, f"{prefix}.{k}")} | {prefix}
    if isinstance(value, list):
        return {p for i, v in enumerate(value) for p in key_paths(v, f"{prefix}[{i}]")}
    return {prefix}


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed here")
def test_kubectl_decodes_the_workloads_without_dropping_a_field(app, tmp_path):
    """kubectl's typed decoding refuses a wrong type and silently drops an unknown (misspelt)
    field: every field of the file must come back."""
    for workload in [one(app, "Deployment"), one(resources(TRYOUT), "StatefulSet")]:
        path = tmp_path / f"{workload['kind']}.yaml"
        path.write_text(yaml.safe_dump(workload), encoding="utf-8")
        change = ["K8S_TEST_ROUND_TRIP=1", "-o", "json"]
        out = kubectl("set", "env", "--local", "-f", str(path), *change, home=tmp_path)
        decoded = json.loads(out)
        missing = sorted(key_paths(workload) - key_paths(decoded))
        assert not missing, f"{workload['kind']}: kubectl does not know {missing}"
