/**
 * The known-cases table, matched against the kernel-log evidence of real reports: the veth trace of
 * docker/for-linux#1443 and the conntrack trace of moby/moby#40835 (test/fixtures/proc/kernel-log/).
 */
import { describe, expect, it } from 'vitest';
import { KNOWN_CASES, matchKnownCases, parseKernelRelease } from '../../lib/core/known-cases.ts';
import type { AllocFailures } from '../../lib/core/report.ts';

const veth: AllocFailures = {
  count: 1,
  maxOrder: 4,
  processes: [{ name: 'dockerd', order: 4 }],
  callSites: ['veth_alloc_queues[veth]', 'veth_dev_init[veth]', 'register_netdevice'],
};
const conntrack: AllocFailures = {
  count: 1,
  maxOrder: 4,
  processes: [{ name: 'runc:[1:CHILD]', order: 4 }],
  callSites: ['kmem_cache_create', 'nf_conntrack_init_net[nf_conntrack]'],
};

describe('Function: parseKernelRelease', () => {
  it.each([
    ['5.15.0-91-generic', { major: 5, minor: 15, patch: 0, enterpriseLinux: null }],
    ['3.10.0-1160.62.1.el7.x86_64', { major: 3, minor: 10, patch: 0, enterpriseLinux: 7 }],
    ['4.18.0-553.72.1.el8_10.x86_64', { major: 4, minor: 18, patch: 0, enterpriseLinux: 8 }],
    ['2.6.32-431.29.2.el6.x86_64', { major: 2, minor: 6, patch: 32, enterpriseLinux: 6 }],
    ['6.1', { major: 6, minor: 1, patch: 0, enterpriseLinux: null }],
  ])('reads %s', (text, expected) => {
    expect(parseKernelRelease(text)).toMatchObject(expected);
  });

  it('reads nothing from a string that is not a release', () => {
    expect(parseKernelRelease('')).toBeNull();
    expect(parseKernelRelease('linux')).toBeNull();
  });
});

describe('Function: matchKnownCases', () => {
  it('names the veth queue case on 5.15 from its call site, with advice to upgrade', () => {
    const [match, ...more] = matchKnownCases('5.15.0-91-generic', veth);

    expect(more).toEqual([]);
    expect(match).toMatchObject({
      id: 'veth-queues',
      evidence: 'call site veth_alloc_queues[veth] on 5.15.0-91-generic',
    });
    expect(match?.advice).toMatch(/^upgrade the kernel/);
  });

  it('names the conntrack netns case on RHEL 7 (3.10.0-1062) from its call site', () => {
    expect(matchKnownCases('3.10.0-1062.18.1.el7.x86_64', conntrack).map((m) => m.id)).toEqual(['nf-conntrack-netns']);
  });

  it('names the conntrack case from the process when the log kept no call trace (runc at order 6 on 4.4)', () => {
    const failures: AllocFailures = {
      count: 2,
      maxOrder: 6,
      processes: [{ name: 'runc:[1:CHILD]', order: 6 }],
      callSites: [],
    };

    expect(matchKnownCases('4.4.0-210-generic', failures)).toMatchObject([
      { id: 'nf-conntrack-netns', evidence: 'process runc:[1:CHILD] at order 6 on 4.4.0-210-generic' },
    ]);
  });

  it('names PF_RING on RHEL 8 at order 8 (ntop/PF_RING#1018)', () => {
    const failures: AllocFailures = {
      count: 1,
      maxOrder: 8,
      processes: [{ name: 'runc:[1:CHILD]', order: 8 }],
      callSites: [],
    };

    expect(matchKnownCases('4.18.0-553.72.1.el8_10.x86_64', failures).map((m) => m.id)).toEqual(['pf-ring-netns']);
  });

  it.each([
    ['a kernel past the conntrack boundary', '5.10.0-28-amd64', conntrack],
    ['a kernel past the veth fix', '6.8.0-1019-aws', veth],
    [
      'an order below the case',
      '5.15.0-91-generic',
      { ...veth, maxOrder: 3, processes: [{ name: 'dockerd', order: 3 }] },
    ],
    ['a call trace that points elsewhere', '5.15.0-91-generic', { ...veth, callSites: ['alloc_skb_with_frags'] }],
    ['a v1 count without processes or call sites', '3.10.0-1160.el7.x86_64', { count: 3, maxOrder: 6 }],
    [
      'an unrelated process without a trace',
      '3.10.0-1160.el7.x86_64',
      { count: 1, maxOrder: 4, processes: [{ name: 'mysqld', order: 4 }], callSites: [] },
    ],
    ['no failure', '3.10.0-1160.el7.x86_64', { count: 0, maxOrder: null, processes: [], callSites: [] }],
  ])('matches nothing for %s', (_name, kernel, failures) => {
    expect(matchKnownCases(kernel, failures as AllocFailures)).toEqual([]);
  });

  it('cites a public source for every row', () => {
    for (const known of KNOWN_CASES) expect(known.source).toMatch(/[a-z0-9-]+\/[A-Za-z0-9_.-]+#[0-9]+|document/);
  });
});
