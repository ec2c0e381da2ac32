# The two commands of the README, and the benchmark. Scripts hold the logic.
.PHONY: run test bench stack-up stack-down stack-status

run:
	deploy/local/run.sh

test:
	deploy/local/test.sh

bench:
	bench/run.sh

stack-up:
	deploy/local/stack.sh up

stack-down:
	deploy/local/stack.sh down

stack-status:
	deploy/local/stack.sh status
