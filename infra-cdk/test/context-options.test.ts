import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { FlashSaleStack } from '../lib/flash-sale-stack';
import { DEFAULT_SETTINGS, readContext } from '../lib/context';
import { loadConfig } from '../../app/config';
import { serviceEnvironment, synthesize } from './synth';
import type { Synthesized } from './synth';

const CERTIFICATE = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

describe('context options as the CLI passes them (strings)', () => {
  const settings = (context: Record<string, string>) => readContext(new App({ context }).node);

  it('when none is given, then the documented defaults apply', () => {
    expect(settings({})).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS).toMatchObject({
      minCapacity: 2,
      maxCapacity: 10,
      cacheShards: 0,
      enableUnsafeEndpoint: false,
      waitReplicas: 0,
      databaseInstanceType: 'db.t4g.small',
      databaseMultiAz: false,
      databaseBackupDays: 7,
      databaseDeletionProtection: true,
      backlogAlarmSeconds: 120,
    });
  });

  it('when numbers and booleans are given as text, then they are parsed', () => {
    expect(
      settings({ minCapacity: '3', maxCapacity: '6', cacheShards: '3', enableUnsafeEndpoint: 'true' }),
    ).toMatchObject({ minCapacity: 3, maxCapacity: 6, cacheShards: 3, enableUnsafeEndpoint: true });
    expect(
      settings({
        databaseMultiAz: 'true',
        databaseBackupDays: '35',
        databaseDeletionProtection: 'false',
        backlogAlarmSeconds: '300',
      }),
    ).toMatchObject({
      databaseMultiAz: true,
      databaseBackupDays: 35,
      databaseDeletionProtection: false,
      backlogAlarmSeconds: 300,
    });
  });

  it.each([
    ['minCapacity', 'two', /context minCapacity="two" is invalid: expected an integer from 1 to 100/],
    ['maxCapacity', '0', /context maxCapacity="0" is invalid/],
    ['cacheShards', '11', /context cacheShards="11" is invalid: expected an integer from 0 to 10/],
    ['cacheShards', '-1', /context cacheShards="-1" is invalid/],
    ['replicasPerShard', '0', /context replicasPerShard="0" is invalid: expected an integer from 1 to 5/],
    ['enableUnsafeEndpoint', 'yes', /context enableUnsafeEndpoint="yes" is invalid: expected true or false/],
    ['instanceType', 'big', /context instanceType="big" is invalid: expected an EC2 instance type/],
    [
      'cacheNodeType',
      't4g.small',
      /context cacheNodeType="t4g.small" is invalid: expected an ElastiCache node type/,
    ],
    [
      'certificateArn',
      'my-cert',
      /context certificateArn="my-cert" is invalid: expected an ACM certificate ARN/,
    ],
    ['natGateways', '3', /context natGateways="3" is invalid: expected an integer from 1 to 2/],
    ['waitReplicas', 'one', /context waitReplicas="one" is invalid: expected an integer from 0 to 5/],
    ['logRetentionDays', '10', /context logRetentionDays=10 is invalid: expected one of 1, 3, 5, 7, 14, 30/],
    [
      'databaseInstanceType',
      't4g.micro',
      /context databaseInstanceType="t4g.micro" is invalid: expected an RDS instance class such as db.t4g.small/,
    ],
    ['databaseMultiAz', 'yes', /context databaseMultiAz="yes" is invalid: expected true or false/],
    [
      'databaseBackupDays',
      '0',
      /context databaseBackupDays="0" is invalid: expected an integer from 1 to 35/,
    ],
    [
      'databaseBackupDays',
      '36',
      /context databaseBackupDays="36" is invalid: expected an integer from 1 to 35/,
    ],
    [
      'databaseDeletionProtection',
      'off',
      /context databaseDeletionProtection="off" is invalid: expected true/,
    ],
    ['backlogAlarmSeconds', '10', /context backlogAlarmSeconds="10" is invalid: expected an integer from 30/],
    ['backlogAlarmSeconds', '2m', /context backlogAlarmSeconds="2m" is invalid/],
  ])('when %s=%s, then synthesis fails with a message naming the option', (name, value, message) => {
    const app = new App({ context: { [name]: value } });
    expect(() => new FlashSaleStack(app, 'Bad')).toThrow(message);
  });

  it('when waitReplicas exceeds replicasPerShard, then synthesis fails: WAIT could never be answered', () => {
    const app = new App({ context: { waitReplicas: '2', replicasPerShard: '1' } });
    expect(() => new FlashSaleStack(app, 'Bad')).toThrow(
      /context waitReplicas=2 is invalid: expected at most replicasPerShard \(1\)/,
    );
  });

  it('when waitReplicas is set with cluster mode, then synthesis fails, as the service would refuse to start', () => {
    const app = new App({ context: { waitReplicas: '1', cacheShards: '3' } });
    expect(() => new FlashSaleStack(app, 'Bad')).toThrow(
      /context waitReplicas=1 is invalid: expected 0 with cacheShards > 0/,
    );
  });

  it('when disposable=true, then deletion protection follows it off, and asking for both fails', () => {
    expect(settings({ disposable: 'true' })).toMatchObject({
      disposable: true,
      databaseDeletionProtection: false,
    });
    expect(() => settings({ disposable: 'true', databaseDeletionProtection: 'true' })).toThrow(
      /context databaseDeletionProtection=true is invalid: expected false with disposable=true/,
    );
  });

  it('when an alarm destination is given, then it is checked, and only one of the two is accepted', () => {
    expect(settings({ alarmEmail: 'oncall@example.com' })).toMatchObject({
      alarmEmail: 'oncall@example.com',
    });
    expect(() => settings({ alarmEmail: 'oncall' })).toThrow(
      /context alarmEmail="oncall" is invalid: expected an email address/,
    );
    expect(() => settings({ alarmTopicArn: 'on-call' })).toThrow(
      /context alarmTopicArn="on-call" is invalid/,
    );
    expect(() =>
      settings({
        alarmEmail: 'oncall@example.com',
        alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:on-call',
      }),
    ).toThrow(/not both alarmEmail and alarmTopicArn/);
  });

  it('when minCapacity exceeds maxCapacity, then synthesis fails and says so', () => {
    const app = new App({ context: { minCapacity: '5', maxCapacity: '4' } });
    expect(() => new FlashSaleStack(app, 'Bad')).toThrow(
      /context maxCapacity=4 is invalid: expected at least minCapacity \(5\)/,
    );
  });
});

