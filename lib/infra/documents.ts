import { readFileSync } from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import { CfnDocument } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { REMEDIATION_ACTIONS } from '../core/report.ts';

/** The scripts the documents run, read at synth so the template carries exactly the tested files. */
export const SCRIPTS = {
  gather: new URL('./documents/gather.sh', import.meta.url),
  remediate: new URL('./documents/remediate.sh', import.meta.url),
} as const;

/**
 * The gather document's `since`: the previous scan's time in epoch seconds, or 0 (count failures since boot). Digits
 * only and no leading zeros, so the value the script splices into single quotes can never close them.
 */
export const SINCE_PATTERN = '^(0|[1-9][0-9]{0,11})$';

/** No leading zeros: `numa 007` would name a sysfs directory that does not exist. */
export const NUMA_NODE_PATTERN = '^(all|[0-9]|[1-9][0-9]{1,2})$';

/** The remediate document's pre-check and settle parameters, as its script checks them again. */
export const MAX_LOAD_PER_CPU_PATTERN = '^(0|[1-9][0-9]{0,2})(\\.[0-9]{1,2})?$';
export const MAX_PROACTIVENESS_PATTERN = '^([0-9]|[1-9][0-9]|100)$';
export const SETTLE_SECONDS_PATTERN = '^([0-9]|[1-9][0-9]|[1-2][0-9]{2}|300)$';

/** What the remediate document does when the sender leaves a guard parameter out (lib/config documents them). */
export const REMEDIATE_GUARD_DEFAULTS = { maxLoadPerCpu: '1', maxProactiveness: '20', settleSeconds: '10' } as const;

export interface CommandDocument {
  readonly name: string;
  readonly arn: string;
}

export interface FleetscanDocumentsProps {
  /** Documents are named `<prefix>-Gather` and `<prefix>-Remediate`. */
  readonly namePrefix: string;
  /** The runShellScript step's timeoutSeconds. */
  readonly executionTimeoutSeconds: number;
}

/** One runCommand entry per line: the SSM agent joins them with newlines into the script it runs. */
export function scriptLines(url: URL): string[] {
  const text = readFileSync(url, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const LINUX_ONLY = { StringEquals: ['platformType', 'Linux'] };

/** The gather and remediate SSM Command documents. */
export class FleetscanDocuments extends Construct {
  readonly gather: CommandDocument;
  readonly remediate: CommandDocument;

  constructor(scope: Construct, id: string, props: FleetscanDocumentsProps) {
    super(scope, id);
    const timeoutSeconds = props.executionTimeoutSeconds;

    this.gather = this.document('Gather', `${props.namePrefix}-Gather`, {
      schemaVersion: '2.2',
      description:
        'fleetscan: prints this node’s /proc/buddyinfo, allocation failures since the previous scan, compaction counters and pageblocks. Read-only.',
      parameters: {
        since: {
          type: 'String',
          description:
            "Count kernel-log allocation failures logged at or after this time (epoch seconds); '0' = since boot.",
          default: '0',
          allowedPattern: SINCE_PATTERN,
        },
      },
      mainSteps: [
        {
          action: 'aws:runShellScript',
          name: 'gather',
          precondition: LINUX_ONLY,
          inputs: { timeoutSeconds, runCommand: scriptLines(SCRIPTS.gather) },
        },
      ],
    });

    this.remediate = this.document('Remediate', `${props.namePrefix}-Remediate`, {
      schemaVersion: '2.2',
      description:
        'fleetscan: drops caches and/or compacts memory, measuring /proc/buddyinfo before and after. dryRun=true writes nothing.',
      parameters: {
        action: {
          type: 'String',
          description:
            'What to do: drop-caches (page cache), compact (all nodes), compact-node (numaNode), drop-caches-and-compact.',
          allowedValues: [...REMEDIATION_ACTIONS],
        },
        numaNode: {
          type: 'String',
          description: "NUMA node for compact-node and drop-caches-and-compact, or 'all'.",
          default: 'all',
          allowedPattern: NUMA_NODE_PATTERN,
        },
        dryRun: {
          type: 'String',
          description: "'true' measures and reports the plan without writing anything.",
          default: 'true',
          allowedValues: ['true', 'false'],
        },
        maxLoadPerCpu: {
          type: 'String',
          description: 'Skip (reported, not failed) when the 1-minute load average per online CPU is above this.',
          default: REMEDIATE_GUARD_DEFAULTS.maxLoadPerCpu,
          allowedPattern: MAX_LOAD_PER_CPU_PATTERN,
        },
        maxProactiveness: {
          type: 'String',
          description:
            'Skip compaction when vm.compaction_proactiveness is above this (the kernel compacts by itself).',
          default: REMEDIATE_GUARD_DEFAULTS.maxProactiveness,
          allowedPattern: MAX_PROACTIVENESS_PATTERN,
        },
        settleSeconds: {
          type: 'String',
          description: 'Seconds to let the kernel settle after acting, before buddyinfo is read again.',
          default: REMEDIATE_GUARD_DEFAULTS.settleSeconds,
          allowedPattern: SETTLE_SECONDS_PATTERN,
        },
      },
      mainSteps: [
        {
          action: 'aws:runShellScript',
          name: 'remediate',
          precondition: LINUX_ONLY,
          inputs: { timeoutSeconds, runCommand: scriptLines(SCRIPTS.remediate) },
        },
      ],
    });
  }

  private document(id: string, name: string, content: Record<string, unknown>): CommandDocument {
    new CfnDocument(this, id, {
      name,
      documentType: 'Command',
      documentFormat: 'JSON',
      // A named document cannot be replaced in place; NewVersion lets CloudFormation update it.
      updateMethod: 'NewVersion',
      content,
    });
    const arn = Stack.of(this).formatArn({ service: 'ssm', resource: 'document', resourceName: name });
    return { name, arn };
  }
}
