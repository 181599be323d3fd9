#!/bin/bash
## The instance's user data, run once as root by cloud-init. infra-cdk/lib/boot-script.ts renders it: it
## fills in every @NAME@ with the stack's values and drops these ## lines (user data is limited to 16 KB).
## CDK puts its cfn-signal exit trap in front of it: exit 0 reports a good boot, anything else a failed one.
##
## It installs Docker, assembles the environment from Secrets Manager into a root-only env file, applies the
## database migrations, runs the service and the order worker from the same image, and exits 0 only once
## GET /health answers 200 and the worker is live: a deployment whose instances cannot reach Redis or
## PostgreSQL fails and rolls back instead of leaving a fleet that never serves.
##
## Never `set -x` here: the trace would copy the tokens into /var/log/cloud-init-output.log.
# shellcheck disable=SC2317 # the functions below run through retry, which shellcheck cannot follow
set -euo pipefail
REGION=@REGION@
IMAGE=@IMAGE_URI@

## What the network may not have yet (NAT, the OS repositories, Secrets Manager, ECR, the database) gets a
## few tries: under set -e one transient failure would otherwise fail the boot and roll back the whole stack.
## Every attempt leaves a line in the boot log (/var/log/cloud-init-output.log); the last failure fails the boot.
# retry ATTEMPTS WHAT COMMAND...: waits 5, 10, 20, then 30 s between attempts
retry() {
  local attempts=$1 what=$2 attempt delay=5
  shift 2
  for attempt in $(seq 1 "$attempts"); do
    echo "$what: attempt $attempt of $attempts" >&2
    if "$@"; then return 0; fi
    if [ "$attempt" -lt "$attempts" ]; then
      echo "$what: attempt $attempt failed, next in $delay s" >&2
      sleep "$delay"
      delay=$((delay < 15 ? delay * 2 : 30))
    fi
  done
  echo "$what: failed $attempts times, giving up" >&2
  return 1
}

## First, cfn-signal (not preinstalled on AL2023), so that any later failure is reported at once by the
## exit trap instead of CloudFormation waiting out its timeout. jq turns the secrets into env lines.
retry 5 'dnf install aws-cfn-bootstrap' dnf install -y aws-cfn-bootstrap
retry 5 'dnf install docker jq' dnf install -y docker jq
systemctl enable --now docker

imds() {
  local token
  token=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300") &&
    curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}
INSTANCE_ID=$(retry 5 'read the instance id' imds instance-id)

# The RDS CA bundle: node-postgres checks the database's certificate and name against it (sslmode=verify-full).
fetch_rds_ca() {
  curl -fsS --max-time 20 -o /tmp/rds-ca.pem "https://truststore.pki.rds.amazonaws.com/$REGION/$REGION-bundle.pem" &&
    grep -q 'BEGIN CERTIFICATE' /tmp/rds-ca.pem
}
retry 5 'download the RDS CA bundle' fetch_rds_ca
install -d -m 0755 @DB_CA_DIRECTORY@
install -m 0644 /tmp/rds-ca.pem @DB_CA_FILE@
rm -f /tmp/rds-ca.pem

# The environment: settings from the template, connection and credentials from Secrets Manager.
## Instances read the connection once, at boot. Naming the endpoints here makes a new cache (another shard
## count, a replaced group) or a new database a new launch template version, so the rolling update moves the
## fleet onto it; otherwise `cdk deploy` would succeed and leave every instance on the deleted one.
# cache: @REDIS_ENDPOINT@ (the connection secret below holds it with the mode and TLS switch)
# database: @DATABASE_ENDPOINT@ (its secret below holds it with the credentials)
secret() { aws secretsmanager get-secret-value --region "$REGION" --secret-id "$1" --query SecretString --output text; }
REDIS_CONNECTION=$(retry 5 'read the Redis connection secret' secret '@REDIS_CONNECTION_SECRET@')
REDIS_PASSWORD=$(retry 5 'read the Redis AUTH token' secret '@REDIS_AUTH_TOKEN_SECRET@')
ADMIN_TOKEN=$(retry 5 'read the admin token' secret '@ADMIN_TOKEN_SECRET@')
DATABASE_SECRET=$(retry 5 'read the database secret' secret '@DATABASE_SECRET@')
## User and password are URL-encoded (node-postgres decodes them); a secret without a host (not yet attached
## to the instance) stops the boot instead of producing a URL that points nowhere. jq's error names the
## field, never the secret's content.
# shellcheck disable=SC2016 # $dbname and $ca are jq's variables, not the shell's
DATABASE_URL=$(jq -r --arg dbname '@DATABASE_NAME@' --arg ca '@DB_CA_IN_CONTAINER@' '"postgres://\(.username | @uri):\(.password | @uri)@\(.host // error("the database secret has no host")):\(.port // error("the database secret has no port"))/\(.dbname // $dbname | @uri)?sslmode=verify-full&sslrootcert=\($ca)"' <<<"$DATABASE_SECRET")
install -d -m 0700 @ENV_DIRECTORY@
umask 077
cat > @ENV_FILE@ <<EOF
@SERVICE_SETTINGS@
INSTANCE_ID=$INSTANCE_ID
REDIS_PASSWORD=$REDIS_PASSWORD
ADMIN_TOKEN=$ADMIN_TOKEN
DATABASE_URL=$DATABASE_URL
EOF
jq -r 'to_entries[] | "\(.key)=\(.value)"' <<<"$REDIS_CONNECTION" >> @ENV_FILE@
unset REDIS_PASSWORD ADMIN_TOKEN DATABASE_SECRET DATABASE_URL