describe('the stack with cacheShards=3 and replicasPerShard=2 (cluster mode enabled)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({ cacheShards: '3', replicasPerShard: '2' });
  });
  afterAll(() => {
    s.dispose();
  });

  it('when synthesized, then the replication group has 3 node groups of a primary and 2 replicas, Multi-AZ', () => {
    s.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      NumNodeGroups: 3,
      ReplicasPerNodeGroup: 2,
      NumCacheClusters: Match.absent(),
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      TransitEncryptionEnabled: true,
    });
  });

  it('when synthesized, then the parameter group enables cluster mode and still never evicts', () => {
    s.template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: 'redis7',
      Properties: { 'maxmemory-policy': 'noeviction', 'cluster-enabled': 'yes' },
    });
  });

  it('when synthesized, then the service gets REDIS_MODE=cluster, TLS on, and the configuration endpoint as seed', () => {
    const [, connection] =
      Object.entries(s.resources('AWS::SecretsManager::Secret')).find(([id]) =>
        id.includes('RedisConnection'),
      ) ?? [];
    const text = JSON.stringify(connection?.Properties.SecretString);
    expect(text).toContain('\\"REDIS_MODE\\":\\"cluster\\"');
    expect(text).toContain('\\"REDIS_TLS\\":\\"on\\"');
    expect(text).toMatch(
      /\\"REDIS_NODES\\":\\"",\{"Fn::GetAtt":\["CacheReplicationGroup\w+","ConfigurationEndPoint.Address"\]\},":6379/,
    );
    expect(text).not.toContain('PrimaryEndPoint');
    s.template.hasOutput('CacheEndpoint', {
      Value: {
        'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.anyValue(), 'ConfigurationEndPoint.Address'] }, ':6379']],
      },
    });
  });

  it('when synthesized, then user data names the configuration endpoint, so moving to this cache rolls the fleet', () => {
    expect(s.userData).toMatch(
      /^# cache: \$\{CacheReplicationGroup\w+\.ConfigurationEndPoint\.Address\}:6379 /m,
    );
  });

  it('when synthesized, then the environment an instance assembles is one the service accepts, in cluster mode', () => {
    const config = loadConfig(serviceEnvironment(s));
    expect(config.redis).toMatchObject({
      mode: 'cluster',
      tls: true,
      nodes: [{ host: 'flash-sale.abc123.cache.amazonaws.com', port: 6379 }],
      waitReplicas: 0,
    });
  });

  it('when synthesized, then the memory alarm watches one node of every shard', () => {
    const alarm = JSON.stringify(s.resources('AWS::CloudWatch::Alarm'));
    expect(alarm).toContain('MAX([shard1, shard2, shard3])');
    for (const shard of ['0001', '0002', '0003']) expect(alarm).toContain(`-${shard}-001`);
  });
});

