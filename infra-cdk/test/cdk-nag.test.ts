import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { synthesize } from './synth';
import type { Synthesized } from './synth';

/** Every acknowledged rule in a construct tree, with its reason. */
function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          // recorded as "Annotation::<rule>", the form cdk-nag looks up
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe('the AwsSolutions rule pack of cdk-nag', () => {
  it('when it checks a bucket with no logging and no TLS policy, then it reports errors (the check is live)', () => {
    const stack = new Stack(new App(), 'Probe');
    new s3.Bucket(stack, 'Careless');
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-S1']));
  });

  describe.each([
    ['default context', {}],
    [
      'cluster mode, HTTPS and the unsafe endpoint',
      {
        cacheShards: '2',
        certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abcdef01-2345-6789-abcd-ef0123456789',
        enableUnsafeEndpoint: 'true',
      },
    ],
    [
      'a Multi-AZ database without deletion protection',
      { databaseMultiAz: 'true', databaseDeletionProtection: 'false' },
    ],
    [
      'a disposable stack whose alarms email someone',
      { disposable: 'true', alarmEmail: 'oncall@example.com' },
    ],
  ])('the stack synthesized with %s', (_variant, context: Record<string, string>) => {
    let s: Synthesized;
    beforeAll(() => {
      s = synthesize(context);
    });
    afterAll(() => {
      s.dispose();
    });

    it('when the pack checks it, then there is no unacknowledged error and no unacknowledged warning', () => {
      const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(s.stack);
      const findings = report.violations.map(
        (v) =>
          `${v.severity ?? '?'} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
      expect(findings).toEqual([]);
      expect(report.success).toBe(true);
    });

    it('when findings are acknowledged, then each names one rule on one construct and says specifically why', () => {
      // (CDK acknowledges a CloudFormation-Validate rule of its own on every stack; only ours are checked here)
      const acks = acknowledgements(s.stack).filter((ack) => ack.id.startsWith('AwsSolutions-'));
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) {
        expect(ack.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
        expect(ack.reason.length).toBeGreaterThanOrEqual(60);
        expect(ack.path).not.toBe(s.stack.node.path);
      }
    });

    it('when the database options are applied, then it acknowledges only what those options leave off', () => {
      const ids = acknowledgements(s.stack)
        .filter((ack) => ack.path.startsWith(`${s.stack.node.path}/Database/`))
        .map((ack) => ack.id)
        .sort();
      const multiAz = context.databaseMultiAz === 'true';
      const protectedFromDeletion =
        context.databaseDeletionProtection !== 'false' && context.disposable !== 'true';
      expect(ids).toEqual(
        [
          'AwsSolutions-RDS11',
          'AwsSolutions-SMG4',
          ...(multiAz ? [] : ['AwsSolutions-RDS3']),
          ...(protectedFromDeletion ? [] : ['AwsSolutions-RDS10']),
        ].sort(),
      );
    });
  });
});
