import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface RedisReplicationGroupProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly nodeType: string;
  /** 0: cluster mode disabled (one shard, primary endpoint); n > 0: cluster mode enabled with n shards */
  readonly shards: number;
  readonly replicasPerShard: number;
  /** true: deleting or replacing the group drops its data; false: it leaves a final snapshot */
  readonly disposable: boolean;
}

/** days of daily automatic snapshots: a bad restock or a flushed key can be undone from one of them */
export const SNAPSHOT_RETENTION_DAYS = 7;

const ENGINE_VERSION = '7.1';
const PARAMETER_GROUP_FAMILY = 'redis7';

/**
 * ElastiCache for Redis OSS as a replication group (there is no high-level CDK construct for one):
 * Multi-AZ with automatic failover, TLS in transit, encryption at rest and an AUTH token that CloudFormation
 * reads from Secrets Manager through a dynamic reference, so its value never appears in the template.
 *
 * The service keeps every key of one SKU under one hash tag, so the same Lua scripts run with cluster mode
 * disabled (the service connects to the primary endpoint) or enabled (it seeds from the configuration
 * endpoint). Switching between the two replaces the replication group: its data is in the final snapshot.
 */
export class RedisReplicationGroup extends Construct {
  public readonly replicationGroup: elasticache.CfnReplicationGroup;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly connections: ec2.Connections;
  public readonly authToken: secretsmanager.Secret;
  public readonly port = 6379;
  public readonly clusterMode: boolean;
  /** the primary endpoint, or with cluster mode the configuration endpoint */
  public readonly endpointAddress: string;
  /** the member cache clusters (nodes), by shard: their ids are the CloudWatch CacheClusterId dimension */
  public readonly nodeIdsByShard: readonly (readonly string[])[];

  constructor(scope: Construct, id: string, props: RedisReplicationGroupProps) {
    super(scope, id);
    this.clusterMode = props.shards > 0;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Flash-sale cache: Redis from the fleet only',
      // Redis never opens connections of its own.
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({
      securityGroups: [this.securityGroup],
      defaultPort: ec2.Port.tcp(this.port),
    });

    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: 'Flash-sale cache subnets (isolated, one per AZ)',
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
    });

    const parameterGroup = new elasticache.CfnParameterGroup(this, 'Parameters', {
      cacheParameterGroupFamily: PARAMETER_GROUP_FAMILY,
      description: 'Flash-sale: stock and orders must never be evicted',
      properties: {
        // Stock is the source of truth: a full cache must refuse writes, never drop keys.
        'maxmemory-policy': 'noeviction',
        'cluster-enabled': this.clusterMode ? 'yes' : 'no',
      },
    });

    this.authToken = new secretsmanager.Secret(this, 'AuthToken', {
      description: 'Flash-sale: Redis AUTH token of the cache (REDIS_PASSWORD of the service)',
      // ElastiCache accepts 16..128 characters: letters, digits and only the specials ! & # $ ^ < > -.
      // Letters and digits alone satisfy it, and avoid every quoting problem in URLs, env files and shells.
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(this.authToken).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating an ElastiCache AUTH token takes two ModifyReplicationGroup calls (ROTATE, then SET) and a ' +
        'restart of every service instance in between; that runbook is not automated yet.',
    });

    const topology = this.clusterMode
      ? { numNodeGroups: props.shards, replicasPerNodeGroup: props.replicasPerShard }
      : { numCacheClusters: 1 + props.replicasPerShard };

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: 'Flash-sale stock, orders and idempotency records',
      engine: 'redis',
      engineVersion: ENGINE_VERSION,
      cacheNodeType: props.nodeType,
      port: this.port,
      ...topology,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      authToken: this.authToken.secretValue.unsafeUnwrap(),
      cacheSubnetGroupName: subnetGroup.ref,
      cacheParameterGroupName: parameterGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      autoMinorVersionUpgrade: true,
      snapshotRetentionLimit: SNAPSHOT_RETENTION_DAYS,
      // after the nightly low (UTC); ElastiCache takes it from a replica, so the primary keeps serving
      snapshotWindow: '03:00-05:00',
    });
    // Stock, orders not yet in PostgreSQL and idempotency records live only here: `cdk destroy`, or a change
    // that replaces the group (the cluster mode switch, a new subnet group), leaves a final snapshot to
    // restore from, unless the stack is a throw-away one.
    this.replicationGroup.applyRemovalPolicy(
      props.disposable ? RemovalPolicy.DESTROY : RemovalPolicy.SNAPSHOT,
    );
    Validations.of(this.replicationGroup).acknowledge({
      id: 'AwsSolutions-AEC5',
      reason:
        'A non-default port hides nothing from a scanner inside the VPC; the security group admits only the ' +
        'fleet, and every connection needs TLS and the AUTH token.',
    });

    this.endpointAddress = this.clusterMode
      ? this.replicationGroup.attrConfigurationEndPointAddress
      : this.replicationGroup.attrPrimaryEndPointAddress;

    const groupId = this.replicationGroup.ref;
    const nodesPerShard = 1 + props.replicasPerShard;
    const pad = (n: number, width: number): string => String(n).padStart(width, '0');
    this.nodeIdsByShard = this.clusterMode
      ? Array.from({ length: props.shards }, (_, shard) =>
          Array.from(
            { length: nodesPerShard },
            (_, node) => `${groupId}-${pad(shard + 1, 4)}-${pad(node + 1, 3)}`,
          ),
        )
      : [Array.from({ length: nodesPerShard }, (_, node) => `${groupId}-${pad(node + 1, 3)}`)];
  }
}
