import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bootScript } from './boot-script';
import type { Database } from './database';
import type { ShutdownTiming } from './graceful-shutdown';
import { ServiceImage } from './service-image';
import type { ServiceSecrets } from './service-secrets';

export interface FleetProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly instanceType: string;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly requestsPerInstancePerMinute: number;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly loadBalancer: ec2.IConnectable;
  readonly servicePort: number;
  readonly secrets: ServiceSecrets;
  readonly database: Database;
  readonly unsafeEndpoint: boolean;
  /** REDIS_WAIT_REPLICAS of the service */
  readonly waitReplicas: number;
  readonly shutdown: ShutdownTiming;
  readonly logRetentionDays: logs.RetentionDays;
}

/** How long a new instance has to install Docker, pull the image and answer 200 on /health. */
const BOOT_DEADLINE = Duration.minutes(10);

/**
 * The service's instances: an Auto Scaling Group of Amazon Linux 2023 instances, each running the service's
 * image in Docker, behind the load balancer's target group, and the order worker (the same image) beside it.
 *
 * Health, and who acts on it. The ASG uses EC2 health checks, not the load balancer's:
 * - the target group checks /health, which turns 503 whenever Redis is unreachable. During a Redis outage
 *   every target fails it at once; with ELB health checks the ASG would terminate and relaunch the whole
 *   fleet, in a loop, which cures nothing and turns a cache blip into minutes of cold starts. Out of rotation
 *   is the right answer for "cannot serve", and when every target fails the ALB fails open: requests still
 *   reach the instances, which answer a fast 503 store_unavailable until Redis is back;
 * - a dead process is Docker's to handle (--restart), a wedged one the watchdog's (the image's /health/live
 *   probe, see assets/boot.sh), a dead instance EC2's (status checks), a bad deployment CloudFormation's
 *   (the boot script signals success only once /health answers 200, and the rolling update waits for it).
 */
export class Fleet extends Construct {
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly logGroup: logs.LogGroup;
  public readonly image: ServiceImage;

  constructor(scope: Construct, id: string, props: FleetProps) {
    super(scope, id);
    const instanceType = new ec2.InstanceType(props.instanceType);
    const architecture = instanceType.architecture;

    this.image = new ServiceImage(this, 'Service', { architecture });

    this.logGroup = new logs.LogGroup(this, 'ContainerLogs', {
      retention: props.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Flash-sale instances: the service port from the load balancer only',
      // Egress goes to ECR, Secrets Manager, CloudWatch Logs, CloudFormation, the RDS truststore and the OS
      // repositories through NAT, and to Redis and PostgreSQL; AWS endpoints have no fixed addresses to
      // narrow this to.
      allowAllOutbound: true,
    });
    this.securityGroup.connections.allowFrom(
      props.loadBalancer,
      ec2.Port.tcp(props.servicePort),
      'the load balancer, to the service',
    );

    const role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description:
        'Flash-sale instance: pull the image, read its secrets and the database secret, ship its logs',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    this.image.asset.repository.grantPull(role);
    props.secrets.adminToken.grantRead(role);
    props.secrets.redisAuthToken.grantRead(role);
    props.secrets.redisConnection.grantRead(role);
    props.database.secret.grantRead(role);
    this.logGroup.grantWrite(role);

    const userData = ec2.UserData.forLinux();
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      // The AMI id comes from the public SSM parameter at deploy time: no lookup at synth, always current.
      machineImage: ec2.MachineImage.latestAmazonLinux2023({
        cpuType:
          architecture === ec2.InstanceArchitecture.ARM_64
            ? ec2.AmazonLinuxCpuType.ARM_64
            : ec2.AmazonLinuxCpuType.X86_64,
      }),
      instanceType,
      role,
      securityGroup: this.securityGroup,
      userData,
      requireImdsv2: true,
      // One hop: the host reaches the instance metadata service, containers behind Docker's bridge do not.
      httpPutResponseHopLimit: 1,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(20, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Asg', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      launchTemplate,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: BOOT_DEADLINE }),
      defaultInstanceWarmup: Duration.minutes(3),
      signals: autoscaling.Signals.waitForMinCapacity({ timeout: BOOT_DEADLINE.plus(Duration.minutes(5)) }),
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        maxBatchSize: 1,
        // Keep full capacity during a deployment: the new instance comes up before an old one goes.
        minInstancesInService: Math.min(props.minCapacity, props.maxCapacity - 1),
        waitOnResourceSignals: true,
        pauseTime: BOOT_DEADLINE.plus(Duration.minutes(5)),
      }),
    });
    // Instances install packages and pull the image at boot: they must not launch before the NAT routes exist.
    this.autoScalingGroup.node.addDependency(
      props.vpc.selectSubnets(props.subnets).internetConnectivityEstablished,
    );
    this.autoScalingGroup.attachToApplicationTargetGroup(props.targetGroup);
    this.autoScalingGroup.scaleOnRequestCount('RequestsPerInstance', {
      targetRequestsPerMinute: props.requestsPerInstancePerMinute,
    });

    userData.addSignalOnExitCommand(this.autoScalingGroup);
    userData.addCommands(
      ...bootScript({
        region: Stack.of(this).region,
        imageUri: this.image.asset.imageUri,
        logGroupName: this.logGroup.logGroupName,
        servicePort: props.servicePort,
        adminTokenSecretArn: props.secrets.adminToken.secretArn,
        redisAuthTokenSecretArn: props.secrets.redisAuthToken.secretArn,
        redisConnectionSecretArn: props.secrets.redisConnection.secretArn,
        redisEndpoint: props.secrets.redisEndpoint,
        databaseSecretArn: props.database.secret.secretArn,
        databaseEndpoint: `${props.database.endpointAddress}:${props.database.port}`,
        databaseName: props.database.databaseName,
        unsafeEndpoint: props.unsafeEndpoint,
        waitReplicas: props.waitReplicas,
        shutdown: props.shutdown,
        healthyWithinSeconds: BOOT_DEADLINE.toSeconds(),
      }),
    );

    Validations.of(role).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
        reason:
          'AmazonSSMManagedInstanceCore is the policy AWS maintains for Session Manager, the only way in: the ' +
          'instances have no SSH key and no inbound rule besides the service port.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'ecr:GetAuthorizationToken has no resource-level permissions: ECR only accepts "*" for it.',
      },
    );
    Validations.of(this.autoScalingGroup).acknowledge({
      id: 'AwsSolutions-AS3',
      reason:
        'Scaling activity is visible in the ASG history and the dashboard; the alarms on unhealthy hosts and ' +
        '5xx are what page, not every launch and termination.',
    });
  }
}
