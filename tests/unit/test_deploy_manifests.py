"""The deployment descriptions (deploy/): the image, compose and Kubernetes, checked offline.

Kubernetes manifests validate strictly with kubernetes-validate (the API's own OpenAPI schemas, Kubernetes
``K8S_VERSION``); KEDA's ScaledObjects against KEDA's CRD schema (vendored in tests/unit/fixtures/keda). There is no
kustomize binary here: ``render`` below is a small implementation of exactly the kustomization features
deploy/k8s uses (resources, namespace, images, replicas, strategic-merge patches by kind+name,
secretGenerator/configMapGenerator without name hashes) and refuses any other feature, so it cannot quietly
render something kustomize would render differently.
"""

from __future__ import annotations

import base64
import copy
import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from shared import architecture
from shared.settings import DEFAULT_PORTS, Settings
from shared.topics import all_topic_specs

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
BASE = DEPLOY / "k8s" / "base"
OVERLAYS = sorted(p.parent for p in (DEPLOY / "k8s" / "overlays").glob("*/kustomization.yaml"))
KEDA_CRD = Path(__file__).parent / "fixtures" / "keda" / "keda.sh_scaledobjects.yaml"
K8S_VERSION = "1.33.0"  # the oldest Kubernetes the manifests are meant for (lifecycle.preStop.sleep: 1.30+)
SERVICES = sorted(DEFAULT_PORTS)
SUBSCRIPTIONS = architecture.subscriptions()
CONSUMING = sorted({s.service for s in SUBSCRIPTIONS})
PARTITIONS = all_topic_specs()
GROUP_PREFIX = Settings().consumer_group_prefix


# --- a minimal, honest kustomize ------------------------------------------------------------------------------

SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches", "secretGenerator",
                  "configMapGenerator", "generatorOptions"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume", "StorageClass"}
# built-in API groups, patched with strategic-merge list semantics; others (CRDs such as KEDA's) get JSON merge-patch
# semantics (lists replaced), as kustomize does without an OpenAPI schema for them
STRATEGIC_API_VERSIONS = {"v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1", "autoscaling/v2"}
MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name", "volumeMounts": "mountPath",
              "ports": "containerPort", "imagePullSecrets": "name"}


def load_docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def key(doc: dict[str, Any]) -> tuple[str, str]:
    return doc["kind"], doc["metadata"]["name"]


def merge(base: Any, patch: Any, strategic: bool, field: str = "") -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        if any(k.startswith("$") for k in patch):
            raise NotImplementedError(f"patch directive in {sorted(patch)}")
        out = dict(base)
        for k, v in patch.items():
            if v is None:
                out.pop(k, None)
            elif k in out:
                out[k] = merge(out[k], v, strategic, k)
            else:
                out[k] = copy.deepcopy(v)
        return out
    if strategic and isinstance(base, list) and isinstance(patch, list) and field in MERGE_KEYS:
        by = MERGE_KEYS[field]
        out = [copy.deepcopy(item) for item in base]
        for item in patch:
            at = next((i for i, existing in enumerate(out) if existing.get(by) == item.get(by)), None)
            if at is None:
                out.append(copy.deepcopy(item))
            else:
                out[at] = merge(out[at], item, strategic)
        return out
    return copy.deepcopy(patch)


def read_env_file(path: Path) -> dict[str, str]:
    if not path.exists() and path.with_name(path.name + ".example").exists():
        path = path.with_name(path.name + ".example")  # the test renders with the example (secrets.env is not committed)
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value
    return pairs