describe('the stack with the database options: Multi-AZ, another class, 14 days of backups, no deletion protection', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({
      databaseMultiAz: 'true',
      databaseInstanceType: 'db.m7g.large',
      databaseBackupDays: '14',
      databaseDeletionProtection: 'false',
      backlogAlarmSeconds: '300',
    });
  });
  afterAll(() => {
    s.dispose();
  });

  it('when synthesized, then the instance is Multi-AZ, of that class, and keeps 14 days of backups', () => {
    s.template.hasResourceProperties('AWS::RDS::DBInstance', {
      MultiAZ: true,
      DBInstanceClass: 'db.m7g.large',
      BackupRetentionPeriod: 14,
      StorageEncrypted: true,
    });
  });

  it('when synthesized, then deletion protection is off, and removing the instance still leaves a snapshot', () => {
    s.template.hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({ DeletionProtection: false }),
      DeletionPolicy: 'Snapshot',
    });
  });

  it('when synthesized, then the backlog alarm uses the threshold given', () => {
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 300,
      TreatMissingData: 'breaching',
      Metrics: [
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'OrderBacklogOldestAgeSeconds' }),
          }),
        }),
      ],
    });
  });
});

describe('the stack with a certificateArn', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({ certificateArn: CERTIFICATE });
  });
  afterAll(() => {
    s.dispose();
  });

  it('when synthesized, then HTTPS on 443 forwards to the fleet with that certificate and a current TLS policy', () => {
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CERTIFICATE }],
      SslPolicy: Match.stringLikeRegexp('^ELBSecurityPolicy-TLS13'),
      DefaultActions: [Match.objectLike({ Type: 'forward' })],
    });
  });

  it('when synthesized, then HTTP on 80 only redirects to HTTPS', () => {
    s.template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: { Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' } },
      ],
    });
  });

  it('when synthesized, then the URL output is https', () => {
    s.template.hasOutput('AlbUrl', { Value: { 'Fn::Join': ['', ['https://', Match.anyValue()]] } });
  });
});

describe('the stack with waitReplicas=1 (cluster mode disabled, one replica)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({ waitReplicas: '1' });
  });
  afterAll(() => {
    s.dispose();
  });

  it('when synthesized, then the service answers 200 only once the replica holds the order', () => {
    expect(s.userData).toMatch(/^REDIS_WAIT_REPLICAS=1$/m);
    expect(loadConfig(serviceEnvironment(s)).redis.waitReplicas).toBe(1);
  });
});

describe('the stack with enableUnsafeEndpoint=true and other fleet options', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({
      enableUnsafeEndpoint: 'true',
      instanceType: 'c7g.large',
      minCapacity: '3',
      maxCapacity: '6',
      requestsPerInstancePerMinute: '12000',
    });
  });
  afterAll(() => {
    s.dispose();
  });

  it('when synthesized, then the service starts with the unsafe endpoint on', () => {
    expect(s.userData).toMatch(/^UNSAFE_ENDPOINT=on$/m);
    expect(s.userData).not.toMatch(/^UNSAFE_ENDPOINT=off$/m);
  });

  it('when synthesized, then the capacity, scaling target and instance type follow the context', () => {
    s.template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '3', MaxSize: '6' });
    s.template.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      TargetTrackingConfiguration: Match.objectLike({ TargetValue: 12000 }),
    });
    s.template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ InstanceType: 'c7g.large' }),
    });
  });

  it('when a Graviton type is chosen, then the AMI and the image are both arm64', () => {
    const parameters = s.json.Parameters as Record<string, { Type: string; Default: string }>;
    const ami = Object.values(parameters).find(
      (p) => p.Type === 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
    );
    expect(ami?.Default).toMatch(/al2023-ami-kernel-[\w.]+-arm64$/);
    const manifest = JSON.parse(
      fs.readFileSync(path.join(s.app.outdir, 'FlashSale.assets.json'), 'utf8'),
    ) as {
      dockerImages: Record<string, { source: { platform?: string } }>;
    };
    const images = Object.values(manifest.dockerImages);
    expect(images.map((image) => image.source.platform)).toEqual(['linux/arm64']);
  });
});
