import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { SERVICE_FIGURES } from '../../app/observability/service-figures';
import type { RedisReplicationGroup } from './cache';
import type { Database } from './database';

export interface MonitoringProps {
  readonly alb: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly cache: RedisReplicationGroup;
  readonly database: Database;
  /** where the worker's containers write their `order backlog` lines */
  readonly containerLogGroup: logs.ILogGroup;
  /** the backlog alarm's threshold: age in seconds of the oldest order not yet in PostgreSQL */
  readonly backlogAlarmSeconds: number;
  /** notified of every alarm's ALARM and OK transitions; undefined: nobody is */
  readonly alarmTopic: sns.ITopic | undefined;
}

/** the metric the worker's `order backlog` log lines become */
const BACKLOG_METRIC = {
  namespace: 'FlashSale',
  metricName: 'OrderBacklogOldestAgeSeconds',
} as const;

const GIB = 1024 ** 3;

const MINUTE = Duration.minutes(1);

/** thresholds: why each number, next to the number */
export const ALARM_THRESHOLDS = {
  /** % of requests answered 5xx (by the targets or by the ALB itself) over a minute */
  serverErrorPercent: 5,
  /** any target failing /health for 3 minutes running */
  unhealthyHosts: 1,
  /** % of maxmemory: with noeviction a full cache refuses purchases, so warn well before */
  cacheMemoryPercent: 80,
  /**
   * free database storage: storage autoscaling grows the volume once less than 10% is free for 5 minutes, so
   * at 20 GiB and above, less than 1 GiB free means it could not (at its cap, in its 6 h cooldown, outpaced)
   */
  databaseFreeStorageBytes: 1 * GIB,
} as const;

/**
 * One dashboard for the whole path (ALB, targets, cache, order worker, database) and the alarms that say a
 * flash sale is in trouble. Each alarm notifies the alarm topic (context alarmEmail or alarmTopicArn) when
 * it fires and when it clears; without one, nobody is notified.
 *
 * ElastiCache publishes per node (CacheClusterId). Node ids are derived from the replication group id, so
 * the graphs follow a node, not a role: after a failover the replica line is the old primary.
 */
