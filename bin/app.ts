#!/usr/bin/env -S npx tsx
import { ConfigError } from '../lib/config/config.ts';
import { buildApp } from '../lib/infra/app.ts';

// A configuration mistake is the user's to fix: one line naming the key, no stack trace.
try {
  buildApp().app.synth();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`fleetscan: invalid configuration: ${error.message}\n`);
  process.exit(1);
}
