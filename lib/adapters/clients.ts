/**
 * The AWS SDK clients, created once per process (a Lambda's cold start). Adaptive retry mode with more attempts
 * than the default 3: SSM's read APIs throttle early and the SDK's client-side rate limiter is the fix. Region
 * and credentials come from the standard chain; `endpoints` points a service at a local simulator (dynalite,
 * the SSM simulator).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export const DEFAULT_MAX_ATTEMPTS = 8;

export interface ClientOptions {
  /** @default the standard chain (AWS_REGION in Lambda) */
  readonly region?: string;
  /** Per-service endpoint overrides for local simulators. */
  readonly endpoints?: {
    readonly ssm?: string;
    readonly dynamodb?: string;
    readonly sns?: string;
    readonly ec2?: string;
    readonly lambda?: string;
  };
  /** Static credentials for local simulators; @default the standard chain */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** @default 8 */
  readonly maxAttempts?: number;
}

export interface FleetscanClients {
  readonly ssm: SSMClient;
  /** For SendCommand only: one attempt, because SendCommand is not idempotent (the gateway retries throttling). */
  readonly ssmSend: SSMClient;
  readonly dynamodb: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly sns: SNSClient;
  /**
   * Loaded on first use: the EC2 client is the heaviest SDK module here (~300 ms and ~90 MB to import) and only
   * the opt-out lookup before a remediation needs it, so neither the scan function nor a quiet collect pays for it.
   */
  readonly ec2: () => Promise<EC2Client>;
  /** Closes every client's sockets, EC2's only if it was loaded (tests and local tools; a Lambda keeps its clients). */
  destroy(): Promise<void>;
  readonly lambda: LambdaClient;
}

export function createClients(options: ClientOptions = {}): FleetscanClients {
  const base = {
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }),
  };
  const at = (endpoint: string | undefined) => (endpoint === undefined ? {} : { endpoint });
  const endpoints = options.endpoints ?? {};
  const dynamodb = new DynamoDBClient({ ...base, ...at(endpoints.dynamodb) });
  let ec2: Promise<EC2Client> | undefined;
  const clients = {
    ssm: new SSMClient({ ...base, ...at(endpoints.ssm) }),
    ssmSend: new SSMClient({ ...base, ...at(endpoints.ssm), maxAttempts: 1 }),
    dynamodb,
    doc: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    sns: new SNSClient({ ...base, ...at(endpoints.sns) }),
    ec2: () => {
      ec2 ??= import('@aws-sdk/client-ec2').then(({ EC2Client }) => new EC2Client({ ...base, ...at(endpoints.ec2) }));
      return ec2;
    },
    lambda: new LambdaClient({ ...base, ...at(endpoints.lambda) }),
  };
  return {
    ...clients,
    destroy: async () => {
      for (const client of [clients.ssm, clients.ssmSend, dynamodb, clients.sns, clients.lambda]) client.destroy();
      if (ec2 !== undefined) (await ec2).destroy();
    },
  };
}
