import { Validations } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';

export interface AlarmTopicOptions {
  /** a new topic with this address subscribed (AWS mails a confirmation link first) */
  readonly alarmEmail: string | undefined;
  /** an existing topic, e.g. one that already pages the on-call rota */
  readonly alarmTopicArn: string | undefined;
}

/**
 * Where the alarms send their ALARM and OK notifications, from the alarmEmail or alarmTopicArn context
 * option; undefined when neither is given, and then no alarm notifies anyone (the dashboard still shows them).
 */
export function alarmTopic(scope: Construct, options: AlarmTopicOptions): sns.ITopic | undefined {
  if (options.alarmTopicArn !== undefined) {
    return sns.Topic.fromTopicArn(scope, 'AlarmTopic', options.alarmTopicArn);
  }
  if (options.alarmEmail === undefined) return undefined;
  const topic = new sns.Topic(scope, 'AlarmTopic', {
    displayName: 'Flash-sale alarms',
    enforceSSL: true,
  });
  topic.addSubscription(new subscriptions.EmailSubscription(options.alarmEmail));
  Validations.of(topic).acknowledge({
    id: 'AwsSolutions-SNS2',
    reason:
      'CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key, and a customer ' +
      'managed key for alarm names and states only would cost more than the data is worth protecting.',
  });
  return topic;
}
