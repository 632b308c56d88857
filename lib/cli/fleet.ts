/** `fleetscan fleet`: a nodes × scans heatmap of the worst unusable index, worst nodes first. */
import { commandSpec, MAX_LIMIT } from './commands.ts';
import { type FleetModel, parseScans, readFleet } from './fleet-data.ts';
import { parseHistoryCommand, withHistory } from './history-options.ts';
import type { Io } from './io.ts';
import { isStructured, structured } from './kit/output.ts';
import { renderHeatmap } from './render/heatmap.ts';

/** Columns when neither $COLUMNS nor a terminal says: the heatmap needs some width to show scans. */
const DEFAULT_WIDTH = 80;

/** The model as `-o json` prints it (remediations are the report's). */
export function fleetJson(model: FleetModel) {
  return {
    scans: model.scans,
    nodes: model.nodes,
    totalNodes: model.totalNodes,
    skippedScans: model.skippedScans,
    reads: model.reads,
  };
}

export async function run(args: readonly string[], io: Io): Promise<number> {
  const command = parseHistoryCommand(commandSpec('fleet'), args, io);
  const scans = parseScans(command.flags.scans);
  return withHistory(command, io, async (source) => {
    const model = await readFleet(source.reader, { scans, limit: command.limit ?? MAX_LIMIT });
    const { format } = command.output;
    if (isStructured(format)) {
      io.stdout(structured(fleetJson(model), format));
      return 0;
    }
    if (model.scans.length === 0) {
      io.stdout(`no scans in ${source.label} yet\n`);
      return 0;
    }
    const lines = renderHeatmap(model, {
      color: command.output.color,
      width: command.output.width ?? DEFAULT_WIDTH,
      ...(command.output.headers ? { source: source.label } : {}),
    });
    io.stdout(`${lines.join('\n')}\n`);
    return 0;
  });
}
