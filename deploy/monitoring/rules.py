"""Prints the rule groups of a PrometheusRule as a plain Prometheus rule file
(what promtool and a Prometheus without the operator read), so the alerts
have one source: deploy/k8s/components/monitoring/prometheus-rules.yaml."""

import sys

import yaml

with open(sys.argv[1]) as f:
    rule = yaml.safe_load(f)
if rule.get("kind") != "PrometheusRule":
    sys.exit(f"{sys.argv[1]}: not a PrometheusRule")
print("# Generated from " + sys.argv[1] + " by deploy/monitoring/rules.py; do not edit.")
print(yaml.safe_dump({"groups": rule["spec"]["groups"]}, sort_keys=False, width=120))
