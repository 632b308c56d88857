import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC_NAMES, METRIC_SERVICE_DIMENSION, nodesMetric } from '../config/contracts.ts';
import { describeSeconds, type ScheduleGaps } from '../config/schedule.ts';

/** Where the collect function's metrics are: its namespace and its one dimension. */
export interface JobMetrics {
  readonly namespace: string;
  /** The collect function's POWERTOOLS_SERVICE_NAME (the metrics' `service` dimension). */
  readonly service: string;
}

export interface AlarmsProps {
  readonly topic: ITopic;
  /** Every alarm is named `<prefix>-<id>`: the topic and key policies name these alarms by ARN. */
  readonly namePrefix: string;
  /** Functions whose errors alarm, by a name used in the alarm's id and description. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** Dead-letter queues whose depth alarms. */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
  readonly job: JobMetrics;
  /** The schedule's gaps (null: it fires once in four years or less). */
  readonly scheduleGaps: ScheduleGaps | null;
  /** The error-share alarm fires above this percentage of a scan's nodes. */
  readonly errorPercent: number;
}

const PERIOD = Duration.minutes(5);
const DAY = 86_400;
/** PutMetricAlarm's limits: Period × EvaluationPeriods ≤ 7 days, and ≤ 1 day when the period is under an hour. */
const MAX_EVALUATION_SECONDS = 7 * DAY;

export interface AlarmWindow {
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  /** What the alarm looks back over, in seconds (period × periods). */
  readonly seconds: number;
}

/**
 * The window the job alarms look back over: two of the schedule's longest gaps, so that one late or lost scan does
 * not alarm and two do, and a cron schedule's quiet nights and weekends are not mistaken for a stopped job. One
 * period up to a day; day-long periods beyond that, capped at CloudWatch's seven days (a schedule with gaps longer
 * than 3.5 days alarms late in each gap: the README says so).
 */
export function alarmWindow(gaps: ScheduleGaps | null): AlarmWindow {
  const wanted = gaps === null ? MAX_EVALUATION_SECONDS : Math.min(2 * gaps.longestSeconds, MAX_EVALUATION_SECONDS);
  if (wanted <= DAY) {
    const periodSeconds = Math.ceil(wanted / 60) * 60;
    return { periodSeconds, evaluationPeriods: 1, seconds: periodSeconds };
  }
  const evaluationPeriods = Math.ceil(wanted / DAY);
  return { periodSeconds: DAY, evaluationPeriods, seconds: evaluationPeriods * DAY };
}

interface AlarmSpec {
  readonly metric: IMetric;
  readonly threshold: number;
  readonly comparison: ComparisonOperator;
  readonly missing: TreatMissingData;
  readonly evaluationPeriods: number;
  readonly description: string;
}

/**
 * Alarms on the functions (errors, dead-letter queues: neither should ever happen) and on the job itself: no scan
 * completed, a scan that reached no node, scans ending INCOMPLETE or with too many ERROR nodes, failed
 * remediations. The job alarms treat missing data as breaching — a job that stopped emits nothing — except the
 * remediation one: remediations are rare by design, so no data there means nothing failed.
 */
export class Alarms extends Construct {
  readonly alarms: Alarm[] = [];
  /** The alarms' ARNs, built from their names (usable where a reference to an alarm would make a cycle). */
  readonly alarmArns: string[] = [];
  readonly window: AlarmWindow;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const action = new SnsAction(props.topic);
    const add = (alarmId: string, spec: AlarmSpec) => {
      const alarmName = `${props.namePrefix}-${alarmId}`;
      const alarm = new Alarm(this, alarmId, {
        alarmName,
        metric: spec.metric,
        threshold: spec.threshold,
        evaluationPeriods: spec.evaluationPeriods,
        comparisonOperator: spec.comparison,
        treatMissingData: spec.missing,
        alarmDescription: spec.description,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
      this.alarmArns.push(
        Stack.of(this).formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: alarmName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      );
    };
    const once = (description: string, metric: IMetric) => ({
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
      description,
    });
    for (const [name, fn] of Object.entries(props.functions)) {
      add(
        `${name}Errors`,
        once(
          `fleetscan: the ${name.toLowerCase()} function failed`,
          fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
        ),
      );
    }
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      add(
        `${name}DlqDepth`,
        once(
          `fleetscan: the ${name.toLowerCase()} dead-letter queue has messages (invocations that were given up on)`,
          queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
        ),
      );
    }

    this.window = alarmWindow(props.scheduleGaps);
    const period = Duration.seconds(this.window.periodSeconds);
    const within = describeSeconds(this.window.seconds);
    const job = (metricName: string, statistic: string) =>
      new Metric({
        namespace: props.job.namespace,
        metricName,
        dimensionsMap: { [METRIC_SERVICE_DIMENSION]: props.job.service },
        statistic,
        period,
      });
    const breaching = { evaluationPeriods: this.window.evaluationPeriods, missing: TreatMissingData.BREACHING };
    add('NoCompletedScan', {
      ...breaching,
      metric: job(METRIC_NAMES.scansCompleted, 'Sum'),
      threshold: 1,
      comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
      description: `fleetscan: no scan completed within ${within} — the schedule is off or failing, or collections never end (fleetscan doctor)`,
    });
    add('NoNodeScanned', {
      ...breaching,
      metric: job(METRIC_NAMES.nodesScanned, 'Minimum'),
      threshold: 0,
      comparison: ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      description: `fleetscan: a scan within ${within} reached no node, or none completed — no managed node carries the target tags (fleetscan doctor)`,
    });
    add('ScanIncomplete', {
      ...breaching,
      metric: job(METRIC_NAMES.scansIncomplete, 'Sum'),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: `fleetscan: a scan within ${within} ended INCOMPLETE (collection gave up), or none ended`,
    });
    add('ErrorNodes', {
      ...breaching,
      metric: new MathExpression({
        // A scan of no node has no share: the NoNodeScanned alarm reports it.
        expression: 'IF(scanned > 0, 100 * errors / scanned, 0)',
        usingMetrics: {
          errors: job(nodesMetric('ERROR'), 'Sum'),
          scanned: job(METRIC_NAMES.nodesScanned, 'Sum'),
        },
        period,
        label: 'ERROR nodes, % of nodes scanned',
      }),
      threshold: props.errorPercent,
      comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `fleetscan: more than ${props.errorPercent}% of the nodes scanned within ${within} were ERROR (unreachable, failed or unparsable), or no scan completed`,
    });
    add('RemediationFailed', {
      metric: job(METRIC_NAMES.remediationFailed, 'Sum'),
      threshold: 1,
      comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: this.window.evaluationPeriods,
      missing: TreatMissingData.NOT_BREACHING,
      description: `fleetscan: a remediation failed on a node within ${within} (fleetscan remediations)`,
    });
  }
}