# ECR keeps the image built from the repository by `cdk deploy`.
ecr_login() { aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "${IMAGE%%/*}"; }
retry 5 'log in to ECR' ecr_login
retry 5 'docker pull' docker pull "$IMAGE"

## Before either process starts, so neither meets an old schema. Instances booting together (a new fleet, a
## scale-out) may all run it: migrate.js takes a PostgreSQL advisory lock, and a second run applies nothing.
## A rolling deployment runs it while old instances still serve: a migration must not break the release
## before it.
# The schema first: a boot that cannot migrate fails.
retry 6 'database migrations' docker run --rm \
  --env-file @ENV_FILE@ \
  -v @DB_CA_FILE@:@DB_CA_IN_CONTAINER@:ro \
  --log-driver awslogs \
  --log-opt awslogs-region="$REGION" \
  --log-opt awslogs-group='@LOG_GROUP@' \
  --log-opt awslogs-stream="$INSTANCE_ID-migrate" \
  "$IMAGE" node dist/app/migrate.js

## --restart: Docker starts the container again when the process exits, and after a reboot.
## --stop-timeout: `docker stop` (and the daemon on shutdown) waits out the graceful stop before SIGKILL.
## Bridge networking: with the IMDS hop limit of 1 the container cannot borrow the instance's role.
## awslogs non-blocking: a CloudWatch Logs hiccup drops log lines rather than stalling the service.
docker run -d --name @CONTAINER_NAME@ --restart unless-stopped \
  --stop-timeout @DOCKER_STOP_TIMEOUT_SECONDS@ \
  --env-file @ENV_FILE@ \
  -v @DB_CA_FILE@:@DB_CA_IN_CONTAINER@:ro \
  --log-driver awslogs \
  --log-opt awslogs-region="$REGION" \
  --log-opt awslogs-group='@LOG_GROUP@' \
  --log-opt awslogs-stream="$INSTANCE_ID" \
  --log-opt mode=non-blocking --log-opt max-buffer-size=4m \
  -p @SERVICE_PORT@:@SERVICE_PORT@ \
  --ulimit nofile=65536:65536 \
  "$IMAGE"
## The order worker: same image and environment, no published port (its PORT serves only the image's
## HEALTHCHECK inside its own container). On SIGTERM it finishes its batch within SHUTDOWN_TIMEOUT_MS.
docker run -d --name @WORKER_CONTAINER_NAME@ --restart unless-stopped \
  --stop-timeout @DOCKER_STOP_TIMEOUT_SECONDS@ \
  --env-file @ENV_FILE@ \
  -v @DB_CA_FILE@:@DB_CA_IN_CONTAINER@:ro \
  --log-driver awslogs \
  --log-opt awslogs-region="$REGION" \
  --log-opt awslogs-group='@LOG_GROUP@' \
  --log-opt awslogs-stream="$INSTANCE_ID-worker" \
  --log-opt mode=non-blocking --log-opt max-buffer-size=4m \
  "$IMAGE" node dist/app/worker.js

## Docker's HEALTHCHECK (the image probes /health/live) only marks a container unhealthy; it never restarts
## it. This timer does, so a wedged process is replaced on the instance, not by replacing the instance.
cat > /usr/local/bin/@CONTAINER_NAME@-watchdog <<'EOF'
#!/bin/sh
for name in @CONTAINER_NAME@ @WORKER_CONTAINER_NAME@; do
  status=$(docker inspect --format '{{.State.Health.Status}}' "$name" 2>/dev/null || true)
  if [ "$status" = unhealthy ]; then
    logger -t @CONTAINER_NAME@-watchdog "$name: /health/live failing: restarting the container"
    docker restart "$name"
  fi
done
EOF
chmod 0755 /usr/local/bin/@CONTAINER_NAME@-watchdog
cat > /etc/systemd/system/@CONTAINER_NAME@-watchdog.service <<'EOF'
[Unit]
Description=Restart the flash-sale containers when their liveness check fails
After=docker.service
[Service]
Type=oneshot
ExecStart=/usr/local/bin/@CONTAINER_NAME@-watchdog
EOF
cat > /etc/systemd/system/@CONTAINER_NAME@-watchdog.timer <<'EOF'
[Unit]
Description=Check the flash-sale containers every 30 seconds
[Timer]
OnBootSec=2min
OnUnitActiveSec=30s
[Install]
WantedBy=timers.target
EOF
systemctl daemon-reload
systemctl enable --now @CONTAINER_NAME@-watchdog.timer

## The worker has no port to probe from here: Docker's health status is its /health/live.
# Ready means GET /health = 200 (the service is up and has loaded its scripts into Redis) and a live worker.
worker_live() { [ "$(docker inspect --format '{{.State.Health.Status}}' @WORKER_CONTAINER_NAME@)" = healthy ]; }
for attempt in $(seq 1 @HEALTH_CHECKS@); do
  if curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:@SERVICE_PORT@/health && worker_live; then exit 0; fi
  sleep 5
done
echo "the service did not answer 200 on /health, or the worker was not live, within @HEALTHY_WITHIN_SECONDS@ s" >&2
docker logs --tail 50 @CONTAINER_NAME@ >&2 || true
docker logs --tail 50 @WORKER_CONTAINER_NAME@ >&2 || true
exit 1
