import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface AlarmsProps {
  readonly topic: ITopic;
  /** Functions whose errors alarm, by a name used in the alarm's id and description. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** Dead-letter queues whose depth alarms. */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
}

const PERIOD = Duration.minutes(5);

/** Any function error and any message in a dead-letter queue is worth an e-mail: neither should happen. */
export class Alarms extends Construct {
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const action = new SnsAction(props.topic);
    const add = (alarmId: string, metric: IMetric, description: string) => {
      const alarm = new Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
    };
    for (const [name, fn] of Object.entries(props.functions)) {
      add(
        `${name}Errors`,
        fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
        `fleetscan: the ${name.toLowerCase()} function failed`,
      );
    }
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      add(
        `${name}DlqDepth`,
        queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
        `fleetscan: the ${name.toLowerCase()} dead-letter queue has messages (invocations that were given up on)`,
      );
    }
  }
}
