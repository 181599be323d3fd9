import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface NetworkProps {
  readonly natGateways: number;
  readonly logRetentionDays: logs.RetentionDays;
}

/**
 * A VPC over two Availability Zones with three tiers:
 * - public: the load balancer and the NAT gateways;
 * - private with egress: the instances, which reach ECR, Secrets Manager, CloudWatch Logs and CloudFormation
 *   through NAT (S3, where ECR keeps image layers, through a free gateway endpoint);
 * - isolated: the cache and the database, which need no route out at all. They share the tier: each has its
 *   own security group, which is what keeps them apart, and the stack uses no network ACLs that a tier of its
 *   own would let them differ in.
 * The stack is environment-agnostic (no lookups at synth), so the two AZs are chosen at deploy time.
 */
export class Network extends Construct {
  public readonly vpc: ec2.Vpc;
  public readonly albSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PUBLIC };
  public readonly fleetSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  public readonly cacheSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  public readonly databaseSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.40.0.0/16'),
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'fleet', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [this.fleetSubnets] },
      },
    });

    // Rejected flows only: they are what explains a connection that a security group silently drops,
    // at a fraction of the ingestion cost of logging every accepted flow.
    const flowLogGroup = new logs.LogGroup(this, 'RejectedFlows', {
      retention: props.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog('RejectedFlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
  }
}
