/**
 * The demo's defaults and the layout of its data directory, apart from the demo itself, so that the CLI can name them
 * (in --help, in 'no local demo data' checks) without loading the demo, its store or the AWS SDK.
 */
export const DEFAULT_DEMO_NODES = 50;
export const DEFAULT_DEMO_SCANS = 3;
export const DEFAULT_DEMO_SEED = 1;
/** The largest fleet and the most scans one `fleetscan demo` run takes. */
export const MAX_DEMO_NODES = 5000;
export const MAX_DEMO_SCANS = 200;
/** The embedded store's directory inside the data directory. */
export const STORE_DIR = 'store';
