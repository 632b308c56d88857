import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { CliError } from '../../lib/cli/errors.ts';
import { openHistory, type SourceOptions } from '../../lib/cli/table-source.ts';

const cloudformation = mockClient(CloudFormationClient);
const options: SourceOptions = { local: false, dataDir: '.fleetscan', stack: 'Fleetscan', region: 'eu-west-1' };

async function tableOf(overrides: Partial<SourceOptions>, env: Record<string, string> = {}): Promise<string> {
  const source = await openHistory({ ...options, ...overrides }, env);
  await source.close();
  return source.tableName;
}

describe('Function: openHistory (where the table comes from)', () => {
  beforeEach(() => {
    cloudformation.reset();
  });

  it('takes --table first, then FLEETSCAN_TABLE, without asking CloudFormation', async () => {
    expect(await tableOf({ table: 'from-flag' }, { FLEETSCAN_TABLE: 'from-env' })).toBe('from-flag');
    expect(await tableOf({}, { FLEETSCAN_TABLE: 'from-env' })).toBe('from-env');
    expect(cloudformation).not.toHaveReceivedCommand(DescribeStacksCommand);
  });

  it("otherwise reads the stack's TableName output", async () => {
    cloudformation.on(DescribeStacksCommand, { StackName: 'Prod' }).resolves({
      Stacks: [
        {
          StackName: 'Prod',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'TopicArn', OutputValue: 'arn:aws:sns:eu-west-1:123456789012:t' },
            { OutputKey: 'TableName', OutputValue: 'Prod-History-1A2B' },
          ],
        },
      ],
    });
    expect(await tableOf({ stack: 'Prod' })).toBe('Prod-History-1A2B');
    expect(cloudformation).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: 'Prod' });
  });

  it('names a stack that does not exist, or one without the output', async () => {
    cloudformation
      .on(DescribeStacksCommand, { StackName: 'Nope' })
      .rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));
    cloudformation.on(DescribeStacksCommand, { StackName: 'Other' }).resolves({
      Stacks: [{ StackName: 'Other', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }],
    });
    await expect(tableOf({ stack: 'Nope' })).rejects.toThrow(/^no such stack: Nope/);
    await expect(tableOf({ stack: 'Other' })).rejects.toThrow(/^stack Other has no TableName output/);
    await expect(tableOf({ stack: 'Nope' })).rejects.toBeInstanceOf(CliError);
  });
});
