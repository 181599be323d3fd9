import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { shutdownTiming } from '../lib/graceful-shutdown';
import { IMAGE_CONTEXT } from '../lib/service-image';
import { loadConfig } from '../../app/config';
import { render, SAMPLE_DATABASE_URL, serviceEnvironment, synthesize } from './synth';
import type { Synthesized } from './synth';

/** The stack as `cdk deploy` builds it with no context options. */
describe('the stack with default context', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize();
  });
  afterAll(() => {
    s.dispose();
  });

  const subnetIdsOfTier = (tier: string): string[] =>
    Object.keys(s.resources('AWS::EC2::Subnet')).filter((id) => id.startsWith(`NetworkVpc${tier}Subnet`));
  const refs = (ids: string[]) => ids.map((id) => ({ Ref: id }));

  describe('when the network is synthesized', () => {
    it('then the VPC spans two AZs with public, fleet (private with NAT) and cache (isolated) subnets', () => {
      s.template.resourceCountIs('AWS::EC2::VPC', 1);
      expect(subnetIdsOfTier('public')).toHaveLength(2);
      expect(subnetIdsOfTier('fleet')).toHaveLength(2);
      expect(subnetIdsOfTier('cache')).toHaveLength(2);
      s.template.resourceCountIs('AWS::EC2::NatGateway', 2);
      const azs = Object.values(s.resources('AWS::EC2::Subnet')).map((subnet) =>
        JSON.stringify(subnet.Properties.AvailabilityZone),
      );
      expect(new Set(azs).size).toBe(2);
    });

    it('then the ALB sits in the public subnets, the instances in the fleet subnets, the cache in the isolated ones', () => {
      s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        Scheme: 'internet-facing',
        Subnets: Match.arrayWith(refs(subnetIdsOfTier('public'))),
      });
      s.template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
        VPCZoneIdentifier: refs(subnetIdsOfTier('fleet')),
      });
      s.template.hasResourceProperties('AWS::ElastiCache::SubnetGroup', {
        SubnetIds: refs(subnetIdsOfTier('cache')),
      });
    });

    it('then the Auto Scaling Group waits for the NAT routes, so instances can install packages at boot', () => {
      const asg = s.json.Resources as Record<string, { Type: string; DependsOn?: string[] }>;
      const [, group] =
        Object.entries(asg).find(([, r]) => r.Type === 'AWS::AutoScaling::AutoScalingGroup') ?? [];
      expect(group?.DependsOn).toEqual(
        expect.arrayContaining([expect.stringMatching(/^NetworkVpcfleetSubnet1DefaultRoute/)]),
      );
    });
  });

  describe('when the load balancer is synthesized', () => {
    it('then with no certificate it listens on HTTP 80 and forwards to the fleet', () => {
      s.template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
      s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: 80,
        Protocol: 'HTTP',
        DefaultActions: [Match.objectLike({ Type: 'forward' })],
      });
    });

    it('then the target group checks GET /health on the service port and wants a 200', () => {
      s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Port: 3000,
        Protocol: 'HTTP',
        HealthCheckPath: '/health',
        Matcher: { HttpCode: '200' },
        HealthCheckIntervalSeconds: 5,
        UnhealthyThresholdCount: 2,
      });
    });

    it('then the deregistration delay covers the service drain plus its in-flight timeout', () => {
      const drain = Number(/SHUTDOWN_DRAIN_MS=(\d+)/.exec(s.userData)?.[1]);
      const timeout = Number(/SHUTDOWN_TIMEOUT_MS=(\d+)/.exec(s.userData)?.[1]);
      expect(drain).toBeGreaterThan(0);
      expect(timeout).toBeGreaterThan(0);
      s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        TargetGroupAttributes: Match.arrayWith([
          { Key: 'deregistration_delay.timeout_seconds', Value: String(Math.ceil((drain + timeout) / 1000)) },
        ]),
      });
    });

    it('then the drain outlasts the ALB noticing /health turned 503 (interval x unhealthy threshold)', () => {
      const drain = Number(/SHUTDOWN_DRAIN_MS=(\d+)/.exec(s.userData)?.[1]);
      expect(drain).toBeGreaterThan(5 * 2 * 1000);
    });
  });

  describe('when the fleet is synthesized', () => {
    it('then the Auto Scaling Group runs 2 to 10 instances from the launch template', () => {
      s.template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
        MinSize: '2',
        MaxSize: '10',
        LaunchTemplate: Match.objectLike({ LaunchTemplateId: Match.anyValue() }),
      });
    });

    it('then it scales by target tracking on ALB requests per target', () => {
      s.template.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingConfiguration: Match.objectLike({
          PredefinedMetricSpecification: Match.objectLike({
            PredefinedMetricType: 'ALBRequestCountPerTarget',
          }),
          TargetValue: 30000,
        }),
      });
    });

    it('then it rolls updates one instance at a time, keeping capacity, waiting for each boot signal', () => {
      s.template.hasResource('AWS::AutoScaling::AutoScalingGroup', {
        UpdatePolicy: {
          AutoScalingRollingUpdate: Match.objectLike({
            MaxBatchSize: 1,
            MinInstancesInService: 2,
            WaitOnResourceSignals: true,
          }),
        },
        CreationPolicy: { ResourceSignal: { Count: 2, Timeout: Match.anyValue() } },
      });
      expect(s.userData).toMatch(/\/opt\/aws\/bin\/cfn-signal .* -e \$exitCode/);
      expect(s.userData).toMatch(
        /curl -fsS -o \/dev\/null --max-time 2 http:\/\/127\.0\.0\.1:3000\/health && worker_live; then exit 0/,
      );
    });

    it('then the ASG uses EC2 health checks, so a Redis outage (every /health 503) does not recycle the fleet', () => {
      s.template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { HealthCheckType: 'EC2' });
    });

    it('then instances boot the current Amazon Linux 2023 from its public SSM parameter, with no lookup', () => {
      const parameters = s.json.Parameters as Record<string, { Type: string; Default: string }>;
      const ami = Object.values(parameters).find(
        (p) => p.Type === 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
      );
      expect(ami?.Default).toMatch(
        /^\/aws\/service\/ami-amazon-linux-latest\/al2023-ami-kernel-[\w.]+-x86_64$/,
      );
      // context lookups would leave "missing" context in the assembly and need an AWS account at synth
      expect(s.app.synth().manifest.missing ?? []).toEqual([]);
      s.template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
        LaunchTemplateData: Match.objectLike({ InstanceType: 't3.small' }),
      });
    });

    it('then the launch template requires IMDSv2 and keeps containers one hop away from it', () => {
      s.template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
        LaunchTemplateData: Match.objectLike({
          MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        }),
      });
    });

    it('then every volume of the launch template is encrypted', () => {
      const data = s.only('AWS::EC2::LaunchTemplate').Properties.LaunchTemplateData as {
        BlockDeviceMappings: { Ebs: { Encrypted: boolean } }[];
      };
      expect(data.BlockDeviceMappings.length).toBeGreaterThan(0);
      for (const mapping of data.BlockDeviceMappings) expect(mapping.Ebs.Encrypted).toBe(true);
    });

    it('then user data installs Docker and runs the image from ECR with a restart policy and a stop timeout', () => {
      expect(s.userData).toContain('dnf install -y docker');
      expect(s.userData).toMatch(/docker pull "\$IMAGE"/);
      expect(s.userData).toMatch(/IMAGE=\$\{AWS::AccountId\}\.dkr\.ecr\.\$\{AWS::Region\}\./);
      expect(s.userData).toContain('--restart unless-stopped');
      const stopTimeout = Number(/--stop-timeout (\d+)/.exec(s.userData)?.[1]);
      expect(stopTimeout).toBe(shutdownTiming().dockerStopTimeoutSeconds);
      const drain = Number(/SHUTDOWN_DRAIN_MS=(\d+)/.exec(s.userData)?.[1]);
      const timeout = Number(/SHUTDOWN_TIMEOUT_MS=(\d+)/.exec(s.userData)?.[1]);
      expect(stopTimeout * 1000).toBeGreaterThan(drain + timeout);
    });

    it('then the container logs to CloudWatch through the awslogs driver, into a log group with retention', () => {
      const [logGroupId] = Object.entries(s.resources('AWS::Logs::LogGroup')).find(([id]) =>
        id.startsWith('FleetContainerLogs'),
      ) ?? [''];
      expect(s.userData).toContain('--log-driver awslogs');
      expect(s.userData).toContain(`--log-opt awslogs-group='\${${logGroupId}}'`);
      s.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });

    it('then a watchdog restarts the service or the worker when Docker marks it unhealthy (/health/live)', () => {
      const watchdog = s.userData.slice(
        s.userData.indexOf('cat > /usr/local/bin/flash-sale-watchdog'),
        s.userData.indexOf('chmod 0755 /usr/local/bin/flash-sale-watchdog'),
      );
      expect(watchdog).toContain('for name in flash-sale flash-sale-worker; do');
      expect(watchdog).toContain(`docker inspect --format '{{.State.Health.Status}}' "$name"`);
      expect(watchdog).toContain('docker restart "$name"');
      expect(s.userData).toContain('systemctl enable --now flash-sale-watchdog.timer');
    });

    it('then the service runs in production with the unsafe endpoint off', () => {
      expect(s.userData).toContain('NODE_ENV=production');
      expect(s.userData).toMatch(/^UNSAFE_ENDPOINT=off$/m);
    });

    it('then the image asset sends docker build only what the Dockerfile copies (no infra-cdk, cdk.out, node_modules)', () => {
      const assetDirs = fs.readdirSync(s.app.outdir).filter((name) => name.startsWith('asset.'));
      const imageDir = assetDirs.find((name) => fs.existsSync(path.join(s.app.outdir, name, 'Dockerfile')));
      expect(imageDir).toBeDefined();
      const staged = fs.readdirSync(path.join(s.app.outdir, imageDir ?? '')).sort();
      expect(staged).toEqual([...IMAGE_CONTEXT].sort());
      // nor tests, which the image leaves out too: editing one must not change the hash and roll the fleet
      const tests = fs
        .readdirSync(path.join(s.app.outdir, imageDir ?? ''), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.test.ts'));
      expect(tests).toEqual([]);
    });
  });

  describe('when the instances boot', () => {
    /** user data's commands, continuation lines joined */
    const commands = (): string[] => s.userData.replace(/ \\\n\s*/g, ' ').split('\n');
    const dockerRun = (marker: string): string => {
      const found = commands().filter((c) => c.includes('docker run ') && c.includes(marker));
      expect(found).toHaveLength(1);
      return found[0] ?? '';
    };
    const caMount = '-v /usr/local/share/flash-sale/rds-ca.pem:/etc/rds/ca.pem:ro';

    it('then they download the RDS CA bundle of their region, with bounded retries, world-readable', () => {
      expect(s.userData).toContain(
        'curl -fsS --max-time 20 -o /tmp/rds-ca.pem "https://truststore.pki.rds.amazonaws.com/$REGION/$REGION-bundle.pem"',
      );
      expect(s.userData).toMatch(/^retry 5 'download the RDS CA bundle' fetch_rds_ca$/m);
      // the containers run as node (uid 1000), not root
      expect(s.userData).toMatch(
        /^install -m 0644 \/tmp\/rds-ca\.pem \/usr\/local\/share\/flash-sale\/rds-ca\.pem$/m,
      );
      expect(s.userData.indexOf('fetch_rds_ca\n')).toBeLessThan(s.userData.indexOf('umask 077'));
    });

    it('then they build DATABASE_URL from the database secret, URL-encoded, verified TLS, into the root-only env file', () => {
      expect(s.userData).toMatch(
        /^DATABASE_SECRET=\$\(retry 5 'read the database secret' secret '\$\{DatabaseInstanceSecretAttachment\w+\}'\)$/m,
      );
      const build = commands().find((c) => c.startsWith('DATABASE_URL=$(jq ')) ?? '';
      expect(build).toContain('<<<"$DATABASE_SECRET")');
      expect(build).toContain('\\(.username | @uri):\\(.password | @uri)@');
      expect(build).toContain('sslmode=verify-full&sslrootcert=\\($ca)');
      expect(build).toContain("--arg ca '/etc/rds/ca.pem'");
      expect(build).toContain("--arg dbname 'flashsale'");
      const envFile = s.userData.slice(s.userData.indexOf('<<EOF\n'), s.userData.indexOf('\nEOF\n'));
      expect(envFile).toMatch(/^DATABASE_URL=\$DATABASE_URL$/m);
      expect(s.userData).toMatch(/^unset .*\bDATABASE_SECRET\b.*\bDATABASE_URL\b/m);
    });

    it('then user data names the database endpoint, so a new database changes the launch template and rolls the fleet', () => {
      expect(s.userData).toMatch(/^# database: \$\{DatabaseInstance\w+\.Endpoint\.Address\}:5432 /m);
    });

    it('then they run the migrations once, with bounded retries, after the pull and before either container', () => {
      const migrate = dockerRun('node dist/app/migrate.js');
      expect(migrate).toMatch(/^retry 6 'database migrations' docker run --rm /);
      expect(migrate).toContain('--env-file /etc/flash-sale/service.env');
      expect(migrate).toContain(caMount);
      expect(migrate).toContain('--log-opt awslogs-stream="$INSTANCE_ID-migrate"');
      const at = (text: string) => s.userData.indexOf(text);
      expect(at('docker pull "$IMAGE"')).toBeLessThan(at("retry 6 'database migrations'"));
      expect(at("retry 6 'database migrations'")).toBeLessThan(at('docker run -d --name flash-sale '));
      expect(at("retry 6 'database migrations'")).toBeLessThan(at('docker run -d --name flash-sale-worker '));
    });

    it('then the worker runs beside the service: same image and env file, its own name and log stream, no port', () => {
      const worker = dockerRun('--name flash-sale-worker ');
      expect(worker).toMatch(/ "\$IMAGE" node dist\/app\/worker\.js$/);
      expect(worker).toContain('--restart unless-stopped');
      expect(worker).toContain(`--stop-timeout ${shutdownTiming().dockerStopTimeoutSeconds}`);
      expect(worker).toContain('--env-file /etc/flash-sale/service.env');
      expect(worker).toContain(caMount);
      expect(worker).toContain('--log-driver awslogs');
      expect(worker).toContain('--log-opt awslogs-stream="$INSTANCE_ID-worker"');
      expect(worker).not.toMatch(/ -p | --publish/);
    });

    it("then the service gets the same env file and CA bundle, and keeps the image's own command", () => {
      const service = dockerRun('--name flash-sale ');
      expect(service).toContain('--env-file /etc/flash-sale/service.env');
      expect(service).toContain(caMount);
      expect(service).toContain('-p 3000:3000');
      expect(service).toMatch(/ "\$IMAGE"$/);
    });

    it('then the boot succeeds only once the service answers /health and Docker reports the worker healthy', () => {
      expect(s.userData).toContain(
        'worker_live() { [ "$(docker inspect --format \'{{.State.Health.Status}}\' flash-sale-worker)" = healthy ]; }',
      );
      expect(s.userData).toContain('docker logs --tail 50 flash-sale-worker >&2 || true');
    });
  });

  describe('when the security groups are synthesized', () => {
    const groupId = (prefix: string): string =>
      Object.keys(s.resources('AWS::EC2::SecurityGroup')).find((id) => id.startsWith(prefix)) ?? 'missing';

    it('then the cache accepts only the fleet, on the Redis port, and opens nothing else', () => {
      const cache = groupId('CacheSecurityGroup');
      const fleet = groupId('FleetSecurityGroup');
      const ingress = Object.values(s.resources('AWS::EC2::SecurityGroupIngress')).filter(
        (rule) =>
          JSON.stringify(rule.Properties.GroupId) === JSON.stringify({ 'Fn::GetAtt': [cache, 'GroupId'] }),
      );
      expect(ingress.map((rule) => rule.Properties)).toEqual([
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: 6379,
          ToPort: 6379,
          SourceSecurityGroupId: { 'Fn::GetAtt': [fleet, 'GroupId'] },
        }),
      ]);
      const inline = s.resources('AWS::EC2::SecurityGroup')[cache]?.Properties;
      expect(inline?.SecurityGroupIngress).toBeUndefined();
    });

    it('then the database accepts only the fleet, on the PostgreSQL port, and opens nothing else', () => {
      const database = groupId('DatabaseSecurityGroup');
      const fleet = groupId('FleetSecurityGroup');
      const ingress = Object.values(s.resources('AWS::EC2::SecurityGroupIngress')).filter(
        (rule) =>
          JSON.stringify(rule.Properties.GroupId) === JSON.stringify({ 'Fn::GetAtt': [database, 'GroupId'] }),
      );
      expect(ingress.map((rule) => rule.Properties)).toEqual([
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: 5432,
          ToPort: 5432,
          SourceSecurityGroupId: { 'Fn::GetAtt': [fleet, 'GroupId'] },
        }),
      ]);
      const group = s.resources('AWS::EC2::SecurityGroup')[database]?.Properties;
      expect(group?.SecurityGroupIngress).toBeUndefined();
      // CDK's placeholder for "no egress": PostgreSQL opens no connections of its own
      expect(group?.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]);
      s.template.hasResourceProperties('AWS::RDS::DBInstance', {
        VPCSecurityGroups: [{ 'Fn::GetAtt': [database, 'GroupId'] }],
      });
    });

    it('then the fleet accepts only the ALB, on the service port', () => {
      const fleet = groupId('FleetSecurityGroup');
      const alb = groupId('LoadBalancerAlbSecurityGroup');
      const ingress = Object.values(s.resources('AWS::EC2::SecurityGroupIngress')).filter(
        (rule) =>
          JSON.stringify(rule.Properties.GroupId) === JSON.stringify({ 'Fn::GetAtt': [fleet, 'GroupId'] }),
      );
      expect(ingress.map((rule) => rule.Properties)).toEqual([
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: 3000,
          ToPort: 3000,
          SourceSecurityGroupId: { 'Fn::GetAtt': [alb, 'GroupId'] },
        }),
      ]);
      expect(s.resources('AWS::EC2::SecurityGroup')[fleet]?.Properties.SecurityGroupIngress).toBeUndefined();
    });

    it('then the ALB is open to the internet on port 80 only', () => {
      const alb = s.resources('AWS::EC2::SecurityGroup')[groupId('LoadBalancerAlbSecurityGroup')];
      expect(alb?.Properties.SecurityGroupIngress).toEqual([
        expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 80, ToPort: 80, IpProtocol: 'tcp' }),
      ]);
    });
  });

  describe('when the cache is synthesized', () => {
    it('then it is a Multi-AZ Redis replication group with automatic failover and one replica', () => {
      s.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
        Engine: 'redis',
        MultiAZEnabled: true,
        AutomaticFailoverEnabled: true,
        NumCacheClusters: 2,
        NumNodeGroups: Match.absent(),
        CacheNodeType: 'cache.t4g.small',
      });
    });

    it('then it encrypts in transit and at rest', () => {
      s.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
        TransitEncryptionEnabled: true,
        AtRestEncryptionEnabled: true,
      });
    });

    it('then its parameter group never evicts (stock is the source of truth) and keeps cluster mode off', () => {
      const group = s.only('AWS::ElastiCache::ParameterGroup');
      expect(group.Properties.Properties).toEqual({
        'maxmemory-policy': 'noeviction',
        'cluster-enabled': 'no',
      });
      s.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
        CacheParameterGroupName: { Ref: group.id },
      });
    });

    it('then its AUTH token is a dynamic reference to a generated Secrets Manager secret', () => {
      const rg = s.only('AWS::ElastiCache::ReplicationGroup');
      const authToken = JSON.stringify(rg.Properties.AuthToken);
      const secretId = /"Ref":"(CacheAuthToken[A-Z0-9]+)"/i.exec(authToken)?.[1] ?? 'missing';
      expect(authToken).toBe(
        JSON.stringify({
          'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretId }, ':SecretString:::}}']],
        }),
      );
      s.template.hasResource('AWS::SecretsManager::Secret', {
        Properties: Match.objectLike({
          GenerateSecretString: Match.anyValue(),
          SecretString: Match.absent(),
        }),
      });
      expect(s.resources('AWS::SecretsManager::Secret')[secretId]?.Properties.GenerateSecretString).toEqual(
        expect.objectContaining({ ExcludePunctuation: true, PasswordLength: 64 }),
      );
    });
  });

  describe('when the database is synthesized', () => {
    it('then it is PostgreSQL 16 on RDS, encrypted, not publicly accessible, single-AZ by default', () => {
      s.template.resourceCountIs('AWS::RDS::DBInstance', 1);
      s.template.hasResourceProperties('AWS::RDS::DBInstance', {
        Engine: 'postgres',
        EngineVersion: Match.stringLikeRegexp('^16\\.\\d+$'),
        DBInstanceClass: 'db.t4g.small',
        StorageEncrypted: true,
        PubliclyAccessible: false,
        MultiAZ: false,
        StorageType: 'gp3',
        AllocatedStorage: '20',
        MaxAllocatedStorage: 100,
        Port: '5432',
      });
    });

    it('then it keeps 7 days of backups, is protected from deletion, and leaves a snapshot when removed', () => {
      s.template.hasResource('AWS::RDS::DBInstance', {
        Properties: Match.objectLike({ BackupRetentionPeriod: 7, DeletionProtection: true }),
        DeletionPolicy: 'Snapshot',
        UpdateReplacePolicy: 'Snapshot',
      });
    });

    it('then it sits in the isolated subnets, through its own subnet group', () => {
      const subnetGroup = s.only('AWS::RDS::DBSubnetGroup');
      expect(subnetGroup.Properties.SubnetIds).toEqual(refs(subnetIdsOfTier('cache')));
      s.template.hasResourceProperties('AWS::RDS::DBInstance', {
        DBSubnetGroupName: { Ref: subnetGroup.id },
      });
      // the isolated subnets have no route out: no NAT, no internet gateway
      const isolated = new Set(subnetIdsOfTier('cache'));
      const routes = Object.values(s.resources('AWS::EC2::Route')).filter((route) =>
        [...isolated].some((id) => JSON.stringify(route.Properties.RouteTableId).includes(id)),
      );
      expect(routes).toEqual([]);
    });

    it('then its parameter group refuses connections without TLS (rds.force_ssl = 1)', () => {
      const group = s.only('AWS::RDS::DBParameterGroup');
      expect(group.Properties).toMatchObject({
        Family: 'postgres16',
        Parameters: { 'rds.force_ssl': '1' },
      });
      s.template.hasResourceProperties('AWS::RDS::DBInstance', {
        DBParameterGroupName: { Ref: group.id },
      });
    });

    it('then its master password is generated into Secrets Manager and only referenced by the template', () => {
      const instance = s.only('AWS::RDS::DBInstance');
      const password = JSON.stringify(instance.Properties.MasterUserPassword);
      const secretId = /"Ref":"(\w*DatabaseInstanceSecret\w+)"/.exec(password)?.[1];
      expect(password).toMatch(/\{\{resolve:secretsmanager:.*:SecretString:password::\}\}/);
      expect(instance.Properties.MasterUsername).toBe('flashsale');
      const secret = s.resources('AWS::SecretsManager::Secret')[secretId ?? 'missing'];
      expect(secret?.Properties.SecretString).toBeUndefined();
      expect(secret?.Properties.GenerateSecretString).toMatchObject({
        GenerateStringKey: 'password',
        SecretStringTemplate: JSON.stringify({ username: 'flashsale' }),
      });
      // RDS writes host and port into the secret once the instance exists
      s.template.hasResourceProperties('AWS::SecretsManager::SecretTargetAttachment', {
        SecretId: { Ref: secretId },
        TargetId: { Ref: instance.id },
        TargetType: 'AWS::RDS::DBInstance',
      });
    });
  });

  describe('when secrets reach the instances', () => {
    it('then the tokens are generated by Secrets Manager and no secret string is written in the template', () => {
      const secrets = s.resources('AWS::SecretsManager::Secret');
      const tokens = Object.entries(secrets).filter(([id]) => /AuthToken|AdminToken/.test(id));
      expect(tokens).toHaveLength(2);
      for (const [, secret] of tokens) {
        expect(secret.Properties.SecretString).toBeUndefined();
        expect(secret.Properties.GenerateSecretString).toBeDefined();
      }
    });

    it('then the connection secret holds only the Redis endpoint, mode and TLS switch', () => {
      const [, connection] =
        Object.entries(s.resources('AWS::SecretsManager::Secret')).find(([id]) =>
          id.includes('RedisConnection'),
        ) ?? [];
      const text = JSON.stringify(connection?.Properties.SecretString);
      const keys = [...text.matchAll(/\\"([A-Z_]+)\\":/g)].map((m) => m[1]);
      expect(keys).toEqual(['REDIS_MODE', 'REDIS_URL', 'REDIS_TLS']);
      expect(text).toContain('PrimaryEndPoint.Address');
      expect(text).toContain('\\"REDIS_TLS\\":\\"on\\"');
      expect(text).toContain('rediss://');
    });

    it('then user data names the cache endpoint, so a new cache changes the launch template and rolls the fleet', () => {
      // The instances read the endpoint from the connection secret once, at boot. If the launch template
      // did not change with the cache, replacing the cache would leave every instance on the old one.
      expect(s.userData).toMatch(/^# cache: \$\{CacheReplicationGroup\w+\.PrimaryEndPoint\.Address\}:6379 /m);
    });

    it('then the environment an instance assembles is one the service accepts: production, TLS, the primary endpoint', () => {
      const config = loadConfig(serviceEnvironment(s));
      expect(config).toMatchObject({
        env: 'production',
        port: 3000,
        instanceId: 'i-0123456789abcdef0',
        unsafeEndpoint: false,
        shutdownDrainMs: shutdownTiming().drainMs,
      });
      expect(config.redis).toMatchObject({
        mode: 'standalone',
        url: 'rediss://flash-sale.abc123.cache.amazonaws.com:6379',
        tls: true,
        password: 'A'.repeat(64),
        waitReplicas: 0,
      });
      expect(config.database?.url).toBe(SAMPLE_DATABASE_URL);
    });

    it('then user data fetches every secret at boot and writes only shell variables into the env file', () => {
      expect(
        s.userData.match(/REDIS_CONNECTION=\$\(retry 5 '[^']+' secret '\$\{SecretsRedisConnection\w+\}'\)/),
      ).not.toBeNull();
      expect(
        s.userData.match(/REDIS_PASSWORD=\$\(retry 5 '[^']+' secret '\$\{CacheAuthToken\w+\}'\)/),
      ).not.toBeNull();
      expect(
        s.userData.match(/ADMIN_TOKEN=\$\(retry 5 '[^']+' secret '\$\{SecretsAdminToken\w+\}'\)/),
      ).not.toBeNull();
      expect(s.userData).toMatch(/^REDIS_PASSWORD=\$REDIS_PASSWORD$/m);
      expect(s.userData).toMatch(/^ADMIN_TOKEN=\$ADMIN_TOKEN$/m);
      expect(s.userData).not.toMatch(/set -x|bash -x/);
    });

    it('then no string in the whole template looks like a token assigned to a secret variable', () => {
      const text = JSON.stringify(s.json);
      // a value of a secret variable or property that is not a shell variable or a dynamic reference
      expect(text).not.toMatch(/(ADMIN_TOKEN|REDIS_PASSWORD|AUTH_TOKEN|DATABASE_URL)=(?!\$)[^\s"\\]+/);
      expect(text).not.toMatch(/"(AuthToken|Password|SecretString)":"[^{"][^"]*"/);
      expect(text).not.toMatch(/rediss?:\/\/[^"@/]*:[^"@/]+@/);
      expect(text).not.toMatch(/postgres(ql)?:\/\/[^"@/]*:[^"@/]+@/);
    });

    it('then the instance role may read exactly those four secrets (the database one included), and nothing else in Secrets Manager', () => {
      const statements = Object.values(s.resources('AWS::IAM::Policy')).flatMap(
        (policy) =>
          (policy.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] })
            .Statement,
      );
      const secretStatements = statements.filter((st) =>
        JSON.stringify(st.Action).includes('secretsmanager:'),
      );
      expect(secretStatements).toHaveLength(1);
      const [statement] = secretStatements;
      expect(statement?.Action).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
      const resources = (statement?.Resource as { Ref: string }[]).map((r) =>
        r.Ref.replace(/[A-F0-9]{8}$/, ''),
      );
      expect(resources.sort()).toEqual([
        'CacheAuthToken',
        'DatabaseInstanceSecretAttachment',
        'SecretsAdminToken',
        'SecretsRedisConnection',
      ]);
    });
  });

  describe('when observability is synthesized', () => {
    it('then a dashboard graphs requests, 5xx, latency, healthy hosts, cache CPU, memory and replication lag', () => {
      const body = JSON.stringify(s.only('AWS::CloudWatch::Dashboard').Properties.DashboardBody);
      for (const metric of [
        'RequestCount',
        'HTTPCode_Target_5XX_Count',
        'HTTPCode_ELB_5XX_Count',
        'TargetResponseTime',
        'HealthyHostCount',
        'UnHealthyHostCount',
        'EngineCPUUtilization',
        'DatabaseMemoryUsagePercentage',
        'ReplicationLag',
      ]) {
        expect(body).toContain(metric);
      }
    });

    it('then five alarms watch the 5xx rate, unhealthy hosts, cache memory, the order backlog and database storage', () => {
      s.template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
      const alarms = JSON.stringify(s.resources('AWS::CloudWatch::Alarm'));
      expect(alarms).toContain('100 * (FILL(t5xx, 0) + FILL(e5xx, 0)) / requests');
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'UnHealthyHostCount',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: 80,
        Metrics: Match.arrayWith([
          Match.objectLike({
            MetricStat: Match.objectLike({
              Metric: Match.objectLike({
                MetricName: 'DatabaseMemoryUsagePercentage',
                Dimensions: [
                  {
                    Name: 'CacheClusterId',
                    Value: {
                      'Fn::Join': ['', [{ Ref: Match.stringLikeRegexp('^CacheReplicationGroup') }, '-001']],
                    },
                  },
                ],
              }),
            }),
          }),
        ]),
      });
    });
  });

  describe('when the order backlog is watched', () => {
    it('then a metric filter turns the worker\'s "order backlog" log lines into the oldest pending age', () => {
      const [logGroupId] = Object.keys(s.resources('AWS::Logs::LogGroup')).filter((id) =>
        id.startsWith('FleetContainerLogs'),
      );
      s.template.resourceCountIs('AWS::Logs::MetricFilter', 1);
      s.template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: { Ref: logGroupId },
        FilterPattern: '{ $.msg = "order backlog" }',
        MetricTransformations: [
          {
            MetricNamespace: 'FlashSale',
            MetricName: 'OrderBacklogOldestAgeSeconds',
            MetricValue: '$.oldestPendingAgeSeconds',
            Unit: 'Seconds',
            // a default value would report 0 for every other line, and a dead worker as an empty backlog
            DefaultValue: Match.absent(),
          },
        ],
      });
    });

    it('then an alarm fires when its maximum stays above 120 s, or when no worker reports at all', () => {
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: [
          Match.objectLike({
            MetricStat: {
              Metric: { Namespace: 'FlashSale', MetricName: 'OrderBacklogOldestAgeSeconds' },
              Period: 60,
              Stat: 'Maximum',
            },
          }),
        ],
        Threshold: 120,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        TreatMissingData: 'breaching',
      });
    });

    it('then the dashboard graphs it and shows the alarm in its status widget', () => {
      const body = render(s.only('AWS::CloudWatch::Dashboard').Properties.DashboardBody);
      expect(body).toContain('"FlashSale","OrderBacklogOldestAgeSeconds"');
      const [backlogAlarm] = Object.keys(s.resources('AWS::CloudWatch::Alarm')).filter((id) =>
        id.startsWith('MonitoringOrderBacklog'),
      );
      expect(body).toContain(`\${${backlogAlarm}.Arn}`);
    });
  });

  describe('when the database is watched', () => {
    it('then the dashboard graphs its CPU, connections and free storage', () => {
      const body = render(s.only('AWS::CloudWatch::Dashboard').Properties.DashboardBody);
      for (const metric of ['CPUUtilization', 'DatabaseConnections', 'FreeStorageSpace']) {
        expect(body).toMatch(
          new RegExp(`"AWS/RDS","${metric}","DBInstanceIdentifier","\\$\\{DatabaseInstance\\w+\\}"`),
        );
      }
    });

    it('then an alarm fires when less than 1 GiB stays free for 5 minutes', () => {
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: 1024 ** 3,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 5,
        Metrics: [
          Match.objectLike({
            MetricStat: Match.objectLike({
              Metric: Match.objectLike({ Namespace: 'AWS/RDS', MetricName: 'FreeStorageSpace' }),
              Stat: 'Minimum',
            }),
          }),
        ],
      });
    });
  });

  describe('when the outputs are synthesized', () => {
    it('then they give the ALB URL, the cache endpoint and the name of the admin token secret', () => {
      s.template.hasOutput('AlbUrl', {
        Value: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [Match.anyValue(), 'DNSName'] }]] },
      });
      s.template.hasOutput('CacheEndpoint', {
        Value: {
          'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.anyValue(), 'PrimaryEndPoint.Address'] }, ':6379']],
        },
      });
      s.template.hasOutput('AdminTokenSecretName', { Value: Match.anyValue() });
      expect(JSON.stringify((s.json.Outputs as Record<string, unknown>).AdminTokenSecretName)).toContain(
        'SecretsAdminToken',
      );
    });

    it('then they give the database endpoint and the name of its secret', () => {
      s.template.hasOutput('DatabaseEndpoint', {
        Value: {
          'Fn::Join': [
            '',
            [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseInstance'), 'Endpoint.Address'] }, ':5432'],
          ],
        },
      });
      expect(JSON.stringify((s.json.Outputs as Record<string, unknown>).DatabaseSecretName)).toMatch(
        /DatabaseInstanceSecret/,
      );
    });
  });
});
