/**
 * A local SSM Run Command: an HTTP endpoint speaking SSM's wire protocol over a programmable fleet, with
 * fault injection. See server.ts (protocol, operations), fleet.ts (behaviours), faults.ts (faults).
 *
 *   const fleet = Fleet.build({ size: 60, seed: 7, mix: { fragmented: 5, failed: 1, large: 2 } });
 *   const sim = await SsmSimulator.start({ fleet, faults: { throttle: { storms: [{ afterCalls: 0, length: 3 }] } } });
 *   const ssm = simulatorClient(sim);            // the real SSMClient, pointed at sim.endpoint
 *   ...
 *   sim.stats().apiCalls.ListCommandInvocations;
 *   await sim.close();
 */
export * from './agent-output.ts';
export * from './client.ts';
export * from './events.ts';
export * from './faults.ts';
export * from './fleet.ts';
export * from './reports.ts';
export * from './rng.ts';
export * from './server.ts';
