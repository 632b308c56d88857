/**
 * Known high-order allocation failures: kernels (or modules) that ask for a large physically contiguous block at a
 * fixed call site, so that a fragmented node fails them again and again whatever is compacted. Matched against the
 * node's kernel release and its kernel-log evidence (orders, process names, call-trace frames from a v2 gather
 * report), each row turns into advice about the cause ("upgrade the kernel") instead of another drop_caches.
 *
 * A row needs evidence of its own: a kernel in range and a failure at its order or above are not enough without a
 * call site or a process name that points at it (a v1 report, which has neither, matches nothing).
 */
import type { AllocFailures } from './report.ts';

export interface KernelRelease {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** The Red Hat family's `elN` tag (7 for 3.10.0-1160.el7.x86_64), null for other kernels. */
  readonly enterpriseLinux: number | null;
  readonly text: string;
}

/** Reads `uname -r`; null for a string that does not start with a version number. */
export function parseKernelRelease(text: string): KernelRelease | null {
  const match = /^([0-9]{1,3})\.([0-9]{1,3})(?:\.([0-9]{1,4}))?/.exec(text.trim());
  if (match === null) return null;
  const el = /\.el([0-9]{1,2})(?:[._]|$)/.exec(text);
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3] ?? 0),
    enterpriseLinux: el === null ? null : Number(el[1]),
    text: text.trim(),
  };
}

type Version = readonly [number, number, number?];

function compare(release: KernelRelease, version: Version): number {
  return release.major - version[0] || release.minor - version[1] || release.patch - (version[2] ?? 0);
}

/** [from, to): `from` included, `to` excluded. */
function inRange(release: KernelRelease, from: Version, to: Version): boolean {
  return compare(release, from) >= 0 && compare(release, to) < 0;
}

export interface KnownCase {
  readonly id: string;
  readonly title: string;
  readonly appliesTo: (release: KernelRelease) => boolean;
  /** The lowest order the case fails at. */
  readonly minOrder: number;
  /** Call-trace frames (function names, or `[module]`) that identify the call site. */
  readonly callSites: readonly string[];
  /** Process names that identify it when the log gave no call trace. */
  readonly processes: RegExp | null;
  readonly advice: string;
  /** Where the facts come from. */
  readonly source: string;
}

/** Tasks that create network namespaces for containers: runc's child (`runc:[1:CHILD]`), runtimes, `ip netns`. */
const NETNS_CREATORS = /^(runc(:\[[0-9]:CHILD\])?|crun|conmon|dockerd|containerd(-shim.*)?|podman|unshare|ip)$/;

