import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { configFromContext, operationsFromContext, stackNameFromContext } from '../config/config.ts';
import { FleetscanStack } from './fleetscan-stack.ts';

/**
 * The CDK app: one stack, configured from `fleetscan:*` context, checked by cdk-nag's AWS Solutions pack on every
 * synth (an unacknowledged error fails `cdk synth` and `cdk deploy`). Throws ConfigError on bad configuration.
 *
 * The stack is environment-agnostic on purpose: it needs no lookups, and the CLI fills CDK_DEFAULT_REGION with
 * us-east-1 when nothing is configured, which would otherwise be baked into the template. The account and region
 * come from the credentials `cdk deploy` runs with.
 */
export function buildApp(props: AppProps = {}): { app: App; stack: FleetscanStack } {
  const app = new App(props);
  const config = configFromContext(app.node);
  const operations = operationsFromContext(app.node);
  const stack = new FleetscanStack(app, stackNameFromContext(app.node), { config, operations });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
