#!/usr/bin/env bash
# The point-of-sale terminals' login on the broker's EXTERNAL listener (SASL SCRAM-SHA-512) and
# what it may do: write to (and describe) the point-of-sale topic, nothing else: the broker's
# StandardAuthorizer denies whatever no ACL allows (docker-compose.yaml, the kafka service).
#
# Idempotent: tools/kafka/run.sh runs it at every start of the kafka service, so the password
# .env has now is the one the broker takes (a changed LIFTOFF_POS_KAFKA_PASSWORD: restart kafka).
# It talks to the internal listener (PLAINTEXT, the compose network only, a super user's).
# tests/integration/test_kafka_external.py runs it against a broker of the Apache jars.
set -euo pipefail

: "${LIFTOFF_POS_KAFKA_PASSWORD:?set LIFTOFF_POS_KAFKA_PASSWORD}"
user="${LIFTOFF_POS_KAFKA_USER:-pos-terminal}"
topic="${LIFTOFF_POS_TOPIC:-pos.sales}"
bootstrap="${LIFTOFF_KAFKA_BOOTSTRAP:-localhost:9092}"
export PATH="/opt/kafka/bin:$PATH"   # the image's tools (the test puts its own first)

# The password goes to kafka-configs in a file only this user reads, never on a command line
# (a Java properties file, its SCRAM value a comma-separated list: no `\` and no `,` in it;
# `make env` makes URL-safe ones).
case "$LIFTOFF_POS_KAFKA_PASSWORD" in
  *[,\\]*) echo "pos-terminals: LIFTOFF_POS_KAFKA_PASSWORD must not hold a comma or a backslash" >&2; exit 1 ;;
esac
credentials=$(mktemp)
trap 'rm -f "$credentials"' EXIT
chmod 600 "$credentials"
printf 'SCRAM-SHA-512=iterations=8192,password=%s\n' "$LIFTOFF_POS_KAFKA_PASSWORD" > "$credentials"

# SCRAM credentials live in KRaft's metadata log: wait for the broker to take them.
for attempt in $(seq 60); do
  if output=$(kafka-configs.sh --bootstrap-server "$bootstrap" --alter --entity-type users \
      --entity-name "$user" --add-config-file "$credentials" 2>&1); then
    echo "pos-terminals: the SCRAM-SHA-512 login of $user is set"
    break
  fi
  if [ "$attempt" -eq 60 ]; then
    echo "pos-terminals: the login of $user could not be set: ${output##*$'\n'}" >&2
    exit 1
  fi
  sleep 2
done

# Write (with idempotence: WRITE implies IDEMPOTENT_WRITE) and describe the topic: no read,
# no other topic, no group, no topic creation.
kafka-acls.sh --bootstrap-server "$bootstrap" --add --allow-principal "User:$user" \
  --operation Write --operation Describe --topic "$topic" >/dev/null
echo "pos-terminals: $user may write to $topic (and nothing else)"
