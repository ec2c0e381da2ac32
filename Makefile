# The two commands of the README, and the benchmark. Scripts hold the logic.
.PHONY: run test bench bench-dashboards k8s-check stack-up stack-down stack-status

run:
	deploy/local/run.sh

test:
	deploy/local/test.sh

bench:
	bench/run.sh

# The dashboards phase alone (issue 15): one school, then the district.
bench-dashboards:
	BENCH_SCENARIOS= BENCH_RECORDS=0 BENCH_DISTRICT=1 bench/run.sh

# Render, schema-validate and lint the Kubernetes manifests (also in `test`).
k8s-check:
	deploy/k8s/check.sh

stack-up:
	deploy/local/stack.sh up

stack-down:
	deploy/local/stack.sh down

stack-status:
	deploy/local/stack.sh status
