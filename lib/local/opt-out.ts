/** The local `OptOutSource`: nodes carrying the opt-out tag in the simulated fleet (as EC2 tags would say). */
import type { OptOutSource } from '../runtime/ports.ts';
import type { SimulatedFleet, TagPair } from './fleet.ts';

export class FleetOptOutSource implements OptOutSource {
  constructor(
    private readonly fleet: SimulatedFleet,
    private readonly tag: TagPair,
    /** Nodes that are never remediated whatever their tags (replayed outputs: nobody is there to act on). */
    private readonly readOnly: ReadonlySet<string> = new Set(),
  ) {}

  async optedOut(nodeIds: readonly string[]): Promise<ReadonlySet<string>> {
    return new Set(
      nodeIds.filter((id) => this.readOnly.has(id) || this.fleet.node(id)?.tags[this.tag.key] === this.tag.value),
    );
  }
}
