import { SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm';
import type { SsmSimulator } from './server.ts';

/** Test-only credentials: the simulator checks that requests are signed, not by whom. */
export const DUMMY_CREDENTIALS = { accessKeyId: 'AKIDSIMULATOR', secretAccessKey: 'simulator-secret' } as const;

/** The real SSMClient, pointed at the simulator (region us-east-1, dummy credentials). */
export function simulatorClient(sim: SsmSimulator, config: SSMClientConfig = {}): SSMClient {
  return new SSMClient({
    region: sim.region,
    endpoint: sim.endpoint,
    credentials: DUMMY_CREDENTIALS,
    ...config,
  });
}
