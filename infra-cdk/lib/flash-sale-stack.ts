import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { RedisReplicationGroup } from './cache';
import { alarmTopic } from './alarm-topic';
import { readContext } from './context';
import { Database } from './database';
import { Fleet } from './fleet';
import { shutdownTiming, TARGET_HEALTH_CHECK } from './graceful-shutdown';
import { LoadBalancer } from './load-balancer';
import { Monitoring } from './monitoring';
import { Network } from './network';
import { ServiceSecrets } from './service-secrets';
import { WebAcl } from './web-acl';

/** the port the image listens on (PORT in the Dockerfile) */
const SERVICE_PORT = 3000;

/**
 * The flash-sale service on AWS: VPC, ALB, an Auto Scaling Group running the service's image and its order
 * worker, ElastiCache for Redis, RDS for PostgreSQL, and the dashboard and alarms over them. Its options
 * come from CDK context (lib/context.ts). It is environment-agnostic on purpose: synthesis needs no
 * credentials and performs no lookups.
 */
export class FlashSaleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const settings = readContext(this.node);
    const shutdown = shutdownTiming(TARGET_HEALTH_CHECK);

    const network = new Network(this, 'Network', {
      natGateways: settings.natGateways,
      logRetentionDays: settings.logRetentionDays,
    });

    const cache = new RedisReplicationGroup(this, 'Cache', {
      vpc: network.vpc,
      subnets: network.cacheSubnets,
      nodeType: settings.cacheNodeType,
      shards: settings.cacheShards,
      replicasPerShard: settings.replicasPerShard,
      disposable: settings.disposable,
    });
    const secrets = new ServiceSecrets(this, 'Secrets', { cache });

    const database = new Database(this, 'Database', {
      vpc: network.vpc,
      subnets: network.databaseSubnets,
      instanceType: settings.databaseInstanceType,
      multiAz: settings.databaseMultiAz,
      backupDays: settings.databaseBackupDays,
      deletionProtection: settings.databaseDeletionProtection,
      disposable: settings.disposable,
    });

    const loadBalancer = new LoadBalancer(this, 'LoadBalancer', {
      vpc: network.vpc,
      subnets: network.albSubnets,
      servicePort: SERVICE_PORT,
      certificateArn: settings.certificateArn,
      healthCheck: TARGET_HEALTH_CHECK,
      shutdown,
    });

    new WebAcl(this, 'WebAcl', {
      alb: loadBalancer.alb,
      requestsPerIpPer5Minutes: settings.wafRequestsPerIpPer5Minutes,
      logRetentionDays: settings.logRetentionDays,
    });

    const fleet = new Fleet(this, 'Fleet', {
      vpc: network.vpc,
      subnets: network.fleetSubnets,
      instanceType: settings.instanceType,
      minCapacity: settings.minCapacity,
      maxCapacity: settings.maxCapacity,
      requestsPerInstancePerMinute: settings.requestsPerInstancePerMinute,
      targetGroup: loadBalancer.targetGroup,
      loadBalancer: loadBalancer.alb,
      servicePort: SERVICE_PORT,
      secrets,
      database,
      unsafeEndpoint: settings.enableUnsafeEndpoint,
      waitReplicas: settings.waitReplicas,
      shutdown,
      logRetentionDays: settings.logRetentionDays,
    });
    cache.connections.allowDefaultPortFrom(fleet.securityGroup, 'the fleet, to Redis');
    database.connections.allowDefaultPortFrom(fleet.securityGroup, 'the fleet, to PostgreSQL');

    const monitoring = new Monitoring(this, 'Monitoring', {
      alb: loadBalancer.alb,
      targetGroup: loadBalancer.targetGroup,
      cache,
      database,
      containerLogGroup: fleet.logGroup,
      backlogAlarmSeconds: settings.backlogAlarmSeconds,
      alarmTopic: alarmTopic(this, settings),
    });

    new CfnOutput(this, 'AlbUrl', {
      description: 'The service, for the attack harness: npm run attack -- --target <this>',
      value: loadBalancer.url,
    });
    new CfnOutput(this, 'CacheEndpoint', {
      description: cache.clusterMode ? 'Configuration endpoint (cluster mode)' : 'Primary endpoint',
      value: `${cache.endpointAddress}:${cache.port}`,
    });
    new CfnOutput(this, 'AdminTokenSecretName', {
      description:
        'aws secretsmanager get-secret-value --secret-id <this> --query SecretString --output text',
      value: secrets.adminToken.secretName,
    });
    new CfnOutput(this, 'DatabaseEndpoint', {
      description: 'PostgreSQL (TLS only), reachable from the fleet only',
      value: `${database.endpointAddress}:${database.port}`,
    });
    new CfnOutput(this, 'DatabaseSecretName', {
      description:
        'Username, password, host and port: aws secretsmanager get-secret-value --secret-id <this> --query SecretString',
      value: database.secret.secretName,
    });
    new CfnOutput(this, 'ContainerLogGroup', { value: fleet.logGroup.logGroupName });
    new CfnOutput(this, 'DashboardUrl', {
      description:
        'The CloudWatch dashboard: the service, the cache, the order worker, the database, the alarms',
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${monitoring.dashboard.dashboardName}`,
    });
  }
}
