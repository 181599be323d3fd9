import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { readWholeNumber } from '../../app/whole-number';

/**
 * Every knob an operator can turn with `cdk deploy -c name=value`, in one table: its default, what it accepts
 * and what it means. The context table of docs/operations.md is written from this one. Values arrive as strings from the
 * command line and as JSON values from cdk.json; both are accepted, and a bad value stops synthesis with a
 * message that names the option, the value and what was expected.
 */
export interface DeploymentSettings {
  /** EC2 instance type of the fleet; a Graviton type (t4g, c7g, ...) builds and runs an arm64 image */
  readonly instanceType: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** target tracking: ALB requests per instance per minute the fleet scales to hold */
  readonly requestsPerInstancePerMinute: number;
  /** ACM certificate for an HTTPS listener; with it, HTTP answers with a redirect to HTTPS */
  readonly certificateArn: string | undefined;
  /** the race demo's POST /purchase/unsafe; off in the deployed service unless asked for */
  readonly enableUnsafeEndpoint: boolean;
  /** 0: cluster mode disabled (one shard); 1..10: cluster mode enabled with that many shards */
  readonly cacheShards: number;
  readonly cacheNodeType: string;
  /** replicas per shard; at least one, for Multi-AZ automatic failover */
  readonly replicasPerShard: number;
  /** NAT gateways: one per AZ (2) keeps each AZ's egress independent; 1 is cheaper */
  readonly natGateways: number;
  /** days CloudWatch keeps the service's container logs and the VPC flow log */
  readonly logRetentionDays: RetentionDays;
  /**
   * REDIS_WAIT_REPLICAS: a purchase is answered 200 only once this many replicas hold it (0: as soon as the
   * primary does). Cluster mode disabled only, at most replicasPerShard.
   */
  readonly waitReplicas: number;
  /**
   * RDS instance class of PostgreSQL. Every fleet instance opens up to two pools of DATABASE_POOL_SIZE (4)
   * connections, the service's and the worker's: db.t4g.small allows about 190, db.t4g.micro about 80.
   */
  readonly databaseInstanceType: string;
  /** a standby in another AZ with automatic failover; doubles the instance and storage cost */
  readonly databaseMultiAz: boolean;
  /** days RDS keeps automated backups (point-in-time recovery) */
  readonly databaseBackupDays: number;
  /** on: `cdk destroy` and a replacing deployment cannot delete the database until it is switched off */
  readonly databaseDeletionProtection: boolean;
  /**
   * AWS WAF's rate-based rule: requests one client address may send in any 5 minutes (reads included)
   * before the edge blocks it; the service's own per-address purchase limit sits below it
   */
  readonly wafRequestsPerIpPer5Minutes: number;
  /** the alarm fires when the oldest order not yet in PostgreSQL is older than this many seconds */
  readonly backlogAlarmSeconds: number;
  /**
   * a throw-away stack: `cdk destroy` deletes the cache and the database without a final snapshot, and the
   * database's deletion protection is off. Off: removing or replacing either leaves a final snapshot.
   */
  readonly disposable: boolean;
  /** an address the alarms notify (a new SNS topic with an email subscription, confirmed by its owner) */
  readonly alarmEmail: string | undefined;
  /** an existing SNS topic the alarms notify instead; with neither, no alarm notifies anyone */
  readonly alarmTopicArn: string | undefined;
}

/** The retention periods CloudWatch Logs accepts (a log group rejects any other number of days). */
const LOG_RETENTION_DAYS = Object.values(RetentionDays).filter(
  (days): days is RetentionDays => typeof days === 'number' && days !== RetentionDays.INFINITE,
);

/** More shards would need more than one memory alarm (an alarm's metric math takes at most ten metrics). */
export const MAX_CACHE_SHARDS = 10;

export const DEFAULT_SETTINGS: DeploymentSettings = {
  instanceType: 't3.small',
  minCapacity: 2,
  maxCapacity: 10,
  requestsPerInstancePerMinute: 30_000,
  certificateArn: undefined,
  enableUnsafeEndpoint: false,
  cacheShards: 0,
  cacheNodeType: 'cache.t4g.small',
  replicasPerShard: 1,
  natGateways: 2,
  logRetentionDays: RetentionDays.ONE_MONTH,
  waitReplicas: 0,
  databaseInstanceType: 'db.t4g.small',
  databaseMultiAz: false,
  databaseBackupDays: 7,
  databaseDeletionProtection: true,
  backlogAlarmSeconds: 120,
  disposable: false,
  alarmEmail: undefined,
  alarmTopicArn: undefined,
  wafRequestsPerIpPer5Minutes: 2000,
};

export class ContextError extends Error {
  constructor(name: string, value: unknown, expected: string) {
    super(`context ${name}=${JSON.stringify(value)} is invalid: expected ${expected}`);
    this.name = 'ContextError';
  }
}

function integer(node: Node, name: keyof DeploymentSettings, min: number, max: number): number {
  const raw: unknown = node.tryGetContext(name);
  const fallback = DEFAULT_SETTINGS[name];
  if (raw === undefined) return fallback as number;
  const text = typeof raw === 'number' ? String(raw) : raw;
  const value = typeof text === 'string' ? readWholeNumber(text.trim()) : undefined;
  if (value === undefined || value < min || value > max) {
    throw new ContextError(name, raw, `an integer from ${min} to ${max}`);
  }
  return value;
}

