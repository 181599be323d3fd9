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
  readonly unsafeEndpoint: boolean;
  /** REDIS_WAIT_REPLICAS */
  readonly waitReplicas: number;
  readonly shutdown: ShutdownTiming;
  /** how long the script waits for GET /health to answer 200 before it reports a failed boot */
  readonly healthyWithinSeconds: number;
}

export const CONTAINER_NAME = 'flash-sale';
export const ENV_FILE = '/etc/flash-sale/service.env';

/**
 * The instance's user data (bash, run once as root by cloud-init). It installs Docker, assembles the service's
 * environment from Secrets Manager into a root-only env file, runs the image, and exits 0 only once GET /health
 * answers 200, which the exit trap reports to CloudFormation (cfn-signal): a deployment whose instances cannot
 * reach Redis fails and rolls back instead of leaving a fleet that never serves.
 *
 * Never `set -x` here: the trace would copy the tokens into /var/log/cloud-init-output.log.
 */
export function bootScript(p: BootScriptParams): string[] {
  const settings = [
    'NODE_ENV=production',
    `PORT=${p.servicePort}`,
    `UNSAFE_ENDPOINT=${p.unsafeEndpoint ? 'on' : 'off'}`,
    `REDIS_WAIT_REPLICAS=${p.waitReplicas}`,
    `SHUTDOWN_DRAIN_MS=${p.shutdown.drainMs}`,
    `SHUTDOWN_TIMEOUT_MS=${p.shutdown.timeoutMs}`,
  ];
  return [
    'set -euo pipefail',
    `REGION=${p.region}`,
    `IMAGE=${p.imageUri}`,
    // First, cfn-signal (not preinstalled on AL2023), so that any later failure is reported at once by the
    // exit trap instead of CloudFormation waiting out its timeout. jq turns the connection secret into env lines.
    'dnf install -y aws-cfn-bootstrap',
    'dnf install -y docker jq',
    'systemctl enable --now docker',
    '',
    'IMDS_TOKEN=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")',
    'INSTANCE_ID=$(curl -fsS -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" http://169.254.169.254/latest/meta-data/instance-id)',
    '',
    '# The environment: settings from the template, connection and credentials from Secrets Manager.',
    // Instances read the connection once, at boot. Naming the endpoint here makes a new cache (another shard
    // count, a replaced group) a new launch template version, so the rolling update moves the fleet onto it;
    // otherwise `cdk deploy` would succeed and leave every instance on the deleted cache.
    `# cache: ${p.redisEndpoint} (the connection secret below holds it with the mode and TLS switch)`,
    'secret() { aws secretsmanager get-secret-value --region "$REGION" --secret-id "$1" --query SecretString --output text; }',
    `REDIS_CONNECTION=$(secret '${p.redisConnectionSecretArn}')`,
    `REDIS_PASSWORD=$(secret '${p.redisAuthTokenSecretArn}')`,
    `ADMIN_TOKEN=$(secret '${p.adminTokenSecretArn}')`,
    `install -d -m 0700 ${ENV_FILE.slice(0, ENV_FILE.lastIndexOf('/'))}`,
    'umask 077',
    `cat > ${ENV_FILE} <<EOF`,
    ...settings,
    'INSTANCE_ID=$INSTANCE_ID',
    'REDIS_PASSWORD=$REDIS_PASSWORD',
    'ADMIN_TOKEN=$ADMIN_TOKEN',
    'EOF',
    `jq -r 'to_entries[] | "\\(.key)=\\(.value)"' <<<"$REDIS_CONNECTION" >> ${ENV_FILE}`,
    'unset REDIS_PASSWORD ADMIN_TOKEN',
    '',
    '# ECR keeps the image built from the repository by `cdk deploy`.',
    'aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "${IMAGE%%/*}"',
    'docker pull "$IMAGE"',
    // --restart: Docker starts the container again when the process exits, and after a reboot.
    // --stop-timeout: `docker stop` (and the daemon on shutdown) waits out the graceful stop before SIGKILL.
    // Bridge networking: with the IMDS hop limit of 1 the container cannot borrow the instance's role.
    // awslogs non-blocking: a CloudWatch Logs hiccup drops log lines rather than stalling the service.
    `docker run -d --name ${CONTAINER_NAME} --restart unless-stopped \\`,
    `  --stop-timeout ${p.shutdown.dockerStopTimeoutSeconds} \\`,
    `  --env-file ${ENV_FILE} \\`,
    `  -p ${p.servicePort}:${p.servicePort} \\`,
    '  --ulimit nofile=65536:65536 \\',
    '  --log-driver awslogs \\',
    '  --log-opt awslogs-region="$REGION" \\',
    `  --log-opt awslogs-group='${p.logGroupName}' \\`,
    '  --log-opt awslogs-stream="$INSTANCE_ID" \\',
    '  --log-opt mode=non-blocking --log-opt max-buffer-size=4m \\',
    '  "$IMAGE"',
    '',
    // Docker's HEALTHCHECK (the image probes /health/live) only marks a container unhealthy; it never
    // restarts it. This timer does, so a wedged process is replaced on the instance, not by replacing it.
    `cat > /usr/local/bin/${CONTAINER_NAME}-watchdog <<'EOF'`,
    '#!/bin/sh',
    `status=$(docker inspect --format '{{.State.Health.Status}}' ${CONTAINER_NAME} 2>/dev/null || true)`,
    'if [ "$status" = unhealthy ]; then',
    `  logger -t ${CONTAINER_NAME}-watchdog "/health/live failing: restarting the container"`,
    `  docker restart ${CONTAINER_NAME}`,
    'fi',
    'EOF',
    `chmod 0755 /usr/local/bin/${CONTAINER_NAME}-watchdog`,
    `cat > /etc/systemd/system/${CONTAINER_NAME}-watchdog.service <<'EOF'`,
    '[Unit]',
    'Description=Restart the flash-sale container when its liveness check fails',
    'After=docker.service',
    '[Service]',
    'Type=oneshot',
    `ExecStart=/usr/local/bin/${CONTAINER_NAME}-watchdog`,
    'EOF',
    `cat > /etc/systemd/system/${CONTAINER_NAME}-watchdog.timer <<'EOF'`,
    '[Unit]',
    'Description=Check the flash-sale container every 30 seconds',
    '[Timer]',
    'OnBootSec=2min',
    'OnUnitActiveSec=30s',
    '[Install]',
    'WantedBy=timers.target',
    'EOF',
    'systemctl daemon-reload',
    `systemctl enable --now ${CONTAINER_NAME}-watchdog.timer`,
    '',
    '# Ready means GET /health = 200: the service is up and has loaded its scripts into Redis.',
    `for attempt in $(seq 1 ${Math.ceil(p.healthyWithinSeconds / 5)}); do`,
    `  if curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:${p.servicePort}/health; then exit 0; fi`,
    '  sleep 5',
    'done',
    `echo "the service did not answer 200 on /health within ${p.healthyWithinSeconds} s" >&2`,
    `docker logs --tail 50 ${CONTAINER_NAME} >&2 || true`,
    'exit 1',
  ];
}
