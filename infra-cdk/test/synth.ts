import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FlashSaleStack } from '../lib/flash-sale-stack';

interface CdkJson {
  readonly context: Record<string, unknown>;
}

/** the feature flags `cdk synth` runs with: tests must synthesize what operators deploy */
const CDK_JSON = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')) as CdkJson;

export interface Synthesized {
  readonly app: App;
  readonly stack: FlashSaleStack;
  readonly template: Template;
  /** the template as plain JSON, for searching it as a whole */
  readonly json: Record<string, unknown>;
  /** every resource of one type, by logical id */
  resources(type: string): Record<string, { Properties: Record<string, unknown> }>;
  /** the one resource of a type (fails if there is not exactly one) */
  only(type: string): { id: string; Properties: Record<string, unknown> };
  /** the launch template's user data as the shell script it becomes, references shown as ${Ref} */
  readonly userData: string;
  /** removes the temporary cloud assembly */
  dispose(): void;
}

/** Renders a CloudFormation value as text, intrinsic functions shown as ${...} placeholders. */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const join = record['Fn::Join'];
    if (Array.isArray(join)) {
      const [separator, parts] = join as [string, unknown[]];
      return parts.map(render).join(separator);
    }
    if (typeof record.Ref === 'string') return '${' + record.Ref + '}';
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return '${' + getAtt.join('.') + '}';
    if (typeof record['Fn::Sub'] === 'string') return record['Fn::Sub'];
  }
  return JSON.stringify(value);
}

/** Synthesizes the stack once with cdk.json's context plus the given `-c` options (strings, as from the CLI). */
export function synthesize(context: Record<string, string> = {}): Synthesized {
  const app = new App({ context: { ...CDK_JSON.context, ...context } });
  const stack = new FlashSaleStack(app, 'FlashSale');
  const template = Template.fromStack(stack);
  const json = template.toJSON();
  const all = json.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const resources = (type: string) =>
    Object.fromEntries(Object.entries(all).filter(([, resource]) => resource.Type === type));
  const only = (type: string) => {
    const found = Object.entries(resources(type));
    if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
    const [id, resource] = found[0] as [string, { Properties: Record<string, unknown> }];
    return { id, Properties: resource.Properties };
  };
  const launchData = only('AWS::EC2::LaunchTemplate').Properties.LaunchTemplateData as {
    UserData: { 'Fn::Base64': unknown };
  };
  return {
    app,
    stack,
    template,
    json,
    resources,
    only,
    userData: render(launchData.UserData['Fn::Base64']),
    dispose: () => {
      fs.rmSync(app.outdir, { recursive: true, force: true });
    },
  };
}

/**
 * DATABASE_URL as the boot script's jq program writes it from the RDS secret (fleet-timing.test.ts runs that
 * program on a sample secret and checks it produces this form).
 */
export const SAMPLE_DATABASE_URL =
  'postgres://flashsale:p%2Cw%3Dd%5E@flashsale.abc123.eu-west-1.rds.amazonaws.com:5432/flashsale' +
  '?sslmode=verify-full&sslrootcert=/etc/rds/ca.pem';

/**
 * The environment an instance gives the service, as the boot script writes it: the settings lines of the
 * env file, its shell variables filled in as the instance would (instance id, tokens, the database URL), and
 * the connection secret's JSON with the cache endpoint resolved to a sample host name.
 */
export function serviceEnvironment(s: Synthesized): Record<string, string> {
  const script = s.userData;
  const start = script.indexOf('<<EOF\n');
  const lines = script.slice(start + '<<EOF\n'.length, script.indexOf('\nEOF\n', start)).split('\n');
  const shell: Record<string, string> = {
    $INSTANCE_ID: 'i-0123456789abcdef0',
    $REDIS_PASSWORD: 'A'.repeat(64),
    $ADMIN_TOKEN: 'b'.repeat(40),
    $DATABASE_URL: SAMPLE_DATABASE_URL,
  };
  const env: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf('=');
    const value = line.slice(at + 1);
    env[line.slice(0, at)] = shell[value] ?? value;
  }
  const secret = Object.entries(s.resources('AWS::SecretsManager::Secret')).find(([id]) =>
    id.includes('RedisConnection'),
  )?.[1];
  const json = render(secret?.Properties.SecretString).replace(
    /\$\{[^}]+\}/g,
    'flash-sale.abc123.cache.amazonaws.com',
  );
  return { ...env, ...(JSON.parse(json) as Record<string, string>) };
}
