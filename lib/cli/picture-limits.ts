/**
 * How much `fleetscan fleet` and `fleetscan report` show and read, apart from the code that reads (so that the
 * command table can name them in --help without loading the history).
 */

/** Scans a picture shows when --scans is not given, and at most. */
export const DEFAULT_PICTURE_SCANS = 24;
export const MAX_PICTURE_SCANS = 500;
/** Node records one picture reads at most: 25 scans of a 10,000-node fleet. */
export const READ_BUDGET = 250_000;
/** Heatmap rows of the HTML report when --limit is not given: a page holds more than a terminal. */
export const REPORT_NODES = 100;
/** Trend lines the report draws: the worst nodes'. */
export const TREND_NODES = 8;
/** Remediations the report lists in its table, the newest. */
export const REMEDIATION_ROWS = 100;
