/**
 * OptOutSource over instance tags: EC2 instances (`i-…`) through DescribeInstances filtered by instance id and by
 * the opt-out tag (so only opted-out instances come back), hybrid managed nodes (`mi-…`) through SSM
 * ListTagsForResource (ResourceType ManagedInstance). Errors propagate: the runtime then remediates nobody,
 * which is the safe reading of "could not tell who opted out".
 */
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ListTagsForResourceCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { OptOutSource } from '../runtime/ports.ts';

export interface TagOptOutOptions {
  /** The EC2 client, or a function that loads it when first needed (see clients.ts). */
  readonly ec2: EC2Client | (() => Promise<EC2Client>);
  readonly ssm: SSMClient;
  /** The tag that opts a node out, e.g. fleetscan:remediate=false. */
  readonly tag: { readonly key: string; readonly value: string };
}

/** Filter values per DescribeInstances call (the API accepts up to 200 per filter). */
export const INSTANCE_FILTER_CHUNK = 100;

export class TagOptOut implements OptOutSource {
  constructor(private readonly options: TagOptOutOptions) {}

  async optedOut(nodeIds: readonly string[]): Promise<ReadonlySet<string>> {
    const unique = [...new Set(nodeIds)];
    const ec2Ids = unique.filter((id) => id.startsWith('i-'));
    const managedIds = unique.filter((id) => !id.startsWith('i-'));
    const out = new Set<string>();
    for (let start = 0; start < ec2Ids.length; start += INSTANCE_FILTER_CHUNK) {
      for (const id of await this.ec2OptedOut(ec2Ids.slice(start, start + INSTANCE_FILTER_CHUNK))) out.add(id);
    }
    for (const id of managedIds) {
      if (await this.managedOptedOut(id)) out.add(id);
    }
    return out;
  }

  private async ec2OptedOut(ids: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    let nextToken: string | undefined;
    do {
      const ec2 = typeof this.options.ec2 === 'function' ? await this.options.ec2() : this.options.ec2;
      const page = await ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'instance-id', Values: [...ids] },
            { Name: `tag:${this.options.tag.key}`, Values: [this.options.tag.value] },
          ],
          NextToken: nextToken,
        }),
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          if (instance.InstanceId !== undefined) found.push(instance.InstanceId);
        }
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined && nextToken !== '');
    return found;
  }

  private async managedOptedOut(id: string): Promise<boolean> {
    const result = await this.options.ssm.send(
      new ListTagsForResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: id }),
    );
    return (result.TagList ?? []).some(
      (tag) => tag.Key === this.options.tag.key && tag.Value === this.options.tag.value,
    );
  }
}
