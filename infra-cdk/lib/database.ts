import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface DatabaseProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** an RDS instance class, `db.` prefix included */
  readonly instanceType: string;
  readonly multiAz: boolean;
  readonly backupDays: number;
  readonly deletionProtection: boolean;
  /** true: `cdk destroy` deletes the instance without a final snapshot */
  readonly disposable: boolean;
}

const ENGINE = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16_13 });
const USERNAME = 'flashsale';
/** GiB at creation; storage autoscaling grows it up to MAX_STORAGE_GIB without downtime */
const STORAGE_GIB = 20;
const MAX_STORAGE_GIB = 100;

/**
 * PostgreSQL on RDS, the system of record for orders: encrypted at rest, TLS required (rds.force_ssl), in the
 * isolated subnets, reachable only through its own security group (the stack admits the fleet), with the
 * master credentials generated into Secrets Manager, never into the template.
 *
 * Removing it from the stack, or a change that replaces it, leaves a final snapshot; deletion protection (on
 * by default) refuses even that until it is switched off. A disposable stack (context disposable=true) has
 * neither: `cdk destroy` removes it for good.
 */
export class Database extends Construct {
  public readonly instance: rds.DatabaseInstance;
  /** JSON: username, password, host, port, engine (RDS adds host and port once the instance exists) */
  public readonly secret: secretsmanager.ISecret;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly connections: ec2.Connections;
  public readonly port = 5432;
  public readonly databaseName = 'flashsale';
  public readonly endpointAddress: string;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Flash-sale database: PostgreSQL from the fleet only',
      // PostgreSQL never opens connections of its own.
      allowAllOutbound: false,
    });
    // Our own Connections rather than the instance's: its default port is the endpoint's port attribute,
    // which would put a token where a reader of the template (and its tests) expects 5432.
    this.connections = new ec2.Connections({
      securityGroups: [this.securityGroup],
      defaultPort: ec2.Port.tcp(this.port),
    });

    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine: ENGINE,
      description: 'Flash-sale: PostgreSQL accepts TLS connections only',
      // PostgreSQL 15 and later on RDS already default to 1; written down so that no default change or
      // console edit can let a plaintext connection in unnoticed.
      parameters: { 'rds.force_ssl': '1' },
    });

    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      engine: ENGINE,
      instanceType: new ec2.InstanceType(props.instanceType.replace(/^db\./, '')),
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      publiclyAccessible: false,
      securityGroups: [this.securityGroup],
      port: this.port,
      credentials: rds.Credentials.fromGeneratedSecret(USERNAME),
      databaseName: this.databaseName,
      parameterGroup,
      // RDS's default for new instances; named so that the CA bundle the instances download keeps matching.
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      storageEncrypted: true,
      storageType: rds.StorageType.GP3,
      allocatedStorage: STORAGE_GIB,
      maxAllocatedStorage: MAX_STORAGE_GIB,
      multiAz: props.multiAz,
      backupRetention: Duration.days(props.backupDays),
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      deletionProtection: props.deletionProtection,
      removalPolicy: props.disposable ? RemovalPolicy.DESTROY : RemovalPolicy.SNAPSHOT,
    });
    if (this.instance.secret === undefined) throw new Error('the database has no generated secret');
    this.secret = this.instance.secret;
    this.endpointAddress = this.instance.dbInstanceEndpointAddress;

    const generatedSecret = this.instance.node.findChild('Secret');
    Validations.of(generatedSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The service and the worker read DATABASE_URL once at start-up, so a rotation Lambda would leave every ' +
        'running instance with a password that no longer works; rotating means a new password, then an instance refresh.',
    });
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'A non-default port hides nothing from a scanner inside the VPC; the security group admits only the ' +
        'fleet, and PostgreSQL requires TLS and the generated password.',
    });
    if (!props.multiAz) {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-RDS3',
        reason:
          'Multi-AZ is a context option (databaseMultiAz), off by default because it doubles the cost: orders ' +
          'wait in Redis while the database is down, and the daily backups and point-in-time recovery remain.',
      });
    }
    if (!props.deletionProtection) {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason:
          'Switched off on purpose with the databaseDeletionProtection context option, so that `cdk destroy` ' +
          'can remove a throw-away stack; unless the stack is also disposable, a final snapshot is still taken.',
      });
    }
  }
}
