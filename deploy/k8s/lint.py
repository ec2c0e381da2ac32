#!/usr/bin/env python3
"""Security and operability lint of rendered manifests (one multi-document
YAML on stdin or as the first argument). Exit 1 with one line per finding.

Policies (what kube-linter / the restricted Pod Security Standard would ask,
plus ours): every workload runs as non-root with RuntimeDefault seccomp, a
read-only root filesystem, no privilege escalation and all capabilities
dropped; sets CPU and memory requests and limits, readiness and liveness
probes, a pinned image tag; does not mount a service-account token; our
Deployments have their own ServiceAccount, a PodDisruptionBudget and an
HPA; gRPC Services are headless; a default-deny NetworkPolicy exists; and
namespaces enforce the restricted Pod Security Standard.
"""

import sys

import yaml

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


def pod_spec(doc):
    spec = doc.get("spec", {})
    return spec.get("template", {}).get("spec", {})


def lint(docs):
    findings = []
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)

    def bad(doc, msg):
        findings.append(f"{doc['kind']}/{doc['metadata']['name']}: {msg}")

    for w in (d for d in docs if d["kind"] in WORKLOADS):
        ps = pod_spec(w)
        psc = ps.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True:
            bad(w, "pod securityContext.runAsNonRoot must be true")
        if psc.get("runAsUser") == 0:
            bad(w, "runs as uid 0")
        if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            bad(w, "pod seccompProfile must be RuntimeDefault")
        if ps.get("automountServiceAccountToken") is not False:
            bad(w, "automountServiceAccountToken must be false")
        for host in ("hostNetwork", "hostPID", "hostIPC"):
            if ps.get(host):
                bad(w, f"{host} is not allowed")
        for c in ps.get("containers", []) + ps.get("initContainers", []):
            name = c.get("name")
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False:
                bad(w, f"container {name}: allowPrivilegeEscalation must be false")
            if sc.get("readOnlyRootFilesystem") is not True:
                bad(w, f"container {name}: readOnlyRootFilesystem must be true")
            if sc.get("privileged"):
                bad(w, f"container {name}: privileged")
            caps = sc.get("capabilities", {})
            if "ALL" not in caps.get("drop", []):
                bad(w, f"container {name}: capabilities must drop ALL")
            if caps.get("add"):
                bad(w, f"container {name}: adds capabilities {caps['add']}")
            res = c.get("resources", {})
            for part in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in res.get(part, {}):
                        bad(w, f"container {name}: resources.{part}.{r} missing")
            if w["kind"] != "Job":
                for probe in ("readinessProbe", "livenessProbe"):
                    if probe not in c:
                        bad(w, f"container {name}: {probe} missing")
            image = c.get("image", "")
            tag = image.rsplit("/", 1)[-1]
            if "@" not in image and (":" not in tag or tag.endswith(":latest")):
                bad(w, f"container {name}: image {image!r} must pin a tag (not latest)")

    accounts = {d["metadata"]["name"] for d in by_kind.get("ServiceAccount", [])}
    pdb_selectors = [d["spec"].get("selector", {}).get("matchLabels", {}) for d in by_kind.get("PodDisruptionBudget", [])]
    hpa_targets = {d["spec"]["scaleTargetRef"]["name"] for d in by_kind.get("HorizontalPodAutoscaler", [])}
    for dep in by_kind.get("Deployment", []):
        labels = dep["spec"]["template"]["metadata"].get("labels", {})
        if labels.get("app.kubernetes.io/part-of") != "schoolhouse":
            continue
        sa = pod_spec(dep).get("serviceAccountName")
        if not sa or sa not in accounts:
            bad(dep, "needs its own ServiceAccount")
        if not any(sel and all(labels.get(k) == v for k, v in sel.items()) for sel in pdb_selectors):
            bad(dep, "no PodDisruptionBudget selects it")
        if dep["metadata"]["name"] not in hpa_targets:
            bad(dep, "no HorizontalPodAutoscaler targets it")

    for svc in by_kind.get("Service", []):
        if any(p.get("name") == "grpc" for p in svc["spec"].get("ports", [])) and svc["spec"].get("clusterIP") != "None":
            bad(svc, "gRPC services must be headless (clusterIP: None) so clients balance over pods")

    policies = by_kind.get("NetworkPolicy", [])
    if not any(p["spec"].get("podSelector") == {} and not p["spec"].get("ingress") and not p["spec"].get("egress")
               and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"} for p in policies):
        findings.append("no default-deny NetworkPolicy (podSelector {}, Ingress and Egress)")

    for ns in by_kind.get("Namespace", []):
        if ns["metadata"].get("labels", {}).get("pod-security.kubernetes.io/enforce") != "restricted":
            bad(ns, "must enforce the restricted Pod Security Standard")
    return findings


def main():
    src = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
    docs = [d for d in yaml.safe_load_all(src) if d]
    findings = lint(docs)
    for f in findings:
        print(f"lint: {f}")
    sys.exit(1 if findings else 0)


if __name__ == "__main__":
    main()
