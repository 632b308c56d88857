import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { OUTPUT_KEYS } from '../config/contracts.ts';
import type { FleetscanConfig } from '../config/types.ts';
import { Alarms } from './alarms.ts';
import { FleetscanDocuments } from './documents.ts';
import { HistoryTable } from './history-table.ts';
import { Notifications } from './notifications.ts';
import { Scanner } from './scanner.ts';

export interface FleetscanStackProps extends StackProps {
  readonly config: FleetscanConfig;
}

export class FleetscanStack extends Stack {
  readonly documents: FleetscanDocuments;
  readonly history: HistoryTable;
  readonly notifications: Notifications;
  readonly scanner: Scanner;
  readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: FleetscanStackProps) {
    super(scope, id, {
      description: 'fleetscan: scans a fleet for memory fragmentation over SSM Run Command',
      // No CDKMetadata resource: its region-list condition is the only region literal the template would carry.
      analyticsReporting: false,
      ...props,
    });
    const { config } = props;

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
    });
    this.alarms = new Alarms(this, 'Alarms', {
      topic: this.notifications.topic,
      functions: { Scan: this.scanner.scan, Collect: this.scanner.collect },
      deadLetterQueues: {
        Scan: this.scanner.scan.dlq,
        Collect: this.scanner.collect.dlq,
        Delivery: this.scanner.deliveryDlq,
      },
    });

    new CfnOutput(this, OUTPUT_KEYS.tableName, { value: this.history.table.tableName });
    new CfnOutput(this, OUTPUT_KEYS.topicArn, { value: this.notifications.topic.topicArn });
    new CfnOutput(this, OUTPUT_KEYS.gatherDocumentName, { value: this.documents.gather.name });
    new CfnOutput(this, OUTPUT_KEYS.remediateDocumentName, { value: this.documents.remediate.name });
  }
}
