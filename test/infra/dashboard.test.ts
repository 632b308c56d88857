/** The dashboard the stack ships: what it graphs, that every metric is one the functions emit, and its log query. */
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_ENV, METRIC_NAMES, nodesMetric, PROBLEM_NODE_LOG } from '../../lib/config/contracts.ts';
import { dashboardPeriod, problemNodesQuery } from '../../lib/infra/dashboard.ts';
import { resolve } from './policy-evaluator.ts';
import { SYNTH_TEST_TIMEOUT_MS, type Synthesized, synthesized } from './support.ts';

type Json = Record<string, unknown>;
interface Resource {
  readonly Type: string;
  readonly Properties: Json;
}
interface Widget {
  readonly type: string;
  readonly properties: Json & {
    title?: string;
    metrics?: unknown[][];
    annotations?: { horizontal?: { value: number; label: string; yAxis: string }[] };
    query?: string;
    alarms?: string[];
    markdown?: string;
  };
}

let synth: Synthesized;
let widgets: Widget[];
const refs: Record<string, string> = {};

beforeAll(() => {
  synth = synthesized('default');
  const resources = Object.entries(synth.template.Resources as Record<string, Resource>);
  for (const [id] of resources) refs[id] = `<${id}>`;
  const [, dashboard] = resources.find(([, r]) => r.Type === 'AWS::CloudWatch::Dashboard') ?? [];
  const body = resolve(dashboard?.Properties.DashboardBody, {
    account: '111122223333',
    region: 'eu-west-1',
    partition: 'aws',
    refs,
    attributes: Object.fromEntries(
      Object.keys(refs).map((id) => [id, { Arn: `<${id}.Arn>`, QueueName: `<${id}.QueueName>` }]),
    ),
  });
  widgets = (JSON.parse(String(body)) as { widgets: Widget[] }).widgets;
}, SYNTH_TEST_TIMEOUT_MS);

function serviceOf(suffix: string): string {
  for (const resource of Object.values(synth.template.Resources as Record<string, Resource>)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const service = String(((resource.Properties.Environment as Json).Variables as Json)[FUNCTION_ENV.serviceName]);
    if (service.endsWith(suffix)) return service;
  }
  throw new Error(`no ${suffix} function`);
}

const titled = (title: string) => {
  const found = widgets.find((widget) => widget.properties.title === title);
  if (found === undefined) throw new Error(`no widget '${title}'`);
  return found;
};

/** A metric row of a widget: [namespace, name, dimension name, value, ..., options] → its name and dimensions. */
function metricsOf(widget: Widget): { namespace: string; name: string; dimensions: Record<string, string> }[] {
  return (widget.properties.metrics ?? []).map((row) => {
    const plain = row.filter((cell) => typeof cell === 'string') as string[];
    const [namespace = '', name = '', ...pairs] = plain;
    const dimensions: Record<string, string> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) dimensions[pairs[i] as string] = pairs[i + 1] as string;
    return { namespace, name, dimensions };
  });
}

describe('Construct: FleetscanDashboard', () => {
  it('graphs nodes by status, the worst index, remediations by effect, durations, errors, alarms and a log query', () => {
    expect(widgets.map((widget) => widget.properties.title ?? widget.type)).toEqual([
      'text',
      'Nodes scanned, by status',
      'Worst unusable free space index (thousandths)',
      'Remediations by effect',
      'Collect duration against its timeout (ms)',
      'Errors and dead letters',
      'Alarms',
      'Problem nodes, newest scan first (the collect function’s log)',
    ]);
  });

  it('reads only metrics the collect function emits, in its namespace with its one dimension', () => {
    const service = serviceOf('collect');
    const fleet = [
      'Nodes scanned, by status',
      'Worst unusable free space index (thousandths)',
      'Remediations by effect',
    ];
    const emitted = new Set<string>([
      ...Object.values(METRIC_NAMES),
      ...['OK', 'WARN', 'CRITICAL', 'ERROR'].map((s) => nodesMetric(s as 'OK')),
    ]);

    for (const title of fleet) {
      for (const metric of metricsOf(titled(title))) {
        expect(metric.namespace, title).toBe('Fleetscan');
        expect(metric.dimensions, `${title} ${metric.name}`).toEqual({ service });
        expect(emitted.has(metric.name), metric.name).toBe(true);
      }
    }
    expect(metricsOf(titled('Nodes scanned, by status')).map((m) => m.name)).toEqual([
      'NodesScanned',
      'NodesOK',
      'NodesWARN',
      'NodesCRITICAL',
      'NodesERROR',
    ]);
    expect(metricsOf(titled('Remediations by effect')).map((m) => m.name)).toEqual([
      'RemediationImproved',
      'RemediationNoEffect',
      'RemediationDryRun',
      'RemediationFailed',
      'Remediations',
    ]);
  });

  it('marks the policy’s thresholds on the index graph and the collect timeout on the duration graph', () => {
    expect(titled('Worst unusable free space index (thousandths)').properties.annotations?.horizontal).toEqual([
      { value: 900, label: 'WARN', yAxis: 'left' },
      { value: 975, label: 'CRITICAL (with few blocks left)', yAxis: 'left' },
    ]);
    expect(titled('Collect duration against its timeout (ms)').properties.annotations?.horizontal).toEqual([
      { value: 300_000, label: 'collect timeout', yAxis: 'left' },
    ]);
  });

  it('lists every alarm of the stack', () => {
    const alarmIds = Object.entries(synth.template.Resources as Record<string, Resource>)
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .map(([id]) => `<${id}.Arn>`);
    expect(titled('Alarms').properties.alarms?.sort()).toEqual(alarmIds.sort());
  });

  it('queries the collect function’s log group for its problem-node lines, newest first', () => {
    const widget = titled('Problem nodes, newest scan first (the collect function’s log)');
    const collectLogs = Object.entries(synth.template.Resources as Record<string, Resource>).find(
      ([id, r]) => r.Type === 'AWS::Logs::LogGroup' && id.includes('CollectLogs'),
    )?.[0];

    expect(widget.properties.query).toBe(`SOURCE '<${collectLogs}>' | ${problemNodesQuery().join('\n| ')}`);
    expect(problemNodesQuery()).toEqual([
      'fields @timestamp, scanId, nodeId, status, cause, worstUnusableIndex, findings, error',
      `filter message = '${PROBLEM_NODE_LOG.message}'`,
      'sort @timestamp desc',
      'limit 100',
    ]);
  });

  it('has one point per scan: the shortest gap, between 5 minutes and a day', () => {
    expect(dashboardPeriod({ shortestSeconds: 900, longestSeconds: 900 }).toSeconds()).toBe(900);
    expect(dashboardPeriod({ shortestSeconds: 60, longestSeconds: 60 }).toSeconds()).toBe(300);
    expect(dashboardPeriod({ shortestSeconds: 7 * 86_400, longestSeconds: 7 * 86_400 }).toSeconds()).toBe(86_400);
    expect(dashboardPeriod(null).toSeconds()).toBe(86_400);
  });
});
