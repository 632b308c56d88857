/**
 * The events SSM puts on the default EventBridge bus by itself, best effort: one
 * `EC2 Command Status-change Notification` per command status change and one
 * `EC2 Command Invocation Status-change Notification` per node. Shapes follow the SSM user guide's examples.
 */
export interface CommandStatusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'EC2 Command Status-change Notification';
  readonly source: 'aws.ssm';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: {
    readonly 'command-id': string;
    readonly 'document-name': string;
    readonly 'expire-after': string;
    readonly parameters: Readonly<Record<string, readonly string[]>>;
    readonly 'requested-date-time': string;
    readonly status: string;
  };
}

export interface InvocationStatusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'EC2 Command Invocation Status-change Notification';
  readonly source: 'aws.ssm';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: {
    readonly 'command-id': string;
    readonly 'document-name': string;
    readonly 'instance-id': string;
    readonly 'requested-date-time': string;
    readonly status: string;
  };
}

export type SsmEvent = CommandStatusEvent | InvocationStatusEvent;

/** EventBridge prints times without milliseconds. */
export function eventTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

export function instanceArn(region: string, account: string, instanceId: string): string {
  return `arn:aws:ec2:${region}:${account}:instance/${instanceId}`;
}
