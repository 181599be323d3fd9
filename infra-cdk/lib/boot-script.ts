import * as fs from 'node:fs';
import * as path from 'node:path';
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

/** the instance's boot script, a real shell file: shellcheck lints it, and a test runs its retry function */
export const BOOT_SCRIPT_FILE = path.join(__dirname, '..', 'assets', 'boot.sh');

const PLACEHOLDER = /@([A-Z][A-Z0-9_]*)@/g;

/**
 * Fills in the script's @NAME@ placeholders and drops what only its readers and shellcheck need: `##`
 * comment lines, `# shellcheck` directives, and its shebang (CDK's user data has its own). A placeholder without a value, or a value without a placeholder, is a bug here, not a
 * broken boot found after a deployment, so both throw.
 */
export function renderScript(script: string, values: Readonly<Record<string, string>>): string {
  const used = new Set<string>();
  const lines = script
    .split('\n')
    .filter((line, index) => !/^\s*(##|# shellcheck )/.test(line) && !(index === 0 && line.startsWith('#!')))
    .join('\n')
    .replace(PLACEHOLDER, (_match, name: string) => {
      const value = values[name];
      if (value === undefined) throw new Error(`boot script: no value for @${name}@`);
      used.add(name);
      return value;
    });
  const unused = Object.keys(values).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`boot script: no placeholder for ${unused.join(', ')}`);
  return lines;
}

/**
 * The instance's user data (see infra-cdk/assets/boot.sh for what it does and why), as lines for
 * `UserData.addCommands`, with this stack's values in it.
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
    // the service's own figures for the dashboard, as EMF lines that the awslogs driver ships
    'METRICS_EMF=on',
  ];
  const script = renderScript(fs.readFileSync(BOOT_SCRIPT_FILE, 'utf8'), {
    REGION: p.region,
    IMAGE_URI: p.imageUri,
    LOG_GROUP: p.logGroupName,
    SERVICE_PORT: String(p.servicePort),
    ADMIN_TOKEN_SECRET: p.adminTokenSecretArn,
    REDIS_AUTH_TOKEN_SECRET: p.redisAuthTokenSecretArn,
    REDIS_CONNECTION_SECRET: p.redisConnectionSecretArn,
    REDIS_ENDPOINT: p.redisEndpoint,
    DATABASE_SECRET: p.databaseSecretArn,
    DATABASE_ENDPOINT: p.databaseEndpoint,
    DATABASE_NAME: p.databaseName,
    SERVICE_SETTINGS: settings.join('\n'),
    DOCKER_STOP_TIMEOUT_SECONDS: String(p.shutdown.dockerStopTimeoutSeconds),
    HEALTH_CHECKS: String(Math.ceil(p.healthyWithinSeconds / 5)),
    HEALTHY_WITHIN_SECONDS: String(p.healthyWithinSeconds),
    CONTAINER_NAME,
    WORKER_CONTAINER_NAME,
    ENV_FILE,
    DB_CA_FILE,
    DB_CA_DIRECTORY: path.posix.dirname(DB_CA_FILE),
    DB_CA_IN_CONTAINER,
    ENV_DIRECTORY: path.posix.dirname(ENV_FILE),
  });
  return script.replace(/\n+$/, '').split('\n');
}
