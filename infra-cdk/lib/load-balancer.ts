import { Duration, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { HealthCheckTiming, ShutdownTiming } from './graceful-shutdown';

export interface LoadBalancerProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly servicePort: number;
  readonly certificateArn: string | undefined;
  readonly healthCheck: HealthCheckTiming;
  readonly shutdown: ShutdownTiming;
}

/**
 * Paths only operators use: the load balancer refuses them, and Prometheus scrapes each instance on the
 * service port from inside the VPC. ALB path patterns are case-sensitive; the service answers these routes
 * only on these exact spellings (see app/http/routes/operations-routes.ts), so no variant gets past.
 */
export const OPERATOR_ONLY_PATHS = ['/metrics', '/metrics/*'];

/** the body of the refusal: the service's own problem document for an unknown path */
const NOT_FOUND_PROBLEM = JSON.stringify({
  type: 'urn:flash-sale:problem:not_found',
  title: 'Not found',
  status: 404,
  detail: 'not served through the load balancer',
  code: 'not_found',
});

/**
 * The internet-facing ALB and the target group of the fleet. Without a certificate it serves HTTP on 80; with
 * one it serves HTTPS on 443 and answers HTTP with a permanent redirect.
 *
 * The target group checks GET /health: 200 only while the instance can reach Redis and is not draining. It
 * takes an instance out of rotation; it does not decide whether the instance lives (see fleet.ts).
 */
export class LoadBalancer extends Construct {
  public readonly alb: elbv2.ApplicationLoadBalancer;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly url: string;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);

    this.alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      internetFacing: true,
      dropInvalidHeaderFields: true,
    });
    Validations.of(this.alb).acknowledge(
      {
        id: 'AwsSolutions-ELB2',
        reason:
          'The stack is environment-agnostic so that synth needs no AWS account or lookups, and ALB access ' +
          'logging needs the region at synth time. Every request is logged by the service itself, in ' +
          'CloudWatch Logs.',
      },
      {
        id: 'AwsSolutions-EC23',
        reason: 'A public flash-sale endpoint: the ALB accepts HTTP(S) from anywhere, and nothing else.',
      },
    );

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'Fleet', {
      vpc: props.vpc,
      port: props.servicePort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.INSTANCE,
      deregistrationDelay: Duration.seconds(props.shutdown.deregistrationDelaySeconds),
      healthCheck: {
        path: '/health',
        healthyHttpCodes: '200',
        interval: Duration.seconds(props.healthCheck.intervalSeconds),
        timeout: Duration.seconds(props.healthCheck.timeoutSeconds),
        healthyThresholdCount: props.healthCheck.healthyThreshold,
        unhealthyThresholdCount: props.healthCheck.unhealthyThreshold,
      },
    });

    let listener: elbv2.ApplicationListener;
    if (props.certificateArn === undefined) {
      listener = this.alb.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultTargetGroups: [this.targetGroup],
      });
      this.url = `http://${this.alb.loadBalancerDnsName}`;
    } else {
      listener = this.alb.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [this.targetGroup],
      });
      this.alb.addRedirect({ sourcePort: 80, targetPort: 443 });
      this.url = `https://${this.alb.loadBalancerDnsName}`;
    }
    // ahead of the default forward: the internet never reaches the metrics (with HTTPS, port 80 only
    // redirects, so the HTTPS listener is the one that forwards)
    listener.addAction('OperatorOnly', {
      priority: 1,
      conditions: [elbv2.ListenerCondition.pathPatterns(OPERATOR_ONLY_PATHS)],
      action: elbv2.ListenerAction.fixedResponse(404, {
        contentType: 'application/json',
        messageBody: NOT_FOUND_PROBLEM,
      }),
    });
  }
}