export class Monitoring extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly serverErrorAlarm: cloudwatch.Alarm;
  public readonly unhealthyHostsAlarm: cloudwatch.Alarm;
  public readonly cacheMemoryAlarm: cloudwatch.Alarm;
  public readonly orderBacklogAlarm: cloudwatch.Alarm;
  public readonly databaseStorageAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { alb, targetGroup, cache, database } = props;
    const albMetrics = alb.metrics;
    const tgMetrics = targetGroup.metrics;

    const requests = albMetrics.requestCount({ period: MINUTE, statistic: 'Sum' });
    const target5xx = albMetrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
      period: MINUTE,
      statistic: 'Sum',
    });
    const elb5xx = albMetrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, {
      period: MINUTE,
      statistic: 'Sum',
    });
    const serverErrorRate = new cloudwatch.MathExpression({
      expression: '100 * (FILL(t5xx, 0) + FILL(e5xx, 0)) / requests',
      usingMetrics: { t5xx: target5xx, e5xx: elb5xx, requests },
      label: '5xx % of requests',
      period: MINUTE,
    });
    const healthy = tgMetrics.healthyHostCount({ period: MINUTE, statistic: 'Minimum' });
    const unhealthy = tgMetrics.unhealthyHostCount({ period: MINUTE, statistic: 'Maximum' });
    const latencyP50 = tgMetrics.targetResponseTime({ period: MINUTE, statistic: 'p50' });
    const latencyP99 = tgMetrics.targetResponseTime({ period: MINUTE, statistic: 'p99' });

    const nodeMetric = (metricName: string, nodeId: string, statistic: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: 'AWS/ElastiCache',
        metricName,
        dimensionsMap: { CacheClusterId: nodeId },
        statistic,
        period: MINUTE,
      });
    const allNodes = cache.nodeIdsByShard.flat();
    const perNode = (metricName: string, statistic: string): cloudwatch.Metric[] =>
      allNodes.map((nodeId, index) =>
        nodeMetric(metricName, nodeId, statistic).with({ label: `node ${index + 1}` }),
      );

    // Every node of a shard holds the same data: one node per shard measures the shard's memory.
    const memoryPerShard = Object.fromEntries(
      cache.nodeIdsByShard.map((nodes, shard) => [
        `shard${shard + 1}`,
        nodeMetric('DatabaseMemoryUsagePercentage', nodes[0] ?? '', 'Maximum'),
      ]),
    );
    const cacheMemory = new cloudwatch.MathExpression({
      expression: `MAX([${Object.keys(memoryPerShard).join(', ')}])`,
      usingMetrics: memoryPerShard,
      label: 'cache memory % (fullest shard)',
      period: MINUTE,
    });

    this.serverErrorAlarm = serverErrorRate.createAlarm(this, 'ServerErrors', {
      alarmDescription: `More than ${ALARM_THRESHOLDS.serverErrorPercent}% of requests answered 5xx for 3 minutes (503 store_unavailable included: Redis trouble shows here first).`,
      threshold: ALARM_THRESHOLDS.serverErrorPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      // no requests is not an error rate
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.unhealthyHostsAlarm = unhealthy.createAlarm(this, 'UnhealthyHosts', {
      alarmDescription:
        'A target has failed GET /health for 3 minutes: it cannot reach Redis, or its container is down.',
      threshold: ALARM_THRESHOLDS.unhealthyHosts,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.cacheMemoryAlarm = cacheMemory.createAlarm(this, 'CacheMemory', {
      alarmDescription: `Cache memory above ${ALARM_THRESHOLDS.cacheMemoryPercent}% of maxmemory for 5 minutes: with noeviction, a full cache refuses purchases.`,
      threshold: ALARM_THRESHOLDS.cacheMemoryPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });

    // Every worker logs its backlog every 30 s. No default value: a minute without any report must stay
    // missing, not become 0, or a dead worker would look like an empty backlog.
    const backlogFilter = new logs.MetricFilter(this, 'OrderBacklogAge', {
      logGroup: props.containerLogGroup,
      filterPattern: logs.FilterPattern.stringValue('$.msg', '=', 'order backlog'),
      metricNamespace: BACKLOG_METRIC.namespace,
      metricName: BACKLOG_METRIC.metricName,
      metricValue: '$.oldestPendingAgeSeconds',
      unit: cloudwatch.Unit.SECONDS,
    });
    const backlogAge = backlogFilter.metric({
      period: MINUTE,
      statistic: 'Maximum',
      label: 'oldest order not yet in PostgreSQL (s, worst worker)',
    });
    this.orderBacklogAlarm = backlogAge.createAlarm(this, 'OrderBacklog', {
      alarmDescription: `The oldest order not yet in PostgreSQL is older than ${props.backlogAlarmSeconds} s, or no worker has reported for 2 of the last 3 minutes: orders are taken but not recorded.`,
      threshold: props.backlogAlarmSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      // 2 of 3: one late batch of log lines does not page, a backlog that keeps growing does
      datapointsToAlarm: 2,
      // Silence is a failure here: the worker reports every 30 s whatever the backlog, so no report means
      // no worker is running (or none can log), and the orders wait in Redis with no one moving them.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });

    const dbMetric = (metric: cloudwatch.Metric, statistic: string, label: string): cloudwatch.Metric =>
      metric.with({ period: MINUTE, statistic, label });
    const freeStorage = dbMetric(database.instance.metricFreeStorageSpace(), 'Minimum', 'free storage');
    this.databaseStorageAlarm = freeStorage.createAlarm(this, 'DatabaseStorage', {
      alarmDescription: `Less than ${ALARM_THRESHOLDS.databaseFreeStorageBytes / GIB} GiB free on the database for 5 minutes, and storage autoscaling has not grown it: a full PostgreSQL refuses the worker's inserts.`,
      threshold: ALARM_THRESHOLDS.databaseFreeStorageBytes,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 5,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });

    if (props.alarmTopic !== undefined) {
      const action = new cloudwatchActions.SnsAction(props.alarmTopic);
      for (const alarm of this.alarms()) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }

    const graph = (title: string, left: cloudwatch.IMetric[], unit?: string): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({
        title,
        left,
        width: 8,
        height: 6,
        ...(unit === undefined ? {} : { leftYAxis: { label: unit, showUnits: false, min: 0 } }),
      });

    // The service's own figures (METRICS_EMF=on in the boot script): each instance writes one EMF line a
    // minute into the container log group, and CloudWatch adds the instances up.
    const figure = (metricName: string, statistic: string, label: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: SERVICE_FIGURES.namespace,
        metricName,
        dimensionsMap: { [SERVICE_FIGURES.dimension.name]: SERVICE_FIGURES.dimension.value },
        statistic,
        period: MINUTE,
        label,
      });
    const outcomes: [string, string][] = [
      ...Object.entries(SERVICE_FIGURES.purchaseOutcomes).map(([outcome, metricName]): [string, string] => [
        metricName,
        outcome,
      ]),
      [SERVICE_FIGURES.otherPurchases, 'other refusals'],
    ];
    const serviceRow = [
      graph(
        'Purchases by outcome / minute',
        outcomes.map(([metricName, label]) => figure(metricName, 'Sum', label)),
      ),
      graph('Sold-out refusals and 503s / minute', [
        figure(SERVICE_FIGURES.purchaseOutcomes.sold_out, 'Sum', 'sold_out (409)'),
        figure(SERVICE_FIGURES.responses503, 'Sum', '503 answers, every route'),
      ]),
      graph(
        'Purchase latency (ms, slowest instance)',
        [
          figure(SERVICE_FIGURES.latencyP50, 'Maximum', 'p50'),
          figure(SERVICE_FIGURES.latencyP99, 'Maximum', 'p99'),
        ],
        'ms',
      ),
    ];

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        serviceRow,
        [
          graph('ALB requests / minute', [requests]),
          graph('5xx / minute', [
            target5xx.with({ label: 'from targets' }),
            elb5xx.with({ label: 'from ALB' }),
          ]),
          graph('Target response time (s)', [
            latencyP50.with({ label: 'p50' }),
            latencyP99.with({ label: 'p99' }),
          ]),
        ],
        [
          graph('Healthy / unhealthy hosts', [
            healthy.with({ label: 'healthy' }),
            unhealthy.with({ label: 'unhealthy' }),
          ]),
          graph('Cache engine CPU %', perNode('EngineCPUUtilization', 'Maximum'), '%'),
          graph('Cache memory % of maxmemory', perNode('DatabaseMemoryUsagePercentage', 'Maximum'), '%'),
        ],
        [
          graph('Cache replication lag (s, replicas)', perNode('ReplicationLag', 'Maximum'), 's'),
          new cloudwatch.GraphWidget({
            title: 'Order backlog: oldest pending (s)',
            left: [backlogAge],
            leftAnnotations: [{ value: props.backlogAlarmSeconds, label: 'alarm' }],
            leftYAxis: { label: 's', showUnits: false, min: 0 },
            width: 8,
            height: 6,
          }),
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: this.alarms(),
            width: 8,
            height: 6,
          }),
        ],
        [
          graph(
            'Database CPU %',
            [dbMetric(database.instance.metricCPUUtilization(), 'Maximum', 'CPU')],
            '%',
          ),
          graph('Database connections', [
            dbMetric(database.instance.metricDatabaseConnections(), 'Maximum', 'connections'),
          ]),
          new cloudwatch.GraphWidget({
            title: 'Database free storage (bytes)',
            left: [freeStorage],
            leftAnnotations: [{ value: ALARM_THRESHOLDS.databaseFreeStorageBytes, label: 'alarm' }],
            leftYAxis: { min: 0 },
            width: 8,
            height: 6,
          }),
        ],
      ],
    });
  }

  /** every alarm of the stack */
  alarms(): cloudwatch.Alarm[] {
    return [
      this.serverErrorAlarm,
      this.unhealthyHostsAlarm,
      this.cacheMemoryAlarm,
      this.orderBacklogAlarm,
      this.databaseStorageAlarm,
    ];
  }
}
