/**
 * The deployed stack as `fleetscan doctor` and `fleetscan scan --now` find it: DescribeStacks, its status and its
 * outputs (lib/config/contracts.ts OUTPUT_KEYS). The CloudFormation client is loaded only when a command needs it.
 */
import { OUTPUT_KEYS } from '../config/contracts.ts';
import { CliError } from './errors.ts';
import { clean } from './format.ts';
import { EXIT_FAILURE, explained, quietSdk } from './table-source.ts';

export type OutputName = keyof typeof OUTPUT_KEYS;

export interface DeployedStack {
  readonly name: string;
  /** CREATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE, ... */
  readonly status: string;
  /** Why CloudFormation is in that status, when it says. */
  readonly reason: string | null;
  /** Last update (or creation), ISO-8601. */
  readonly updatedAt: string | null;
  /** The outputs the stack has, by OUTPUT_KEYS name. */
  readonly outputs: Partial<Record<OutputName, string>>;
  /** The region the stack was looked up in. */
  readonly region: string;
}

/** The statuses in which a stack is deployed and settled. */
export const SETTLED_STATUSES = ['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'IMPORT_COMPLETE'] as const;

export async function describeDeployedStack(stack: string, region: string | undefined): Promise<DeployedStack> {
  quietSdk();
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const client = new CloudFormationClient(region === undefined ? {} : { region });
  try {
    const where = await explained(() => client.config.region(), { stack });
    const missing = () =>
      new CliError(
        `no such stack: ${clean(stack, 128)} in ${clean(where, 40)} — deploy it (npx cdk deploy), or pass --stack NAME or --region REGION`,
        EXIT_FAILURE,
      );
    const result = await explained(
      async () => {
        try {
          return await client.send(new DescribeStacksCommand({ StackName: stack }));
        } catch (error) {
          if (error instanceof Error && error.name === 'ValidationError' && /does not exist/i.test(error.message)) {
            throw missing();
          }
          throw error;
        }
      },
      { stack },
    );
    const found = result.Stacks?.[0];
    if (found === undefined) throw missing();
    const byKey = new Map((found.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']));
    const outputs: Partial<Record<OutputName, string>> = {};
    for (const [name, key] of Object.entries(OUTPUT_KEYS) as [OutputName, string][]) {
      const value = byKey.get(key);
      if (value !== undefined && value !== '') outputs[name] = value;
    }
    const updated = found.LastUpdatedTime ?? found.CreationTime;
    return {
      name: found.StackName ?? stack,
      status: found.StackStatus ?? 'UNKNOWN',
      reason: found.StackStatusReason ?? null,
      updatedAt: updated === undefined ? null : updated.toISOString(),
      outputs,
      region: where,
    };
  } finally {
    client.destroy();
  }
}

/** The outputs a command needs, or one error naming those the stack lacks (it predates them: redeploy). */
export function requireOutputs<const N extends OutputName>(
  stack: DeployedStack,
  names: readonly N[],
): Record<N, string> {
  const missing = names.filter((name) => stack.outputs[name] === undefined);
  if (missing.length > 0) {
    throw new CliError(
      `stack ${clean(stack.name, 128)} has no ${missing.map((name) => OUTPUT_KEYS[name]).join(', ')} output` +
        `${missing.length === 1 ? '' : 's'}: it predates this fleetscan — redeploy it (npx cdk deploy)`,
      EXIT_FAILURE,
    );
  }
  return Object.fromEntries(names.map((name) => [name, stack.outputs[name] as string])) as Record<N, string>;
}
