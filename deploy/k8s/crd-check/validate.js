// Validates the Prometheus Operator objects of rendered manifests against
// the operator's CRD schemas (from @kubernetes-models/prometheus-operator,
// generated from the CRDs). Usage: node validate.js rendered.yaml...
// Other kinds are left to kubernetes-validate. Exits 1 naming each invalid
// object; fails too when a file holds no operator object at all (a check
// that validates nothing must not pass).
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { PodMonitor, PrometheusRule, ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const models = { PodMonitor, PrometheusRule, ServiceMonitor };
let failed = false;
for (const file of process.argv.slice(2)) {
  let seen = 0;
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    const obj = doc.toJS();
    if (!obj || obj.apiVersion !== "monitoring.coreos.com/v1") continue;
    const Model = models[obj.kind];
    const name = `${file}: ${obj.kind}/${obj.metadata?.name}`;
    if (!Model) {
      console.error(`${name}: no schema for this kind`);
      failed = true;
      continue;
    }
    seen += 1;
    try {
      new Model(obj).validate();
    } catch (e) {
      console.error(`${name}: ${e.message}`);
      failed = true;
    }
  }
  if (seen === 0) {
    console.error(`${file}: no Prometheus Operator object to validate`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