function boolean(node: Node, name: keyof DeploymentSettings): boolean {
  const raw: unknown = node.tryGetContext(name);
  if (raw === undefined) return DEFAULT_SETTINGS[name] as boolean;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new ContextError(name, raw, 'true or false');
}

function text(
  node: Node,
  name: keyof DeploymentSettings,
  pattern: RegExp,
  expected: string,
): string | undefined {
  const raw: unknown = node.tryGetContext(name);
  if (raw === undefined || raw === '') return DEFAULT_SETTINGS[name] as string | undefined;
  if (typeof raw !== 'string' || !pattern.test(raw)) throw new ContextError(name, raw, expected);
  return raw;
}

/** Reads and validates the deployment's context; see DeploymentSettings for what each option means. */
export function readContext(node: Node): DeploymentSettings {
  const instanceType = text(
    node,
    'instanceType',
    /^[a-z][a-z0-9-]*\.[a-z0-9]+$/,
    'an EC2 instance type such as t3.small or c7g.large',
  );
  const cacheNodeType = text(
    node,
    'cacheNodeType',
    /^cache\.[a-z][a-z0-9-]*\.[a-z0-9]+$/,
    'an ElastiCache node type such as cache.t4g.small or cache.r7g.large',
  );
  const databaseInstanceType = text(
    node,
    'databaseInstanceType',
    /^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$/,
    'an RDS instance class such as db.t4g.small or db.m7g.large',
  );
  const certificateArn = text(
    node,
    'certificateArn',
    /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
    'an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)',
  );
  const minCapacity = integer(node, 'minCapacity', 1, 100);
  const maxCapacity = integer(node, 'maxCapacity', 1, 100);
  if (minCapacity > maxCapacity) {
    throw new ContextError('maxCapacity', maxCapacity, `at least minCapacity (${minCapacity})`);
  }
  const days = integer(node, 'logRetentionDays', 1, 3653);
  const logRetentionDays = new Map<number, RetentionDays>(LOG_RETENTION_DAYS.map((d) => [d, d])).get(days);
  if (logRetentionDays === undefined) {
    throw new ContextError('logRetentionDays', days, `one of ${LOG_RETENTION_DAYS.join(', ')}`);
  }
  const cacheShards = integer(node, 'cacheShards', 0, MAX_CACHE_SHARDS);
  const replicasPerShard = integer(node, 'replicasPerShard', 1, 5);
  const waitReplicas = integer(node, 'waitReplicas', 0, 5);
  // Both would only show after the deployment: a service that refuses to start, or one whose every WAIT
  // times out, so that no purchase is ever answered 200.
  if (waitReplicas > 0 && cacheShards > 0) {
    throw new ContextError(
      'waitReplicas',
      waitReplicas,
      '0 with cacheShards > 0 (the service refuses REDIS_WAIT_REPLICAS on a cluster: WAIT would not reach the shard that took the purchase)',
    );
  }
  const disposable = boolean(node, 'disposable');
  // A disposable stack must be destroyable: its database's deletion protection follows, unless asked for.
  const databaseDeletionProtection =
    node.tryGetContext('databaseDeletionProtection') === undefined && disposable
      ? false
      : boolean(node, 'databaseDeletionProtection');
  if (disposable && databaseDeletionProtection) {
    throw new ContextError(
      'databaseDeletionProtection',
      true,
      'false with disposable=true (a protected database would stop `cdk destroy`)',
    );
  }
  const alarmEmail = text(node, 'alarmEmail', /^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an email address');
  const alarmTopicArn = text(
    node,
    'alarmTopicArn',
    /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/,
    'an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)',
  );
  if (alarmEmail !== undefined && alarmTopicArn !== undefined) {
    throw new ContextError('alarmTopicArn', alarmTopicArn, 'not both alarmEmail and alarmTopicArn');
  }
  if (waitReplicas > replicasPerShard) {
    throw new ContextError('waitReplicas', waitReplicas, `at most replicasPerShard (${replicasPerShard})`);
  }
  return {
    instanceType: instanceType ?? DEFAULT_SETTINGS.instanceType,
    minCapacity,
    maxCapacity,
    requestsPerInstancePerMinute: integer(node, 'requestsPerInstancePerMinute', 60, 10_000_000),
    certificateArn,
    enableUnsafeEndpoint: boolean(node, 'enableUnsafeEndpoint'),
    cacheShards,
    cacheNodeType: cacheNodeType ?? DEFAULT_SETTINGS.cacheNodeType,
    replicasPerShard,
    natGateways: integer(node, 'natGateways', 1, 2),
    logRetentionDays,
    waitReplicas,
    databaseInstanceType: databaseInstanceType ?? DEFAULT_SETTINGS.databaseInstanceType,
    databaseMultiAz: boolean(node, 'databaseMultiAz'),
    // RDS keeps automated backups for 1 to 35 days; 0 (no backups) is not offered for the system of record.
    databaseBackupDays: integer(node, 'databaseBackupDays', 1, 35),
    databaseDeletionProtection,
    // the worker reports every 30 s: a shorter threshold would measure its reporting, not the backlog
    backlogAlarmSeconds: integer(node, 'backlogAlarmSeconds', 30, 86_400),
    disposable,
    alarmEmail,
    alarmTopicArn,
    // AWS WAF accepts 10 to 2,000,000,000
    wafRequestsPerIpPer5Minutes: integer(node, 'wafRequestsPerIpPer5Minutes', 10, 2_000_000_000),
  };
}
