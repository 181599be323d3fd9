import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { readContext } from '../lib/context';
import { loadConfig } from '../../app/config';
import { serviceEnvironment, synthesize } from './synth';
import type { Synthesized } from './synth';

describe('the stack with default context', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize();
  });
  afterAll(() => {
    s.dispose();
  });

  describe('when the web ACL is synthesized', () => {
    it('then it is a regional ACL that allows by default, with CloudWatch metrics', () => {
      s.template.resourceCountIs('AWS::WAFv2::WebACL', 1);
      s.template.hasResourceProperties('AWS::WAFv2::WebACL', {
        Scope: 'REGIONAL',
        DefaultAction: { Allow: {} },
        VisibilityConfig: { CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true },
      });
    });

    it('then it blocks bad-reputation addresses, then any address over 2,000 requests in 5 minutes, then known bad inputs', () => {
      const acl = s.only('AWS::WAFv2::WebACL').Properties as {
        Rules: { Name: string; Priority: number; VisibilityConfig: { CloudWatchMetricsEnabled: boolean } }[];
      };
      expect(acl.Rules.map((rule) => [rule.Priority, rule.Name])).toEqual([
        [0, 'AWSManagedRulesAmazonIpReputationList'],
        [1, 'RequestsPerClientAddress'],
        [2, 'AWSManagedRulesKnownBadInputsRuleSet'],
      ]);
      for (const rule of acl.Rules) expect(rule.VisibilityConfig.CloudWatchMetricsEnabled).toBe(true);
      s.template.hasResourceProperties('AWS::WAFv2::WebACL', {
        Rules: Match.arrayWith([
          Match.objectLike({
            Name: 'RequestsPerClientAddress',
            Action: { Block: {} },
            Statement: {
              RateBasedStatement: { Limit: 2000, EvaluationWindowSec: 300, AggregateKeyType: 'IP' },
            },
          }),
          Match.objectLike({
            Name: 'AWSManagedRulesKnownBadInputsRuleSet',
            OverrideAction: { None: {} },
            Statement: {
              ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesKnownBadInputsRuleSet' },
            },
          }),
        ]),
      });
    });

    it('then it is associated with the ALB', () => {
      const alb = s.only('AWS::ElasticLoadBalancingV2::LoadBalancer');
      const acl = s.only('AWS::WAFv2::WebACL');
      s.template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
        ResourceArn: { Ref: alb.id },
        WebACLArn: { 'Fn::GetAtt': [acl.id, 'Arn'] },
      });
    });

    it('then the requests it blocks, and only those, are logged to an aws-waf-logs- log group with a retention', () => {
      s.template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: 'aws-waf-logs-FlashSale',
        RetentionInDays: 30,
      });
      const logGroup = Object.entries(s.resources('AWS::Logs::LogGroup')).find(
        ([, group]) => group.Properties.LogGroupName === 'aws-waf-logs-FlashSale',
      )?.[0];
      s.template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
        LogDestinationConfigs: [{ 'Fn::GetAtt': [logGroup, 'Arn'] }],
        LoggingFilter: {
          DefaultBehavior: 'DROP',
          Filters: [{ Behavior: 'KEEP', Conditions: [{ ActionCondition: { Action: 'BLOCK' } }] }],
        },
      });
    });
  });

  it('when an instance starts, then the service trusts one proxy (the ALB) for the client address, and its production limits are on', () => {
    const config = loadConfig(serviceEnvironment(s));
    expect(config.admission).toEqual({ perUser: 10, perIp: 100, windowMs: 60_000, trustProxy: 1 });
  });
});

describe('the context option wafRequestsPerIpPer5Minutes', () => {
  const settings = (context: Record<string, string>) => readContext(new App({ context }).node);

  it('when it is given, then the rate-based rule uses it', () => {
    const s = synthesize({ wafRequestsPerIpPer5Minutes: '500' });
    try {
      s.template.hasResourceProperties('AWS::WAFv2::WebACL', {
        Rules: Match.arrayWith([
          Match.objectLike({ Statement: { RateBasedStatement: Match.objectLike({ Limit: 500 }) } }),
        ]),
      });
    } finally {
      s.dispose();
    }
  });

  it.each(['9', 'many', '2000000001'])('when it is %s, then synthesis stops naming it', (value) => {
    expect(() => settings({ wafRequestsPerIpPer5Minutes: value })).toThrow(
      /context wafRequestsPerIpPer5Minutes=.* is invalid: expected an integer from 10 to 2000000000/,
    );
  });
});
