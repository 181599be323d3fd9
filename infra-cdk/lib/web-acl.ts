import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface WebAclProps {
  readonly alb: elbv2.IApplicationLoadBalancer;
  /** requests one client address may send in any 5 minutes before the edge blocks it */
  readonly requestsPerIpPer5Minutes: number;
  readonly logRetentionDays: logs.RetentionDays;
}

/** CloudWatch metrics and sampled requests for the ACL and each of its rules */
const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
  cloudWatchMetricsEnabled: true,
  metricName,
  sampledRequestsEnabled: true,
});

const managedRule = (name: string, priority: number): wafv2.CfnWebACL.RuleProperty => ({
  name,
  priority,
  statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
  overrideAction: { none: {} },
  visibilityConfig: visibility(name),
});

/**
 * AWS WAF in front of the ALB: the edge's share of admission control (the service limits each buyer and
 * address fleet wide; the Lua script guards the stock). Addresses on Amazon's reputation list are blocked,
 * then any address over its rate, then requests matching known bad inputs (exploit payloads in paths,
 * headers and bodies). The rate rule counts every request an address sends, reads included, so it sits
 * well above the service's own per-address purchase limit: it stops floods before they cost the fleet
 * anything, and leaves the precise 429s to the service.
 *
 * Every rule has CloudWatch metrics; requests a rule blocked are logged to a log group (WAF requires the
 * aws-waf-logs- prefix), the allowed ones are not: a flash sale's millions of them would cost more than
 * they tell.
 */
export class WebAcl extends Construct {
  public readonly acl: wafv2.CfnWebACL;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WebAclProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;

    this.acl = new wafv2.CfnWebACL(this, 'Acl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`${stackName}-web-acl`),
      rules: [
        managedRule('AWSManagedRulesAmazonIpReputationList', 0),
        {
          name: 'RequestsPerClientAddress',
          priority: 1,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: props.requestsPerIpPer5Minutes,
              evaluationWindowSec: 300,
              aggregateKeyType: 'IP',
            },
          },
          visibilityConfig: visibility('RequestsPerClientAddress'),
        },
        managedRule('AWSManagedRulesKnownBadInputsRuleSet', 2),
      ],
    });

    new wafv2.CfnWebACLAssociation(this, 'AlbAssociation', {
      resourceArn: props.alb.loadBalancerArn,
      webAclArn: this.acl.attrArn,
    });

    this.logGroup = new logs.LogGroup(this, 'BlockedRequests', {
      logGroupName: `aws-waf-logs-${stackName}`,
      retention: props.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.acl.attrArn,
      logDestinationConfigs: [this.logGroup.logGroupArn],
      loggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [
          {
            Behavior: 'KEEP',
            Requirement: 'MEETS_ANY',
            Conditions: [{ ActionCondition: { Action: 'BLOCK' } }],
          },
        ],
      },
    });
  }
}
