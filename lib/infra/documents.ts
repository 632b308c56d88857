import { readFileSync } from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import { CfnDocument } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { DOCUMENT_PATTERNS, REMEDIATE_GUARD_DEFAULTS } from '../config/contracts.ts';
import { REMEDIATION_ACTIONS } from '../core/report.ts';

/** The scripts the documents run, read at synth so the template carries exactly the tested files. */
export const SCRIPTS = {
  gather: new URL('./documents/gather.sh', import.meta.url),
  remediate: new URL('./documents/remediate.sh', import.meta.url),
} as const;

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
          allowedPattern: DOCUMENT_PATTERNS.since,
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
          allowedPattern: DOCUMENT_PATTERNS.numaNode,
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
          allowedPattern: DOCUMENT_PATTERNS.maxLoadPerCpu,
        },
        maxProactiveness: {
          type: 'String',
          description:
            'Skip compaction when vm.compaction_proactiveness is above this (the kernel compacts by itself).',
          default: REMEDIATE_GUARD_DEFAULTS.maxProactiveness,
          allowedPattern: DOCUMENT_PATTERNS.maxProactiveness,
        },
        settleSeconds: {
          type: 'String',
          description: 'Seconds to let the kernel settle after acting, before buddyinfo is read again.',
          default: REMEDIATE_GUARD_DEFAULTS.settleSeconds,
          allowedPattern: DOCUMENT_PATTERNS.settleSeconds,
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
