import { Duration } from 'aws-cdk-lib';
import {
  type Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type HorizontalAnnotation,
  LogQueryWidget,
  Metric,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC_NAMES, METRIC_SERVICE_DIMENSION, nodesMetric, PROBLEM_NODE_LOG } from '../config/contracts.ts';
import type { ScheduleGaps } from '../config/schedule.ts';
import type { Thresholds } from '../core/policy.ts';
import type { JobMetrics } from './alarms.ts';
import type { FleetscanFunction } from './function.ts';

export interface FleetscanDashboardProps {
  readonly dashboardName: string;
  readonly job: JobMetrics;
  readonly scan: FleetscanFunction;
  readonly collect: FleetscanFunction;
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
  readonly alarms: readonly Alarm[];
  readonly thresholds: Thresholds;
  readonly scheduleGaps: ScheduleGaps | null;
}

const WIDTH = 24;
const HALF = 12;

/** One data point per scan where possible: the schedule's shortest gap, between 5 minutes and a day. */
export function dashboardPeriod(gaps: ScheduleGaps | null): Duration {
  const seconds = gaps === null ? 86_400 : Math.min(86_400, Math.max(300, gaps.shortestSeconds));
  return Duration.minutes(Math.ceil(seconds / 60));
}

/** The Logs Insights query of the problem-node lines the collect function writes (PROBLEM_NODE_LOG). */
export function problemNodesQuery(): string[] {
  return [
    `fields @timestamp, ${PROBLEM_NODE_LOG.fields.join(', ')}`,
    `filter message = '${PROBLEM_NODE_LOG.message}'`,
    'sort @timestamp desc',
    'limit 100',
  ];
}

/**
 * One dashboard: what the fleet looks like (nodes by status, worst index, remediations by effect) and whether the
 * job works (collect duration against its timeout, errors and dead letters, the alarms, the last scans' problem
 * nodes from the logs). Every metric is one the functions emit, with its one `service` dimension.
 */
export class FleetscanDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: FleetscanDashboardProps) {
    super(scope, id);
    const period = dashboardPeriod(props.scheduleGaps);
    const job = (metricName: string, statistic: string, label: string) =>
      new Metric({
        namespace: props.job.namespace,
        metricName,
        dimensionsMap: { [METRIC_SERVICE_DIMENSION]: props.job.service },
        statistic,
        period,
        label,
      });
    const index = (value: number, label: string): HorizontalAnnotation => ({ value, label });
    const timeoutMs = props.collect.timeout?.toMilliseconds() ?? 0;

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(1),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: [
          `# fleetscan — ${props.dashboardName}`,
          'One point per scan. Drill into a scan with `fleetscan scan SCAN_ID`, a node with `fleetscan history NODE_ID`; ' +
            'check the deployment with `fleetscan doctor`.',
        ].join('\n\n'),
        width: WIDTH,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Nodes scanned, by status',
        width: HALF,
        left: [
          job(METRIC_NAMES.nodesScanned, 'Sum', 'scanned'),
          job(nodesMetric('OK'), 'Sum', 'OK'),
          job(nodesMetric('WARN'), 'Sum', 'WARN'),
          job(nodesMetric('CRITICAL'), 'Sum', 'CRITICAL'),
          job(nodesMetric('ERROR'), 'Sum', 'ERROR'),
        ],
        leftYAxis: { min: 0, showUnits: false },
      }),
      new GraphWidget({
        title: 'Worst unusable free space index (thousandths)',
        width: HALF,
        left: [job(METRIC_NAMES.worstUnusableIndex, 'Maximum', 'worst of the fleet')],
        leftYAxis: { min: 0, max: 1000, showUnits: false },
        leftAnnotations: [
          index(props.thresholds.warnUnusableIndex, 'WARN'),
          index(props.thresholds.criticalUnusableIndex, 'CRITICAL (with few blocks left)'),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Remediations by effect',
        width: HALF,
        stacked: true,
        left: [
          job(METRIC_NAMES.remediationImproved, 'Sum', 'improved'),
          job(METRIC_NAMES.remediationNoEffect, 'Sum', 'no effect'),
          job(METRIC_NAMES.remediationDryRun, 'Sum', 'dry run'),
          job(METRIC_NAMES.remediationFailed, 'Sum', 'failed'),
        ],
        right: [job(METRIC_NAMES.remediations, 'Sum', 'started')],
        leftYAxis: { min: 0, showUnits: false },
        rightYAxis: { min: 0, showUnits: false },
      }),
      new GraphWidget({
        title: 'Collect duration against its timeout (ms)',
        width: HALF,
        left: [
          props.collect.metricDuration({ statistic: 'Maximum', period, label: 'collect, longest' }),
          props.collect.metricDuration({ statistic: 'p50', period, label: 'collect, median' }),
          props.scan.metricDuration({ statistic: 'Maximum', period, label: 'scan, longest' }),
        ],
        leftYAxis: { min: 0, showUnits: false },
        leftAnnotations: [index(timeoutMs, 'collect timeout')],
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Errors and dead letters',
        width: HALF,
        left: [
          props.scan.metricErrors({ statistic: 'Sum', period, label: 'scan errors' }),
          props.collect.metricErrors({ statistic: 'Sum', period, label: 'collect errors' }),
          props.collect.metricThrottles({ statistic: 'Sum', period, label: 'collect throttles' }),
        ],
        right: Object.entries(props.deadLetterQueues).map(([name, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({
            statistic: 'Maximum',
            period,
            label: `${name.toLowerCase()} dead letters`,
          }),
        ),
        leftYAxis: { min: 0, showUnits: false },
        rightYAxis: { min: 0, showUnits: false },
      }),
      new AlarmStatusWidget({ title: 'Alarms', width: HALF, height: 6, alarms: [...props.alarms] }),
    );
    this.dashboard.addWidgets(
      new LogQueryWidget({
        title: 'Problem nodes, newest scan first (the collect function’s log)',
        width: WIDTH,
        height: 8,
        logGroupNames: [props.collect.logGroup.logGroupName],
        queryLines: problemNodesQuery(),
      }),
    );
  }
}
