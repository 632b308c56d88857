/** The demo's defaults, apart from the demo itself so that the CLI's help can name them without loading it. */
export const DEFAULT_DEMO_NODES = 50;
export const DEFAULT_DEMO_SCANS = 3;
export const DEFAULT_DEMO_SEED = 1;
/** The largest fleet and the most scans one `fleetscan demo` run takes. */
export const MAX_DEMO_NODES = 5000;
export const MAX_DEMO_SCANS = 200;
