import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { INDEX_PROJECTION, INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../adapters/dynamo/schema.ts';

const string = (name: string) => ({ name, type: AttributeType.STRING });

/**
 * The history table, laid out by lib/adapters/dynamo/schema.ts (the store queries the same names). On-demand,
 * point-in-time recovery, TTL on epoch seconds; retained and deletion-protected because it is the only copy of the
 * fleet's history (SSM forgets commands after about 30 days).
 */
export class HistoryTable extends Construct {
  readonly table: TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new TableV2(this, 'Table', {
      partitionKey: string(TABLE_KEYS.partitionKey),
      sortKey: string(TABLE_KEYS.sortKey),
      billing: Billing.onDemand(),
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: Object.values(INDEXES).map((index) => ({
        indexName: index.name,
        partitionKey: string(index.partitionKey),
        sortKey: string(index.sortKey),
        // Keys and ttl only: the stores read the items themselves by key (schema.ts).
        projectionType: ProjectionType.INCLUDE,
        nonKeyAttributes: [...INDEX_PROJECTION],
      })),
    });
  }
}
