# The two commands of the README, and the benchmark. Scripts hold the logic.
.PHONY: run test bench k8s-check stack-up stack-down stack-status

run:
	deploy/local/run.sh

test:
	deploy/local/test.sh

bench:
	bench/run.sh

# Render, schema-validate and lint the Kubernetes manifests (also in `test`).
k8s-check:
	deploy/k8s/check.sh

stack-up:
	deploy/local/stack.sh up

stack-down:
	deploy/local/stack.sh down

stack-status:
	deploy/local/stack.sh status
