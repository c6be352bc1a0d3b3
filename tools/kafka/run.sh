#!/usr/bin/env bash
# The kafka service's command (docker-compose.yaml): the official image's own start, unchanged
# (/etc/kafka/docker/run: server.properties from the KAFKA_* variables, the storage formatted at
# the first start, then the broker), and, once the broker answers, the platform's and the
# point-of-sale terminals' logins, the terminals' ACLs and the topic (logins.sh). The image's
# setup formats the storage without `--add-scram`, so the SCRAM users are made on the running
# broker instead, at every start. The healthcheck waits for the ready file; a login that
# cannot be set stops the broker.
set -uo pipefail

ready=/tmp/liftoff-kafka-logins.ready
rm -f "$ready"   # a restarted container keeps its /tmp
/etc/kafka/docker/run "$@" &
broker=$!
trap 'kill -TERM "$broker" 2>/dev/null' TERM INT   # docker stop: the broker's controlled shutdown
(bash /liftoff/kafka/logins.sh && touch "$ready") || kill -TERM "$broker" &
wait "$broker"
status=$?
while kill -0 "$broker" 2>/dev/null; do   # a signal ended the wait, not the broker
  wait "$broker"
  status=$?
done
exit "$status"
