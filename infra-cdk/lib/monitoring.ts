import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { RedisReplicationGroup } from './cache';

export interface MonitoringProps {
  readonly alb: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly cache: RedisReplicationGroup;
}

const MINUTE = Duration.minutes(1);

/** thresholds: why each number, next to the number */
export const ALARM_THRESHOLDS = {
  /** % of requests answered 5xx (by the targets or by the ALB itself) over a minute */
  serverErrorPercent: 5,
  /** any target failing /health for 3 minutes running */
  unhealthyHosts: 1,
  /** % of maxmemory: with noeviction a full cache refuses purchases, so warn well before */
  cacheMemoryPercent: 80,
} as const;

/**
 * One dashboard for the whole path (ALB, targets, cache) and the three alarms that say a flash sale is in
 * trouble. The alarms have no actions: subscribe a topic to them (`alarm.addAlarmAction`) where you deploy.
 *
 * ElastiCache publishes per node (CacheClusterId). Node ids are derived from the replication group id, so
 * the graphs follow a node, not a role: after a failover the replica line is the old primary.
 */
export class Monitoring extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly serverErrorAlarm: cloudwatch.Alarm;
  public readonly unhealthyHostsAlarm: cloudwatch.Alarm;
  public readonly cacheMemoryAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { alb, targetGroup, cache } = props;
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

    const graph = (title: string, left: cloudwatch.IMetric[], unit?: string): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({
        title,
        left,
        width: 8,
        height: 6,
        ...(unit === undefined ? {} : { leftYAxis: { label: unit, showUnits: false, min: 0 } }),
      });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
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
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: [this.serverErrorAlarm, this.unhealthyHostsAlarm, this.cacheMemoryAlarm],
            width: 8,
            height: 6,
          }),
        ],
      ],
    });
  }
}