export const KNOWN_CASES: readonly KnownCase[] = [
  {
    // Per-namespace conntrack: nf_conntrack_init_net() creates a slab cache ("nf_conntrack_%p") and a hash table for
    // every network namespace on kernels 2.6.33 to 4.6 (tencentcloud document 457/35755, the seed page in
    // KERNEL-FACTS.md). The trace in moby/moby#40835 (3.10.0-1062.18.1.el7, runc:[1:CHILD], order 4) fails in
    // nf_conntrack_init_net -> kmem_cache_create -> memcg_alloc_cache_params -> __kmalloc; the same is reported on
    // 3.10.0-1160. Older trees' nf_ct_alloc_hashtable() tries __get_free_pages(__GFP_NOWARN) and falls back to
    // vzalloc; current ones (torvalds/linux net/netfilter/nf_conntrack_core.c) call kvmalloc_array/kvcalloc and
    // share one table and one cache among all namespaces. The exact upstream commit of that change was not confirmed
    // (KERNEL-FACTS.md): the 4.7 boundary is the seed page's, and RHEL 7 keeps the per-namespace code whatever its
    // z-stream.
    id: 'nf-conntrack-netns',
    title: 'nf_conntrack allocates per-namespace tables when a network namespace is created',
    appliesTo: (k) => inRange(k, [2, 6, 33], [4, 7]) || k.enterpriseLinux === 7,
    minOrder: 4,
    callSites: ['nf_conntrack_init_net', 'nf_conntrack_pernet_init', 'nf_ct_alloc_hashtable'],
    processes: NETNS_CREATORS,
    advice:
      'upgrade the kernel: before 4.7 (and on every RHEL 7 3.10.0 kernel, e.g. -1062, -1160) nf_conntrack allocates a slab cache and hash table per network namespace, so pod and container creation (ContainerCreating) fails at high order whenever memory is fragmented; compaction or drop_caches only buys time',
    source: 'tencentcloud document 457/35755; moby/moby#40835',
  },
  {
    // docker/for-linux#1443: "failed to add the host ... cannot allocate memory" creating containers on 5.15
    // (5.15.0-91-generic): dockerd order 4 in veth_alloc_queues [veth] <- veth_dev_init <- register_netdevice,
    // one physically contiguous array of receive queues per veth device; one reporter found 6.5 free of it.
    id: 'veth-queues',
    title: 'veth allocates its queue array in one high-order block when a container interface is created',
    appliesTo: (k) => inRange(k, [5, 15], [6, 5]),
    minOrder: 4,
    callSites: ['veth_alloc_queues', 'veth_dev_init', '[veth]'],
    processes: NETNS_CREATORS,
    advice:
      'upgrade the kernel (docker/for-linux#1443: one reporter found 6.5 free of it): veth_alloc_queues asks for one contiguous order-4 block for every container interface created, so container starts fail with "cannot allocate memory" while memory is fragmented; compaction only buys time',
    source: 'docker/for-linux#1443',
  },
  {
    // ntop/PF_RING#1018 (RHEL 8.10, 4.18.0-553.72.1.el8_10, PF_RING 8.2 to 9.2): PF_RING registers a pernet
    // subsystem whose per-namespace structures need an order-8 block at every network namespace creation; containers
    // fail to start on fragmented nodes, and unloading PF_RING removes the failures. ntop/PF_RING#1001 shows the
    // runc:[1:CHILD] order-8 failures on 4.18.0-553.76.1.el8_10.
    id: 'pf-ring-netns',
    title: 'PF_RING (out-of-tree) allocates order-8 rings for every network namespace',
    appliesTo: (k) => k.enterpriseLinux === 8 || (k.major === 4 && k.minor === 18),
    minOrder: 8,
    callSites: ['[pf_ring]'],
    processes: NETNS_CREATORS,
    advice:
      'PF_RING allocates its per-namespace structures at order 8 each time a network namespace is created (ntop/PF_RING#1018): upgrade PF_RING to a release with that fix, or unload pf_ring where containers do not capture packets; compaction only buys time',
    source: 'ntop/PF_RING#1018; ntop/PF_RING#1001',
  },
];

export interface KnownCaseMatch {
  readonly id: string;
  readonly title: string;
  readonly advice: string;
  readonly source: string;
  /** What in the node's evidence matched (`call site veth_alloc_queues[veth]`, `process runc:[1:CHILD] at order 6`). */
  readonly evidence: string;
}

function siteMatches(site: string, wanted: string): boolean {
  if (wanted.startsWith('[')) return site.endsWith(wanted);
  const name = site.replace(/\[.*\]$/, '');
  return name === wanted;
}

/** The known cases the node's kernel release and kernel-log evidence point at. */
export function matchKnownCases(
  kernel: string,
  failures: AllocFailures | null,
  cases: readonly KnownCase[] = KNOWN_CASES,
): KnownCaseMatch[] {
  const release = parseKernelRelease(kernel);
  if (release === null || failures === null || failures.count === 0 || failures.maxOrder === null) return [];
  const sites = failures.callSites ?? [];
  const processes = failures.processes ?? [];
  const out: KnownCaseMatch[] = [];
  for (const known of cases) {
    if (!known.appliesTo(release) || failures.maxOrder < known.minOrder) continue;
    const site = sites.find((s) => known.callSites.some((wanted) => siteMatches(s, wanted)));
    const process =
      sites.length === 0 && known.processes !== null
        ? processes.find((p) => p.order >= known.minOrder && known.processes?.test(p.name))
        : undefined;
    const evidence =
      site !== undefined
        ? `call site ${site}`
        : process !== undefined
          ? `process ${process.name} at order ${process.order}`
          : null;
    if (evidence === null) continue;
    out.push({
      id: known.id,
      title: known.title,
      advice: known.advice,
      source: known.source,
      evidence: `${evidence} on ${release.text}`,
    });
  }
  return out;
}
