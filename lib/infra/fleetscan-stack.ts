import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DEFAULT_OPERATIONS } from '../config/config.ts';
import { metricsNamespace, OUTPUT_KEYS } from '../config/contracts.ts';
import { scheduleGaps } from '../config/schedule.ts';
import type { FleetscanConfig, OperationsSettings } from '../config/types.ts';
import { Alarms } from './alarms.ts';
import { CliPolicies } from './cli-policies.ts';
import { FleetscanDashboard } from './dashboard.ts';
import { FleetscanDocuments } from './documents.ts';
import { HistoryTable } from './history-table.ts';
import { Notifications } from './notifications.ts';
import { Scanner } from './scanner.ts';

export interface FleetscanStackProps extends StackProps {
  readonly config: FleetscanConfig;
  /** @default DEFAULT_OPERATIONS */
  readonly operations?: OperationsSettings;
}

export class FleetscanStack extends Stack {
  readonly documents: FleetscanDocuments;
  readonly history: HistoryTable;
  readonly notifications: Notifications;
  readonly scanner: Scanner;
  readonly alarms: Alarms;
  readonly dashboard: FleetscanDashboard;
  readonly cliPolicies: CliPolicies;

  constructor(scope: Construct, id: string, props: FleetscanStackProps) {
    super(scope, id, {
      description: 'fleetscan: scans a fleet for memory fragmentation over SSM Run Command',
      // No CDKMetadata resource: its region-list condition is the only region literal the template would carry.
      analyticsReporting: false,
      ...props,
    });
    const { config } = props;
    const operations = props.operations ?? DEFAULT_OPERATIONS;
    // Validated by parseConfig already; the alarms and the dashboard follow the schedule's rhythm.
    const gaps = scheduleGaps(config.schedule);

    this.documents = new FleetscanDocuments(this, 'Documents', {
      namePrefix: this.stackName,
      executionTimeoutSeconds: config.executionTimeoutSeconds,
    });
    this.history = new HistoryTable(this, 'History');
    this.notifications = new Notifications(this, 'Notifications', { emails: config.notificationEmails });
    this.scanner = new Scanner(this, 'Scanner', {
      config,
      documents: this.documents,
      table: this.history.table,
      topic: this.notifications.topic,
      enabled: operations.enabled,
    });
    const deadLetterQueues = {
      Scan: this.scanner.scan.dlq,
      Collect: this.scanner.collect.dlq,
      Delivery: this.scanner.deliveryDlq,
    };
    const job = { namespace: metricsNamespace(this.stackName), service: this.scanner.collect.serviceName };
    this.alarms = new Alarms(this, 'Alarms', {
      topic: this.notifications.topic,
      namePrefix: this.stackName,
      functions: { Scan: this.scanner.scan, Collect: this.scanner.collect },
      deadLetterQueues,
      job,
      scheduleGaps: gaps,
      errorPercent: operations.alarmErrorPercent,
    });
    this.notifications.allowAlarms(this.alarms.alarmArns);
    this.dashboard = new FleetscanDashboard(this, 'Dashboard', {
      // Dashboard names are global to the account; a copy of the stack in another region gets its own.
      dashboardName: `${this.stackName}-${this.region}`,
      job,
      scan: this.scanner.scan,
      collect: this.scanner.collect,
      deadLetterQueues,
      alarms: this.alarms.alarms,
      thresholds: config.thresholds,
      scheduleGaps: gaps,
    });
    this.cliPolicies = new CliPolicies(this, 'CliPolicies', {
      stackName: this.stackName,
      table: this.history.table,
      scanFunction: this.scanner.scan,
      schedule: this.scanner.schedule,
      topic: this.notifications.topic,
      alarmArns: this.alarms.alarmArns,
    });

    const outputs: Record<(typeof OUTPUT_KEYS)[keyof typeof OUTPUT_KEYS], string> = {
      [OUTPUT_KEYS.tableName]: this.history.table.tableName,
      [OUTPUT_KEYS.topicArn]: this.notifications.topic.topicArn,
      [OUTPUT_KEYS.gatherDocumentName]: this.documents.gather.name,
      [OUTPUT_KEYS.remediateDocumentName]: this.documents.remediate.name,
      [OUTPUT_KEYS.scanFunctionName]: this.scanner.scan.functionName,
      [OUTPUT_KEYS.collectFunctionName]: this.scanner.collect.functionName,
      [OUTPUT_KEYS.scheduleName]: this.scanner.schedule.scheduleName,
      // The schedule is in the account's default group (no group is created).
      [OUTPUT_KEYS.scheduleGroupName]: 'default',
      [OUTPUT_KEYS.dashboardName]: this.dashboard.dashboard.dashboardName,
      [OUTPUT_KEYS.alarmNames]: Fn.join(
        ',',
        this.alarms.alarms.map((alarm) => alarm.alarmName),
      ),
      [OUTPUT_KEYS.readOnlyPolicyArn]: this.cliPolicies.readOnly.managedPolicyArn,
      [OUTPUT_KEYS.operatorPolicyArn]: this.cliPolicies.operator.managedPolicyArn,
    };
    for (const [key, value] of Object.entries(outputs)) new CfnOutput(this, key, { value });
  }
}
