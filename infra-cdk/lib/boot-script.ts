import type { ShutdownTiming } from './graceful-shutdown';

export interface BootScriptParams {
  readonly region: string;
  readonly imageUri: string;
  readonly logGroupName: string;
  readonly servicePort: number;
  readonly adminTokenSecretArn: string;
  readonly redisAuthTokenSecretArn: string;
  readonly redisConnectionSecretArn: string;
  /** the cache's endpoint: named in the script so that a new cache changes the launch template */
  readonly redisEndpoint: string;
  /** the RDS secret: username, password, host, port (RDS adds the last two once the instance exists) */
  readonly databaseSecretArn: string;
  /** the database's endpoint (host:port), named in the script for the same reason as the cache's */
  readonly databaseEndpoint: string;
  /** the database the instance was created with; RDS's secret does not hold it */
  readonly databaseName: string;
  readonly unsafeEndpoint: boolean;
  /** REDIS_WAIT_REPLICAS */
  readonly waitReplicas: number;
  readonly shutdown: ShutdownTiming;
  /** how long the script waits for GET /health to answer 200 before it reports a failed boot */
  readonly healthyWithinSeconds: number;
}

export const CONTAINER_NAME = 'flash-sale';
export const WORKER_CONTAINER_NAME = 'flash-sale-worker';
export const ENV_FILE = '/etc/flash-sale/service.env';
/** outside the root-only directory of the env file: the containers run as node (uid 1000) and must read it */
export const DB_CA_FILE = '/usr/local/share/flash-sale/rds-ca.pem';
export const DB_CA_IN_CONTAINER = '/etc/rds/ca.pem';

/**
 * The jq program that turns the RDS secret into DATABASE_URL. User and password are URL-encoded
 * (node-postgres decodes them); a secret without a host (not yet attached to the instance) stops the boot
 * instead of producing a URL that points nowhere. jq's error names the field, never the secret's content.
 */
const DATABASE_URL_JQ =
  '"postgres://\\(.username | @uri):\\(.password | @uri)@' +
  '\\(.host // error("the database secret has no host")):\\(.port // error("the database secret has no port"))/' +
  '\\(.dbname // $dbname | @uri)?sslmode=verify-full&sslrootcert=\\($ca)"';

/** docker run options the migrations, the service and the worker share: environment, CA bundle, logs */
function sharedRunOptions(logGroupName: string, logStream: string): string[] {
  return [
    `  --env-file ${ENV_FILE} \\`,
    `  -v ${DB_CA_FILE}:${DB_CA_IN_CONTAINER}:ro \\`,
    '  --log-driver awslogs \\',
    '  --log-opt awslogs-region="$REGION" \\',
    `  --log-opt awslogs-group='${logGroupName}' \\`,
    `  --log-opt awslogs-stream="${logStream}" \\`,
  ];
}

/**
 * The instance's user data (bash, run once as root by cloud-init). It installs Docker, assembles the
 * environment from Secrets Manager into a root-only env file, applies the database migrations, runs the
 * service and the order worker from the same image, and exits 0 only once GET /health answers 200 and the
 * worker is live, which the exit trap reports to CloudFormation (cfn-signal): a deployment whose instances
 * cannot reach Redis or PostgreSQL fails and rolls back instead of leaving a fleet that never serves.
 *
 * Never `set -x` here: the trace would copy the tokens into /var/log/cloud-init-output.log.
 */
