/** `npm run bench` flags: what each takes, and one clear line for each wrong one. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/config.ts';
import { BenchUsageError, DEFAULT_DEADLINE_MS, DEFAULT_SCANS, DEFAULT_SIZES, parseArgs, tagValues } from './args.ts';

describe('parseArgs', () => {
  it('defaults to the three sizes, the deployed shard size and timeout, the baseline and the extras', () => {
    expect(parseArgs([])).toEqual({
      sizes: DEFAULT_SIZES,
      scans: DEFAULT_SCANS,
      shardSize: DEFAULT_CONFIG.collection.nodesPerCommand,
      deadlineMs: DEFAULT_DEADLINE_MS,
      deadlineGiven: false,
      ssmRate: undefined,
      json: false,
      baseline: true,
      extras: true,
    });
  });

  it('reads every flag, with its value after a space or an equals sign', () => {
    expect(
      parseArgs([
        '--nodes',
        '1000,50000',
        '--scans=4',
        '--shard-size',
        '12500',
        '--deadline-ms',
        '20000',
        '--ssm-rate',
        '2.5',
        '--no-naive',
        '--no-extras',
        '--json',
      ]),
    ).toEqual({
      sizes: [1000, 50_000],
      scans: 4,
      shardSize: 12_500,
      deadlineMs: 20_000,
      deadlineGiven: true,
      ssmRate: 2.5,
      json: true,
      baseline: false,
      extras: false,
    });
  });

  it.each([
    [['--scans'], '--scans takes a positive integer (scans per run, e.g. 4), got nothing'],
    [['--scans', '0'], "--scans takes a positive integer (scans per run, e.g. 4), got '0'"],
    [['--shard-size', '1.5'], "--shard-size takes a positive integer (nodes per gather command), got '1.5'"],
    [['--deadline-ms', 'soon'], "--deadline-ms takes a positive integer (ms per collect invocation), got 'soon'"],
    [['--deadline-ms', '500'], '--deadline-ms takes at least 1000 ms, got 500'],
    [['--nodes', '100,,200'], "--nodes takes positive integers, comma-separated (e.g. 1000,10000), got ''"],
    [['--ssm-rate', '-1'], "--ssm-rate takes a positive number of calls per second, got '-1'"],
  ])('refuses %j with one line naming the flag and what it takes', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(new BenchUsageError(message));
  });

  it('names an unknown argument and lists the flags there are', () => {
    expect(() => parseArgs(['--scan', '4'])).toThrow(
      /^unknown argument '--scan' \(usage: npm run bench -- .*--scans K/,
    );
  });
});

describe('tagValues', () => {
  it('gives one value per gather command, as many as the shard size asks for', () => {
    expect(tagValues(50_000, 12_500)).toEqual(['pool-0', 'pool-1', 'pool-2', 'pool-3']);
    expect(tagValues(50_001, 12_500)).toHaveLength(5);
    expect(tagValues(1000, 10_000)).toEqual(['pool-0']);
  });
});
