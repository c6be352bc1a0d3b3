#!/usr/bin/env bash
# The broker's logins (SASL SCRAM-SHA-512), what the terminals' may do, and the topic:
# - the platform's login (LIFTOFF_KAFKA_USER, liftoff-platform): Airflow's connection on the
#   INTERNAL listener kafka:9092; a super user (KAFKA_SUPER_USERS), so it needs no ACL;
# - the point-of-sale terminals' login (LIFTOFF_POS_KAFKA_USER, pos-terminal): EXTERNAL (and the
#   simulator on INTERNAL); it may write to (and describe) the topic, nothing else: the
#   broker's StandardAuthorizer denies whatever no ACL allows (docker-compose.yaml, kafka);
# - the topic pos.sales (what the kafka-init service did): 3 partitions, stamped by the broker
#   (LogAppendTime: a day is one offset range per partition), kept 7 days (the archive keeps
#   every landed day). Made if missing, never changed.
#
# Idempotent: tools/kafka/run.sh runs it at every start of the kafka service, so the passwords
# .env has now are the ones the broker takes (a changed password: restart kafka).
# It talks to the LOCAL listener (PLAINTEXT on the container's loopback: ANONYMOUS, a super
# user there only). tests/integration/test_kafka_external.py runs it against a broker of the
# Apache jars.
set -euo pipefail

: "${LIFTOFF_KAFKA_PASSWORD:?set LIFTOFF_KAFKA_PASSWORD}"
: "${LIFTOFF_POS_KAFKA_PASSWORD:?set LIFTOFF_POS_KAFKA_PASSWORD}"
platform="${LIFTOFF_KAFKA_USER:-liftoff-platform}"
terminals="${LIFTOFF_POS_KAFKA_USER:-pos-terminal}"
topic="${LIFTOFF_POS_TOPIC:-pos.sales}"
bootstrap="${LIFTOFF_KAFKA_BOOTSTRAP:-localhost:9095}"
export PATH="/opt/kafka/bin:$PATH"   # the image's tools (the test puts its own first)

# A password goes to kafka-configs in a file only this user reads, never on a command line
# (a Java properties file, its SCRAM value a comma-separated list: no `\` and no `,` in it;
# `make env` makes URL-safe ones).
for name in LIFTOFF_KAFKA_PASSWORD LIFTOFF_POS_KAFKA_PASSWORD; do
  case "${!name}" in
    *[,\\]*) echo "logins: $name must not hold a comma or a backslash" >&2; exit 1 ;;
  esac
done
credentials=$(mktemp)
trap 'rm -f "$credentials"' EXIT
chmod 600 "$credentials"

# set_login USER PASSWORD: its SCRAM-SHA-512 credential, kept in KRaft's metadata log; the
# first one waits for the broker to take it.
set_login() {
  printf 'SCRAM-SHA-512=iterations=8192,password=%s\n' "$2" > "$credentials"
  local attempt output
  for attempt in $(seq 60); do
    if output=$(kafka-configs.sh --bootstrap-server "$bootstrap" --alter --entity-type users \
        --entity-name "$1" --add-config-file "$credentials" 2>&1); then
      echo "logins: the SCRAM-SHA-512 login of $1 is set"
      : > "$credentials"
      return 0
    fi
    if [ "$attempt" -eq 60 ]; then
      echo "logins: the login of $1 could not be set: ${output##*$'\n'}" >&2
      exit 1
    fi
    sleep 2
  done
}
set_login "$platform" "$LIFTOFF_KAFKA_PASSWORD"
set_login "$terminals" "$LIFTOFF_POS_KAFKA_PASSWORD"

# The terminals: write (with idempotence: WRITE implies IDEMPOTENT_WRITE) and describe the
# topic: no read, no other topic, no group, no topic creation.
kafka-acls.sh --bootstrap-server "$bootstrap" --add --allow-principal "User:$terminals" \
  --operation Write --operation Describe --topic "$topic" >/dev/null
echo "logins: $terminals may write to $topic (and nothing else)"

kafka-topics.sh --bootstrap-server "$bootstrap" --create --if-not-exists --topic "$topic" \
  --partitions 3 --replication-factor 1 \
  --config message.timestamp.type=LogAppendTime --config retention.ms=604800000 >/dev/null
echo "logins: the topic $topic is there"
