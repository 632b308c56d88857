import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The validation plugin name of cdk-nag's AwsSolutionsChecks, the namespace its findings are reported under. */
export const NAG_PACK = 'AwsSolutions';

/**
 * Acknowledges one cdk-nag finding on `scope` (and below), e.g. `AwsSolutions-IAM5[Resource::*]`. Namespaced with
 * the pack so that CDK itself matches it: the finding then appears in the cloud assembly's validation-report.json
 * under suppressedViolations, with this reason and where it was acknowledged.
 */
export function acknowledgeFinding(scope: IConstruct, finding: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `${NAG_PACK}::${finding}`, reason });
}