def generated(spec: dict[str, Any], kind: str, folder: Path) -> dict[str, Any]:
    pairs: dict[str, str] = {}
    for env in spec.get("envs", []):
        pairs.update(read_env_file(folder / env))
    for literal in spec.get("literals", []):
        name, _, value = literal.partition("=")
        pairs[name] = value
    if set(spec) - {"name", "behavior", "envs", "literals", "type"}:
        raise NotImplementedError(f"generator fields {sorted(set(spec) - {'name', 'behavior', 'envs', 'literals', 'type'})}")
    doc: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": {"name": spec["name"]}}
    if kind == "Secret":
        doc["type"] = spec.get("type", "Opaque")
        doc["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in pairs.items()}
    else:
        doc["data"] = pairs
    return doc


def render(folder: Path) -> list[dict[str, Any]]:
    """``kustomize build folder`` for the features deploy/k8s uses."""
    k = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = set(k) - SUPPORTED_KEYS
    if unknown:
        raise NotImplementedError(f"{folder}: kustomization fields this renderer does not implement: {sorted(unknown)}")
    docs: list[dict[str, Any]] = []
    for resource in k.get("resources", []):
        path = (folder / resource).resolve()
        docs.extend(render(path) if path.is_dir() else load_docs(path))
    options = k.get("generatorOptions", {})
    for field, kind in (("secretGenerator", "Secret"), ("configMapGenerator", "ConfigMap")):
        for spec in k.get(field, []):
            if options != {"disableNameSuffixHash": True}:
                raise NotImplementedError("name-suffix hashes (and the reference rewriting they need) are not implemented")
            doc = generated(spec, kind, folder)
            existing = [i for i, d in enumerate(docs) if key(d) == key(doc)]
            behavior = spec.get("behavior", "create")
            if behavior == "create":
                assert not existing, f"{kind} {spec['name']} exists already: use behavior replace or merge"
                docs.append(doc)
            elif behavior == "replace":
                assert len(existing) == 1, f"{kind} {spec['name']}: nothing to replace"
                docs[existing[0]] = doc
            else:
                raise NotImplementedError(f"generator behavior {behavior}")
    for patch in k.get("patches", []):
        if set(patch) != {"path"}:
            raise NotImplementedError(f"patch fields {sorted(patch)} (only path: a strategic-merge patch file)")
        for p in load_docs(folder / patch["path"]):
            matches = [i for i, d in enumerate(docs) if key(d) == key(p) and d["apiVersion"] == p["apiVersion"]]
            assert len(matches) == 1, f"{patch['path']}: {key(p)} matches {len(matches)} resources"
            docs[matches[0]] = merge(docs[matches[0]], p, p["apiVersion"] in STRATEGIC_API_VERSIONS)
    for replicas in k.get("replicas", []):
        matches = [d for d in docs if d["metadata"]["name"] == replicas["name"] and "replicas" in d.get("spec", {}) | {"replicas": 0}
                   and d["kind"] in {"Deployment", "StatefulSet", "ReplicaSet"}]
        assert len(matches) == 1, f"replicas: {replicas['name']} matches {len(matches)} workloads"
        matches[0]["spec"]["replicas"] = replicas["count"]
    for image in k.get("images", []):
        if set(image) - {"name", "newName", "newTag"}:
            raise NotImplementedError(f"images fields {sorted(image)}")
        for container in containers(docs):
            name, tag = split_image(container["image"])
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag or 'latest')}"
    if "namespace" in k:
        for d in docs:
            if d["kind"] not in CLUSTER_SCOPED:
                d["metadata"]["namespace"] = k["namespace"]
    keys = [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in docs]
    assert len(keys) == len(set(keys)), f"{folder}: duplicate resources"
    return docs


def split_image(image: str) -> tuple[str, str | None]:
    name, sep, tag = image.rpartition(":")
    return (name, tag) if sep and "/" not in tag else (image, None)


