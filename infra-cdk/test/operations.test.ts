import { Match } from 'aws-cdk-lib/assertions';
import { SERVICE_FIGURES } from '../../app/observability/service-figures';
import { SNAPSHOT_RETENTION_DAYS } from '../lib/cache';
import { OPERATOR_ONLY_PATHS } from '../lib/load-balancer';
import { render, synthesize } from './synth';
import type { Synthesized } from './synth';

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:on-call';
const CERTIFICATE = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

/** the resource entries of one type, with their policies (Properties alone hide DeletionPolicy) */
function withPolicies(s: Synthesized, type: string) {
  const all = s.json.Resources as Record<
    string,
    {
      Type: string;
      Properties: Record<string, unknown>;
      DeletionPolicy?: string;
      UpdateReplacePolicy?: string;
    }
  >;
  return Object.values(all).filter((resource) => resource.Type === type);
}

describe.each([
  ['HTTP (no certificate)', {}, 80],
  ['HTTPS', { certificateArn: CERTIFICATE }, 443],
])('the stack with %s', (_name, context: Record<string, string>, forwardingPort) => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize(context);
  });
  afterAll(() => {
    s.dispose();
  });

  it('when the listener that forwards is synthesized, then a rule ahead of it answers the operator-only paths with 404', () => {
    expect(OPERATOR_ONLY_PATHS).toEqual(['/metrics', '/metrics/*']);
    const listeners = s.resources('AWS::ElasticLoadBalancingV2::Listener');
    const [forwardingId] =
      Object.entries(listeners).find(([, listener]) => listener.Properties.Port === forwardingPort) ?? [];
    expect(forwardingId).toBeDefined();
    s.template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 1);
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      ListenerArn: { Ref: forwardingId },
      Priority: 1,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: OPERATOR_ONLY_PATHS } }],
      Actions: [
        {
          Type: 'fixed-response',
          FixedResponseConfig: Match.objectLike({
            StatusCode: '404',
            ContentType: 'application/json',
            MessageBody: Match.stringLikeRegexp('"code":"not_found"'),
          }),
        },
      ],
    });
  });
});

describe('the stack with default context', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize();
  });
  afterAll(() => {
    s.dispose();
  });

  it('when the cache is deleted or replaced, then ElastiCache takes a final snapshot, and keeps daily ones for a week', () => {
    const [group] = withPolicies(s, 'AWS::ElastiCache::ReplicationGroup');
    expect(group?.DeletionPolicy).toBe('Snapshot');
    expect(group?.UpdateReplacePolicy).toBe('Snapshot');
    expect(SNAPSHOT_RETENTION_DAYS).toBe(7);
    s.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      SnapshotRetentionLimit: 7,
      SnapshotWindow: '03:00-05:00',
    });
  });

  it('when the database is deleted or replaced, then RDS takes a final snapshot, and deletion protection is on', () => {
    const [instance] = withPolicies(s, 'AWS::RDS::DBInstance');
    expect(instance?.DeletionPolicy).toBe('Snapshot');
    expect(instance?.UpdateReplacePolicy).toBe('Snapshot');
    expect(instance?.Properties.DeletionProtection).toBe(true);
  });

  it('when no alarm destination is given, then no topic exists and no alarm has an action', () => {
    s.template.resourceCountIs('AWS::SNS::Topic', 0);
    for (const alarm of Object.values(s.resources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toBeUndefined();
      expect(alarm.Properties.OKActions).toBeUndefined();
    }
  });

  it("when deployed, then an output gives the dashboard's console URL in the stack's region", () => {
    const outputs = s.json.Outputs as Record<string, { Value: unknown }>;
    const dashboard = s.only('AWS::CloudWatch::Dashboard');
    expect(render(outputs.DashboardUrl?.Value)).toBe(
      'https://console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#dashboards:name=${' +
        dashboard.id +
        '}',
    );
  });
});

describe('the stack with disposable=true (a throw-away demo stack)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({ disposable: 'true' });
  });
  afterAll(() => {
    s.dispose();
  });

  it('when `cdk destroy` runs, then the cache and the database are deleted without a snapshot or a protection to stop it', () => {
    const [group] = withPolicies(s, 'AWS::ElastiCache::ReplicationGroup');
    const [instance] = withPolicies(s, 'AWS::RDS::DBInstance');
    expect(group?.DeletionPolicy).toBe('Delete');
    expect(instance?.DeletionPolicy).toBe('Delete');
    expect(instance?.Properties.DeletionProtection).toBe(false);
  });
});

describe.each([
  ['alarmEmail', { alarmEmail: 'oncall@example.com' }],
  ['alarmTopicArn', { alarmTopicArn: TOPIC_ARN }],
])('the context option %s', (option, context: Record<string, string>) => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize(context);
  });
  afterAll(() => {
    s.dispose();
  });

  it('when synthesized, then every alarm notifies the topic when it fires and when it clears', () => {
    const topic = option === 'alarmEmail' ? { Ref: s.only('AWS::SNS::Topic').id } : TOPIC_ARN;
    const alarms = Object.values(s.resources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(5);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([topic]);
      expect(alarm.Properties.OKActions).toEqual([topic]);
    }
  });

  it('when synthesized, then an email address gets a new topic and its subscription; a topic ARN creates nothing', () => {
    if (option === 'alarmEmail') {
      s.template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'oncall@example.com',
      });
    } else {
      s.template.resourceCountIs('AWS::SNS::Topic', 0);
      s.template.resourceCountIs('AWS::SNS::Subscription', 0);
    }
  });
});

describe('the stack with default context, for the service figures', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize();
  });
  afterAll(() => {
    s.dispose();
  });

  it('when the instances boot, then the service writes its figures as EMF lines, which the awslogs driver ships', () => {
    expect(s.userData).toMatch(/^METRICS_EMF=on$/m);
    expect(s.userData).toContain('--log-driver awslogs');
  });

  it('when the dashboard is synthesized, then its first row graphs purchases by outcome, sold-out refusals, 503s and latency', () => {
    // intrinsic functions (the ALB's name, the region) keep the body from parsing as JSON: read it as text
    const body = render(s.only('AWS::CloudWatch::Dashboard').Properties.DashboardBody);
    const titles = [...body.matchAll(/"title":"([^"]+)"/g)].map((match) => match[1]);
    expect(titles.slice(0, 3)).toEqual([
      'Purchases by outcome / minute',
      'Sold-out refusals and 503s / minute',
      'Purchase latency (ms, slowest instance)',
    ]);
    const metric = (name: string) => `["${SERVICE_FIGURES.namespace}","${name}","Service","flash-sale"`;
    const widget = (title: string) => {
      const at = body.indexOf(`"title":"${title}"`);
      return body.slice(at, body.indexOf('"title":', at + 1));
    };
    for (const name of [...Object.values(SERVICE_FIGURES.purchaseOutcomes), SERVICE_FIGURES.otherPurchases]) {
      expect(widget('Purchases by outcome / minute')).toContain(metric(name));
    }
    expect(widget('Sold-out refusals and 503s / minute')).toContain(metric('PurchasesSoldOut'));
    expect(widget('Sold-out refusals and 503s / minute')).toContain(metric('Responses503'));
    expect(widget('Purchase latency (ms, slowest instance)')).toMatch(
      /"PurchaseLatencyP50","Service","flash-sale",\{[^}]*"stat":"Maximum"/,
    );
    expect(widget('Purchase latency (ms, slowest instance)')).toMatch(
      /"PurchaseLatencyP99","Service","flash-sale",\{[^}]*"stat":"Maximum"/,
    );
  });
});
