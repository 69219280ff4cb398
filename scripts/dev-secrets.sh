#!/usr/bin/env bash
# Run a command with throwaway secrets for qemgate's receivers and admin API.
#
#   scripts/dev-secrets.sh COMMAND...
#
# `qemgate serve` refuses to start without a webhook secret, a callback token
# and an admin token, and the example configuration holds none. For each of
# them that is not set in the environment (neither the variable nor its
# _FILE), a random value is exported and printed on stderr, so that `make
# run` starts with one command and you can sign requests against it. They
# live as long as COMMAND: nothing is written to disk.
set -euo pipefail

random() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

for var in QEMGATE_GITEA_WEBHOOK_SECRET QEMGATE_OPENQA_CALLBACK_TOKEN QEMGATE_ADMIN_TOKEN; do
	file=${var}_FILE
	if [ -z "${!var:-}" ] && [ -z "${!file:-}" ]; then
		export "$var=$(random)"
		echo "scripts/dev-secrets.sh: $var=${!var} (throwaway)" >&2
	fi
done
exec "$@"