def containers(docs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for d in docs:
        spec = pod_spec(d)
        if spec:
            yield from spec.get("initContainers", [])
            yield from spec.get("containers", [])


def pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
        return doc["spec"]["template"]["spec"]
    return None


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


RENDERINGS = {"base": lambda: render(BASE), **{f"overlay-{o.name}": (lambda o=o: render(o)) for o in OVERLAYS}}


@pytest.fixture(scope="module", params=sorted(RENDERINGS))
def rendering(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return RENDERINGS[request.param]()


# --- schemas --------------------------------------------------------------------------------------------------

@functools.cache
def keda_schema() -> dict[str, Any]:
    crd = next(d for d in load_docs(KEDA_CRD) if d["kind"] == "CustomResourceDefinition")
    [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    return strict(version["schema"]["openAPIV3Schema"])


def strict(schema: Any) -> Any:
    """The CRD's structural schema with unknown fields refused (the API server would prune them silently)."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes-")}
        if "properties" in schema and "additionalProperties" not in schema:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def validate(doc: dict[str, Any]) -> None:
    if doc["apiVersion"].startswith("keda.sh/"):
        assert doc["kind"] == "ScaledObject", f"no vendored schema for {doc['kind']}"
        jsonschema.validate(doc, keda_schema())
    else:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_renderer_implements_what_it_claims(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {
        "template": {"spec": {"containers": [{"name": "x", "image": "ohs", "env": [{"name": "A", "value": "1"}]}]}}}}))
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {
        "template": {"spec": {"containers": [{"name": "x", "env": [{"name": "B", "value": "2"}]}]}}}}))
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": ["a.yaml"], "namespace": "n", "patches": [{"path": "p.yaml"}], "replicas": [{"name": "x", "count": 3}],
        "images": [{"name": "ohs", "newName": "r.example/ohs", "newTag": "9"}]}))
    [d] = render(tmp_path)
    [c] = d["spec"]["template"]["spec"]["containers"]
    assert (d["metadata"]["namespace"], d["spec"]["replicas"], c["image"]) == ("n", 3, "r.example/ohs:9")
    assert [e["name"] for e in c["env"]] == ["A", "B"]  # strategic merge by name, not a replaced list
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({"resources": ["a.yaml"], "commonLabels": {"a": "b"}}))
    with pytest.raises(NotImplementedError):
        render(tmp_path)


@pytest.mark.parametrize("path", sorted(BASE.glob("*.yaml")), ids=lambda p: p.name)
def test_every_base_manifest_validates(path: Path) -> None:
    for doc in load_docs(path):
        if doc.get("kind") != "Kustomization":
            validate(doc)


def test_every_rendered_manifest_validates(rendering: list[dict[str, Any]]) -> None:
    assert rendering
    for doc in rendering:
        validate(doc)


def test_validation_is_strict() -> None:
    [deployment] = [d for d in load_docs(BASE / "registry.yaml") if d["kind"] == "Deployment"]
    bad = copy.deepcopy(deployment)
    bad["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}  # a misspelt field
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(bad)
    [scaled] = [d for d in load_docs(BASE / "scaledobjects.yaml") if d["metadata"]["name"] == "ohs-registry"]
    bad = copy.deepcopy(scaled)
    bad["spec"]["maxReplicas"] = 3
    with pytest.raises(jsonschema.ValidationError):
        validate(bad)


# --- Kubernetes: what every service needs ---------------------------------------------------------------------

def required_env() -> set[str]:
    """What a containerised service must be given: the secret without which it refuses to start, its database,
    and every setting whose default points at the loopback of a development machine."""
    names = {"OHS_AUTH_SECRET", "DATABASE_URL"}
    for field in Settings.model_fields.values():
        if isinstance(field.default, str) and "127.0.0.1" in field.default:
            names.add(field.validation_alias)
    return names


def test_required_env_is_what_it_says() -> None:
    assert {"KAFKA_BOOTSTRAP_SERVERS", "OHS_HTTP_HOST", "OHS_REGISTRY_URL", "OHS_AUTH_SECRET"} <= required_env()


def test_every_service_has_a_deployment_service_and_pdb(rendering: list[dict[str, Any]]) -> None:
    deployments, services, pdbs = by_kind(rendering, "Deployment"), by_kind(rendering, "Service"), by_kind(rendering, "PodDisruptionBudget")
    configmaps = by_kind(rendering, "ConfigMap")
    for service in SERVICES:
        name = f"ohs-{service}"
        port = DEFAULT_PORTS[service]
        deployment = deployments[name]
        pod = deployment["spec"]["template"]
        [container] = pod["spec"]["containers"]
        assert container["args"] == [service]
        assert {p["containerPort"] for p in container["ports"]} == {port}
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), f"{name}: resources.{kind}"
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"])
        assert pod["metadata"]["annotations"] == {"prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": "/metrics"}
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        labels = deployment["spec"]["selector"]["matchLabels"]
        assert labels.items() <= pod["metadata"]["labels"].items()
        assert services[name]["spec"]["selector"] == labels
        assert [(p["port"], p["targetPort"]) for p in services[name]["spec"]["ports"]] == [(port, "http")]
        assert pdbs[name]["spec"]["selector"]["matchLabels"] == labels
        given = {e["name"] for e in container["env"]}
        for source in container.get("envFrom", []):
            given |= set(configmaps[source["configMapRef"]["name"]]["data"])
        assert required_env() <= given, f"{name} is not given {sorted(required_env() - given)}"


def test_secrets_and_settings_are_referenced_not_inlined(rendering: list[dict[str, Any]]) -> None:
    secrets = by_kind(rendering, "Secret")
    for container in containers(rendering):
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                secret = secrets[ref["name"]]
                assert ref["key"] in {**secret.get("data", {}), **secret.get("stringData", {})} or ref.get("optional"), ref
            assert not (re.search(r"SECRET|PASSWORD|DATABASE_URL", env["name"]) and "value" in env), f"{env['name']} inlined"


def test_every_consuming_service_scales_on_each_of_its_groups_within_its_partitions(rendering: list[dict[str, Any]]) -> None:
    scaled = by_kind(rendering, "ScaledObject")
    assert sorted(scaled) == [f"ohs-{s}" for s in CONSUMING], "a ScaledObject per consuming service, none for the console"
    for service in CONSUMING:
        spec = scaled[f"ohs-{service}"]["spec"]
        assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"ohs-{service}"}
        expected = {(f"{GROUP_PREFIX}.{service}" + (f".{s.group_suffix}" if s.group_suffix else ""), s.topic)
                    for s in SUBSCRIPTIONS if s.service == service}
        triggers = spec["triggers"]
        assert {t["type"] for t in triggers} == {"kafka"}
        assert {(t["metadata"]["consumerGroup"], t["metadata"]["topic"]) for t in triggers} == expected
        for t in triggers:
            assert t["metadata"]["bootstrapServersFromEnv"] == "KAFKA_BOOTSTRAP_SERVERS"
            assert int(t["metadata"]["lagThreshold"]) > 0
            assert t["metadata"]["offsetResetPolicy"] == "earliest"  # as the consumers (shared/messaging.py)
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        assert spec["maxReplicaCount"] <= min(PARTITIONS[topic] for _, topic in expected), f"ohs-{service}: more replicas than partitions"
        assert "replicas" not in by_kind(rendering, "Deployment")[f"ohs-{service}"]["spec"], "KEDA owns the replica count"


def test_the_topics_job_makes_replicated_topics(rendering: list[dict[str, Any]]) -> None:
    job = by_kind(rendering, "Job")["ohs-topics"]
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["topics"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["KAFKA_REPLICATION_FACTOR"] == "3" and env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_the_migration_job_upgrades_every_database(rendering: list[dict[str, Any]]) -> None:
    job = by_kind(rendering, "Job")["ohs-migrate"]
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["migrate", "all"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in container["env"]}
    deployments = by_kind(rendering, "Deployment")
    for service in SERVICES:
        [c] = deployments[f"ohs-{service}"]["spec"]["template"]["spec"]["containers"]
        own = next(e["valueFrom"]["secretKeyRef"]["key"] for e in c["env"] if e["name"] == "DATABASE_URL")
        assert refs[f"DATABASE_URL_{service.upper()}"] == own, f"the job migrates {service}'s own database"


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_an_overlay_makes_a_province_deployment(overlay: Path) -> None:
    docs = render(overlay)
    [namespace] = [d for d in docs if d["kind"] == "Namespace"]
    assert all(d["metadata"].get("namespace") == namespace["metadata"]["name"] for d in docs if d["kind"] != "Namespace")
    images = {c["image"] for c in containers(docs)}
    assert len(images) == 1 and split_image(images.pop())[1], "one image, with a tag, for every container"
    settings = by_kind(docs, "ConfigMap")["ohs-settings"]["data"]
    assert settings["KAFKA_BOOTSTRAP_SERVERS"] != by_kind(render(BASE), "ConfigMap")["ohs-settings"]["data"]["KAFKA_BOOTSTRAP_SERVERS"]
    assert len(settings["KAFKA_BOOTSTRAP_SERVERS"].split(",")) >= 3
    secret = by_kind(docs, "Secret")["ohs-secrets"]
    urls = {k: base64.b64decode(v).decode() for k, v in secret["data"].items() if k.startswith("database-url-")}
    assert sorted(urls) == [f"database-url-{s}" for s in SERVICES]
    assert len({u.rsplit("/", 1)[-1] for u in urls.values()}) == len(SERVICES), "one database per service"
    # more than one registry replica: attachments must live in the shared object store, not on a pod's disk
    if by_kind(docs, "ScaledObject")["ohs-registry"]["spec"]["maxReplicaCount"] > 1:
        assert settings.get("OHS_ATTACHMENTS_URL", "").startswith("s3://")
    assert (overlay / ".gitignore").read_text().split() == ["secrets.env"]


# --- the image ------------------------------------------------------------------------------------------------

def dockerfile() -> str:
    return (DEPLOY / "Dockerfile").read_text(encoding="utf-8")


def test_the_image_runs_every_service_module() -> None:
    entrypoint = (DEPLOY / "docker-entrypoint.sh").read_text(encoding="utf-8")
    assert "COPY --chmod=0755 deploy/docker-entrypoint.sh /usr/local/bin/ohs-entrypoint" in dockerfile()
    assert 'ENTRYPOINT ["/usr/local/bin/ohs-entrypoint"]' in dockerfile()
    modules = sorted(p.parent.name for p in (REPO / "services").glob("*/__main__.py"))
    assert modules == SERVICES
    [case] = re.findall(r"^\s*([a-z|]+)\)\n\s*exec python -m \"services\.\$what\"", entrypoint, re.M)
    assert sorted(case.split("|")) == modules
    assert "exec python -m shared.kafka_admin create-topics" in entrypoint
    assert "exec python -m shared.migrations upgrade" in entrypoint


def test_the_image_copies_what_pyproject_builds() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    copied = {m.group(1) for m in re.finditer(r"^COPY (?:--\S+ )*(\S+) ", dockerfile(), re.M)}
    assert "pyproject.toml" in copied
    for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]:
        assert pattern.rstrip("*") in copied, f"the package {pattern} is not copied"
    for field in ("readme", "license-files"):
        assert field not in project["project"], f"pyproject's {field} would need copying too"
    # the build context: .dockerignore lets through exactly what the Dockerfile copies
    ignore = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert ignore[ignore.index("**")] == "**"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert allowed == copied


def test_the_image_runs_as_a_user_and_knows_its_build() -> None:
    text = dockerfile()
    assert text.count("FROM python:3.11-slim") == 1
    assert re.search(r"^USER 10001:10001$", text, re.M)
    for arg in ("OHS_BUILD_VERSION", "OHS_BUILD_COMMIT"):
        assert re.search(rf"^ARG {arg}=", text, re.M) and f"{arg}=${{{arg}}}" in text
    assert Settings.model_fields["build_version"].validation_alias == "OHS_BUILD_VERSION"
    assert Settings.model_fields["build_commit"].validation_alias == "OHS_BUILD_COMMIT"


# --- compose --------------------------------------------------------------------------------------------------

def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def interpolated(value: str) -> list[tuple[str, str | None]]:
    """The ${VAR…} of a compose value: (name, its default or None when compose must be given it)."""
    return [(m.group(1), m.group(3) if m.group(2) == ":-" else None) for m in re.finditer(r"\$\{(\w+)(:[-?])?([^}]*)\}", value)]


COMPOSE_SPEC = Path(__file__).parent / "fixtures" / "compose" / "compose-spec.json"  # github.com/compose-spec/compose-spec
# schema/compose-spec.json at 170098ba07d9f53c383a41bfd4c5166b0a4529a6 (2026-06-23, Apache-2.0), unchanged


def test_compose_file_follows_the_compose_specification() -> None:
    import json

    validator = jsonschema.Draft7Validator(json.loads(COMPOSE_SPEC.read_text(encoding="utf-8")))
    doc = compose()
    assert not [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]
    doc["services"]["registry"]["depend_on"] = doc["services"]["registry"].pop("depends_on")  # a typo is caught
    assert list(validator.iter_errors(doc))


def test_compose_runs_every_service_after_the_jobs() -> None:
    services = compose()["services"]
    for service in SERVICES:
        port = DEFAULT_PORTS[service]
        s = services[service]
        assert s["command"] == [service]
        assert s["ports"] == [f"{port}:{port}"]
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(s["healthcheck"]["test"])
        assert s["depends_on"]["topics"] == {"condition": "service_completed_successfully"}
        assert s["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        env = s["environment"]
        assert required_env() <= set(env), f"{service} is not given {sorted(required_env() - set(env))}"
        assert env["OHS_HTTP_HOST"] == "0.0.0.0"
        db = interpolated(env["DATABASE_URL"])
        assert db == [(f"OHS_DB_PASSWORD_{service.upper()}", None)] and env["DATABASE_URL"].endswith(f"/ohs_{service}")
        for other in SERVICES:
            if other != "console":
                assert env[f"OHS_{other.upper()}_URL"] == f"http://{other}:{DEFAULT_PORTS[other]}"


def test_compose_jobs() -> None:
    services = compose()["services"]
    topics, migrate = services["topics"], services["migrate"]
    assert topics["command"] == ["topics"] and topics["restart"] == "no"
    assert topics["environment"]["KAFKA_REPLICATION_FACTOR"] == "3" and topics["environment"]["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
    assert all(topics["depends_on"][f"kafka-{n}"] == {"condition": "service_healthy"} for n in (1, 2, 3))
    assert migrate["command"] == ["migrate", "all"] and migrate["restart"] == "no"
    assert sorted(migrate["environment"]) == sorted(f"DATABASE_URL_{s.upper()}" for s in SERVICES)
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for service in SERVICES:  # the job migrates the very database the service uses
        assert migrate["environment"][f"DATABASE_URL_{service.upper()}"].replace(":?}", "}") == \
            services[service]["environment"]["DATABASE_URL"].replace(":?}", "}")


def test_compose_has_a_three_node_kraft_cluster() -> None:
    services = compose()["services"]
    nodes = {name: s for name, s in services.items() if name.startswith("kafka-")}
    assert sorted(nodes) == ["kafka-1", "kafka-2", "kafka-3"]
    ids, voters, clusters = set(), set(), set()
    for name, node in nodes.items():
        env = node["environment"]
        assert node["image"].startswith("apache/kafka:4.")
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        ids.add(env["KAFKA_NODE_ID"])
        voters.add(env["KAFKA_CONTROLLER_QUORUM_VOTERS"])
        clusters.add(env["CLUSTER_ID"])
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        for setting in ("OFFSETS_TOPIC_REPLICATION_FACTOR", "TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                        "SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR", "DEFAULT_REPLICATION_FACTOR"):
            assert env[f"KAFKA_{setting}"] == "3", setting
        for setting in ("TRANSACTION_STATE_LOG_MIN_ISR", "SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "MIN_INSYNC_REPLICAS"):
            assert env[f"KAFKA_{setting}"] == "2", setting
        assert any(v.endswith(":/var/lib/kafka/data") for v in node["volumes"]), "the log on a volume"
        assert "healthcheck" in node
    assert ids == {"1", "2", "3"} and len(clusters) == 1
    [quorum] = voters
    assert sorted(quorum.split(",")) == ["1@kafka-1:9093", "2@kafka-2:9093", "3@kafka-3:9093"]
    [cluster_id] = clusters
    assert re.fullmatch(r"\$\{KAFKA_CLUSTER_ID:-[A-Za-z0-9_-]{22}\}", cluster_id)
    bootstrap = services["registry"]["environment"]["KAFKA_BOOTSTRAP_SERVERS"]
    assert sorted(bootstrap.split(",")) == [f"{n}:9092" for n in sorted(nodes)]


def test_compose_secrets_come_from_the_operators_env_file() -> None:
    text = "\n".join(line for line in (DEPLOY / "compose.yaml").read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#"))
    needed = {name for name, default in interpolated(text) if default is None}
    example = read_env_file(DEPLOY / "compose.env.example")
    assert needed <= set(example), f"compose.env.example lacks {sorted(needed - set(example))}"
    assert {"OHS_AUTH_SECRET", "POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD"} <= needed
    assert all(not example[name] for name in needed if name != "OHS_IMAGE"), "no secret values in the example"
    init = (DEPLOY / "postgres" / "init-databases.sh").read_text(encoding="utf-8")
    assert f"for service in {' '.join(SERVICES)}; do" in init or set(SERVICES) <= set(re.findall(r"\w+", init))
    for service in SERVICES:
        assert f"OHS_DB_PASSWORD_{service.upper()}" in compose()["services"]["postgres"]["environment"]


def test_every_file_compose_mounts_exists() -> None:
    mounts = []
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                mounts.append((name, source))
    assert mounts
    for name, source in mounts:
        assert (DEPLOY / source).exists(), f"{name} mounts {source}, which is not in the repository"
    services = compose()["services"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]
    # the compose's scrape targets: every service under its own job name, on the compose network
    import json

    targets = json.loads((DEPLOY / "compose" / "targets" / "services.json").read_text(encoding="utf-8"))
    assert {t["labels"]["job"]: t["targets"] for t in targets} == {s: [f"{s}:{DEFAULT_PORTS[s]}"] for s in SERVICES}


def test_grafana_provisions_prometheus_jaeger_and_the_dashboards() -> None:
    services = compose()["services"]
    grafana = services["grafana"]
    sources = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yaml").read_text())["datasources"]
    assert {(d["type"], d["url"]) for d in sources} == {("prometheus", "http://prometheus:9090"), ("jaeger", "http://jaeger:16686")}
    assert "jaeger" in services, "the traces the services export (OHS_OTLP_ENDPOINT) have somewhere to go"
    for name in DEFAULT_PORTS:
        assert services[name]["environment"]["OHS_OTLP_ENDPOINT"] == "http://jaeger:4318", name
    [provider] = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/ohs.yaml").read_text())["providers"]
    assert provider["type"] == "file"
    assert f"./observability/dashboards:{provider['options']['path']}:ro" in grafana["volumes"]


# --- the migration job's entry: python -m shared.migrations upgrade all|<service> ---------------------------------

def test_upgrade_all_brings_each_services_own_database_to_head(tmp_path: Path) -> None:
    from shared.db import make_engine
    from shared.migrations import current_revisions, head_revisions, upgrade_services

    env = {f"DATABASE_URL_{s.upper()}": f"sqlite:///{tmp_path / s}.db" for s in SERVICES}
    assert upgrade_services("all", env) == SERVICES
    for service in SERVICES:
        engine = make_engine(env[f"DATABASE_URL_{service.upper()}"])
        assert current_revisions(engine) == head_revisions(service)
        engine.dispose()
    assert upgrade_services("all", env) == SERVICES  # again: nothing left to do, no error


def test_upgrade_refuses_a_shared_database_or_an_unknown_service(tmp_path: Path) -> None:
    from shared.migrations import upgrade_services

    with pytest.raises(SystemExit, match="DATABASE_URL_<SERVICE>"):
        upgrade_services("all", {"DATABASE_URL": f"sqlite:///{tmp_path}/one.db"})
    with pytest.raises(SystemExit, match="missing for assessment, console"):
        upgrade_services("all", {f"DATABASE_URL_{s.upper()}": f"sqlite:///{tmp_path}/{s}.db" for s in SERVICES if s not in ("assessment", "console")})
    with pytest.raises(SystemExit, match="no service 'billing'"):
        upgrade_services("billing", {})
    assert not list(tmp_path.iterdir())


def test_upgrade_one_service_from_the_command_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'sampling.db'}"
    done = subprocess.run([sys.executable, "-m", "shared.migrations", "upgrade", "sampling"], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": url, "OHS_DATA_DIR": str(tmp_path)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "sampling: at head"
    assert (tmp_path / "sampling.db").exists()


@pytest.mark.skipif(not __import__("shutil").which("promtool"), reason="promtool (Debian's prometheus package) not installed")
def test_prometheus_in_compose_scrapes_every_service_under_its_name(tmp_path: Path) -> None:
    """Lay out /etc/prometheus as compose mounts it, then ask promtool what the scrape job discovers."""
    import json
    import shutil
    import subprocess

    etc = tmp_path / "etc" / "prometheus"
    for volume in compose()["services"]["prometheus"]["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith("./") and target.startswith("/etc/prometheus"):
            where = tmp_path / target.lstrip("/")
            where.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if (DEPLOY / source).is_dir() else shutil.copy)(DEPLOY / source, where)
    checked = subprocess.run(["promtool", "check", "config", "prometheus.yml"], cwd=etc, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    [job] = [j["job_name"] for j in yaml.safe_load((etc / "prometheus.yml").read_text())["scrape_configs"]]
    found = subprocess.run(["promtool", "check", "service-discovery", "--timeout=2s", "prometheus.yml", job], cwd=etc, capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    labels = [t["labels"] for t in json.loads(found.stdout)]
    assert {t["job"]: t["instance"] for t in labels} == {s: f"{s}:{DEFAULT_PORTS[s]}" for s in SERVICES}