export function bootScript(p: BootScriptParams): string[] {
  const settings = [
    'NODE_ENV=production',
    `PORT=${p.servicePort}`,
    // behind the ALB, one proxy: the client's address is the last one in X-Forwarded-For
    'TRUST_PROXY=1',
    `UNSAFE_ENDPOINT=${p.unsafeEndpoint ? 'on' : 'off'}`,
    `REDIS_WAIT_REPLICAS=${p.waitReplicas}`,
    `SHUTDOWN_DRAIN_MS=${p.shutdown.drainMs}`,
    `SHUTDOWN_TIMEOUT_MS=${p.shutdown.timeoutMs}`,
  ];
  const containers = [CONTAINER_NAME, WORKER_CONTAINER_NAME];
  const caDirectory = DB_CA_FILE.slice(0, DB_CA_FILE.lastIndexOf('/'));
  return [
    'set -euo pipefail',
    `REGION=${p.region}`,
    `IMAGE=${p.imageUri}`,
    // What the network may not have yet (NAT, the database, the truststore) gets a few tries; every attempt
    // leaves a line in the boot log, and the last failure fails the boot.
    '# retry ATTEMPTS WHAT COMMAND...: waits 5, 10, 20, then 30 s between attempts',
    'retry() {',
    '  local attempts=$1 what=$2 attempt delay=5',
    '  shift 2',
    '  for attempt in $(seq 1 "$attempts"); do',
    '    echo "$what: attempt $attempt of $attempts" >&2',
    '    if "$@"; then return 0; fi',
    '    if [ "$attempt" -lt "$attempts" ]; then sleep "$delay"; delay=$((delay < 15 ? delay * 2 : 30)); fi',
    '  done',
    '  echo "$what: failed $attempts times, giving up" >&2',
    '  return 1',
    '}',
    // First, cfn-signal (not preinstalled on AL2023), so that any later failure is reported at once by the
    // exit trap instead of CloudFormation waiting out its timeout. jq turns the secrets into env lines.
    'dnf install -y aws-cfn-bootstrap',
    'dnf install -y docker jq',
    'systemctl enable --now docker',
    '',
    'IMDS_TOKEN=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")',
    'INSTANCE_ID=$(curl -fsS -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" http://169.254.169.254/latest/meta-data/instance-id)',
    '',
    "# The RDS CA bundle: node-postgres checks the database's certificate and name against it (sslmode=verify-full).",
    'fetch_rds_ca() {',
    '  curl -fsS --max-time 20 -o /tmp/rds-ca.pem "https://truststore.pki.rds.amazonaws.com/$REGION/$REGION-bundle.pem" &&',
    "    grep -q 'BEGIN CERTIFICATE' /tmp/rds-ca.pem",
    '}',
    "retry 5 'download the RDS CA bundle' fetch_rds_ca",
    `install -d -m 0755 ${caDirectory}`,
    `install -m 0644 /tmp/rds-ca.pem ${DB_CA_FILE}`,
    'rm -f /tmp/rds-ca.pem',
    '',
    '# The environment: settings from the template, connection and credentials from Secrets Manager.',
    // Instances read the connection once, at boot. Naming the endpoint here makes a new cache (another shard
    // count, a replaced group) a new launch template version, so the rolling update moves the fleet onto it;
    // otherwise `cdk deploy` would succeed and leave every instance on the deleted cache. The same goes for
    // the database.
    `# cache: ${p.redisEndpoint} (the connection secret below holds it with the mode and TLS switch)`,
    `# database: ${p.databaseEndpoint} (its secret below holds it with the credentials)`,
    'secret() { aws secretsmanager get-secret-value --region "$REGION" --secret-id "$1" --query SecretString --output text; }',
    `REDIS_CONNECTION=$(secret '${p.redisConnectionSecretArn}')`,
    `REDIS_PASSWORD=$(secret '${p.redisAuthTokenSecretArn}')`,
    `ADMIN_TOKEN=$(secret '${p.adminTokenSecretArn}')`,
    `DATABASE_SECRET=$(secret '${p.databaseSecretArn}')`,
    `DATABASE_URL=$(jq -r --arg dbname '${p.databaseName}' --arg ca '${DB_CA_IN_CONTAINER}' '${DATABASE_URL_JQ}' <<<"$DATABASE_SECRET")`,
    `install -d -m 0700 ${ENV_FILE.slice(0, ENV_FILE.lastIndexOf('/'))}`,
    'umask 077',
    `cat > ${ENV_FILE} <<EOF`,
    ...settings,
    'INSTANCE_ID=$INSTANCE_ID',
    'REDIS_PASSWORD=$REDIS_PASSWORD',
    'ADMIN_TOKEN=$ADMIN_TOKEN',
    'DATABASE_URL=$DATABASE_URL',
    'EOF',
    `jq -r 'to_entries[] | "\\(.key)=\\(.value)"' <<<"$REDIS_CONNECTION" >> ${ENV_FILE}`,
    'unset REDIS_PASSWORD ADMIN_TOKEN DATABASE_SECRET DATABASE_URL',
    '',
    '# ECR keeps the image built from the repository by `cdk deploy`.',
    'aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "${IMAGE%%/*}"',
    'docker pull "$IMAGE"',
    '',
    // Before either process starts, so neither meets an old schema. Instances booting together (a new
    // fleet, a scale-out) may all run it: migrate.js takes a PostgreSQL advisory lock, and a second run
    // applies nothing. A rolling deployment runs it while old instances still serve: a migration must not
    // break the release before it.
    '# The schema first: a boot that cannot migrate fails.',
    "retry 6 'database migrations' docker run --rm \\",
    ...sharedRunOptions(p.logGroupName, '$INSTANCE_ID-migrate'),
    '  "$IMAGE" node dist/app/migrate.js',
    '',
    // --restart: Docker starts the container again when the process exits, and after a reboot.
    // --stop-timeout: `docker stop` (and the daemon on shutdown) waits out the graceful stop before SIGKILL.
    // Bridge networking: with the IMDS hop limit of 1 the container cannot borrow the instance's role.
    // awslogs non-blocking: a CloudWatch Logs hiccup drops log lines rather than stalling the service.
    `docker run -d --name ${CONTAINER_NAME} --restart unless-stopped \\`,
    `  --stop-timeout ${p.shutdown.dockerStopTimeoutSeconds} \\`,
    ...sharedRunOptions(p.logGroupName, '$INSTANCE_ID'),
    '  --log-opt mode=non-blocking --log-opt max-buffer-size=4m \\',
    `  -p ${p.servicePort}:${p.servicePort} \\`,
    '  --ulimit nofile=65536:65536 \\',
    '  "$IMAGE"',
    // The order worker: same image and environment, no published port (its PORT serves only the image's
    // HEALTHCHECK inside its own container). On SIGTERM it finishes its batch within SHUTDOWN_TIMEOUT_MS.
    `docker run -d --name ${WORKER_CONTAINER_NAME} --restart unless-stopped \\`,
    `  --stop-timeout ${p.shutdown.dockerStopTimeoutSeconds} \\`,
    ...sharedRunOptions(p.logGroupName, '$INSTANCE_ID-worker'),
    '  --log-opt mode=non-blocking --log-opt max-buffer-size=4m \\',
    '  "$IMAGE" node dist/app/worker.js',
    '',
    // Docker's HEALTHCHECK (the image probes /health/live) only marks a container unhealthy; it never
    // restarts it. This timer does, so a wedged process is replaced on the instance, not by replacing it.
    `cat > /usr/local/bin/${CONTAINER_NAME}-watchdog <<'EOF'`,
    '#!/bin/sh',
    `for name in ${containers.join(' ')}; do`,
    `  status=$(docker inspect --format '{{.State.Health.Status}}' "$name" 2>/dev/null || true)`,
    '  if [ "$status" = unhealthy ]; then',
    `    logger -t ${CONTAINER_NAME}-watchdog "$name: /health/live failing: restarting the container"`,
    '    docker restart "$name"',
    '  fi',
    'done',
    'EOF',
    `chmod 0755 /usr/local/bin/${CONTAINER_NAME}-watchdog`,
    `cat > /etc/systemd/system/${CONTAINER_NAME}-watchdog.service <<'EOF'`,
    '[Unit]',
    'Description=Restart the flash-sale containers when their liveness check fails',
    'After=docker.service',
    '[Service]',
    'Type=oneshot',
    `ExecStart=/usr/local/bin/${CONTAINER_NAME}-watchdog`,
    'EOF',
    `cat > /etc/systemd/system/${CONTAINER_NAME}-watchdog.timer <<'EOF'`,
    '[Unit]',
    'Description=Check the flash-sale containers every 30 seconds',
    '[Timer]',
    'OnBootSec=2min',
    'OnUnitActiveSec=30s',
    '[Install]',
    'WantedBy=timers.target',
    'EOF',
    'systemctl daemon-reload',
    `systemctl enable --now ${CONTAINER_NAME}-watchdog.timer`,
    '',
    // The worker has no port to probe from here: Docker's health status is its /health/live.
    '# Ready means GET /health = 200 (the service is up and has loaded its scripts into Redis) and a live worker.',
    `worker_live() { [ "$(docker inspect --format '{{.State.Health.Status}}' ${WORKER_CONTAINER_NAME})" = healthy ]; }`,
    `for attempt in $(seq 1 ${Math.ceil(p.healthyWithinSeconds / 5)}); do`,
    `  if curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:${p.servicePort}/health && worker_live; then exit 0; fi`,
    '  sleep 5',
    'done',
    `echo "the service did not answer 200 on /health, or the worker was not live, within ${p.healthyWithinSeconds} s" >&2`,
    ...containers.map((name) => `docker logs --tail 50 ${name} >&2 || true`),
    'exit 1',
  ];
}
