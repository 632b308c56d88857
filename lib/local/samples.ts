/**
 * Templates for the simulated fleet's /proc/buddyinfo. The x86-64 ones are public samples, copied verbatim from
 * the sources named beside them (public test data); the simulated nodes scale and jitter them. The layouts no
 * public sample shows here (two NUMA nodes, arm64 with 64 KiB pages, a low-memory host) are synthetic and say so.
 */
import { parseBuddyinfo, type ZoneCounts } from '../core/buddyinfo.ts';

export interface Sample {
  readonly name: string;
  readonly source: string;
  readonly buddyinfo: string;
}

/** Healthy hosts: every watched order has plenty of suitable blocks. */
export const HEALTHY_SAMPLES: readonly Sample[] = [
  {
    name: 'ceph-mon',
    source:
      'canonical/hotsos @ 57b256c4ad434f5fe335d14447ec7d73ea831d50 : tests/unit/fake_data_root/storage/ceph-mon/proc/buddyinfo',
    buddyinfo: `Node 0, zone      DMA      0      1      1      0      2      1      1      0      1      1      3 
Node 0, zone    DMA32   6193   5044   2306   1011    397    146     60     14      3      1    529 
Node 0, zone   Normal   3103   1237    633    286    215     32     11      3      3      3      6 
`,
  },
  {
    name: 'kubernetes',
    source:
      'canonical/hotsos @ 57b256c4ad434f5fe335d14447ec7d73ea831d50 : tests/unit/fake_data_root/kubernetes/proc/buddyinfo',
    buddyinfo: `Node 0, zone      DMA      2      0      0      1      3      2      2      1      2      0      3 
Node 0, zone    DMA32     97    830    372    119     72     30     12     13      4      4      9 
Node 0, zone   Normal     17    203    102     17     21      4      7     10      8      0      0 
`,
  },
  {
    name: 'small-vm',
    source: 'kellyjonbrazil/jc @ ac8120e1fed9bb13b854b1333aef9c2dbce44f54 : tests/fixtures/linux-proc/buddyinfo',
    buddyinfo: `Node 0, zone      DMA      0      0      0      1      1      1      1      1      0      1      3 
Node 0, zone    DMA32     78    114     82     52     38     25     13      9      3      4    629 
Node 0, zone   Normal      0     22      8     10      1      1      2     11     13      0      0 
`,
  },
];

/** Hosts short of high orders (or close to it): where slow fragmentation starts from. */
export const FRAGMENTING_SAMPLES: readonly Sample[] = [
  {
    name: 'openstack',
    source:
      'canonical/hotsos @ 57b256c4ad434f5fe335d14447ec7d73ea831d50 : tests/unit/fake_data_root/openstack/proc/buddyinfo',
    buddyinfo: `Node 0, zone      DMA      0      1      1      0      2      1      1      0      1      1      3 
Node 0, zone    DMA32   1127    453    112     65     27      7     13      6      5     30     48 
Node 0, zone   Normal    145    101    316   1135    222     35     14      4      2      0      0 
`,
  },
  {
    name: 'procfs',
    source:
      'prometheus/procfs @ 3c943fdba94a978d990553698da4add62bb11a30 : testdata/fixtures.ttar (fixtures/proc/buddyinfo)',
    buddyinfo: `Node 0, zone      DMA      1      0      1      0      2      1      1      0      1      1      3
Node 0, zone    DMA32    759    572    791    475    194     45     12      0      0      0      0
Node 0, zone   Normal   4381   1093    185   1530    567    102      4      0      0      0      0
`,
  },
  {
    name: 'vault',
    source:
      'canonical/hotsos @ 57b256c4ad434f5fe335d14447ec7d73ea831d50 : tests/unit/fake_data_root/vault/proc/buddyinfo',
    buddyinfo: `Node 0, zone      DMA      0      1      1      0      2      1      1      0      1      1      3 
Node 0, zone    DMA32  14488  10365   5729   3195   1385    470     75      7      0      0      0 
Node 0, zone   Normal  29196  20577   9900   5734   1915    349     53      3      0      0      0 
`,
  },
];

/** Synthetic: a host with little free memory at all (order-0 trouble that compaction cannot fix). */
export const LOW_MEMORY_SAMPLE: Sample = {
  name: 'low-memory',
  source: 'synthetic (fleetscan)',
  buddyinfo: `Node 0, zone      DMA      0      1      1      0      2      1      1      0      1      1      3 
Node 0, zone    DMA32    412    180     41      9      2      0      0      0      0      0      0 
Node 0, zone   Normal    296     87     19      4      0      0      0      0      0      0      0 
`,
};

/** Synthetic: a two-socket host; each NUMA node has its own Normal zone. */
export const TWO_NUMA_SAMPLE: Sample = {
  name: 'two-numa-nodes',
  source: 'synthetic (fleetscan), NUMA node 0 after hotsos ceph-mon, node 1 after hotsos kubernetes',
  buddyinfo: `Node 0, zone      DMA      0      1      1      0      2      1      1      0      1      1      3 
Node 0, zone    DMA32   6193   5044   2306   1011    397    146     60     14      3      1    529 
Node 0, zone   Normal   3103   1237    633    286    215     32     11      3      3      3      6 
Node 1, zone   Normal   1702   2030   1021    170    110     21     30     20      9      1      0 
`,
};

/** Synthetic: arm64 with 64 KiB pages prints 14 order columns (NR_PAGE_ORDERS = 14). */
export const ARM64_64K_SAMPLE: Sample = {
  name: 'arm64-64k',
  source: 'synthetic (fleetscan): arm64, CONFIG_ARM64_64K_PAGES, 14 orders',
  buddyinfo: `Node 0, zone      DMA    212    133     70     41     22     12      7      5      3      2      1      1      0      1 
Node 0, zone   Normal   1841    922    471    230    118     61     33     18     10      6      4      2      1      3 
`,
};

export function sampleZones(sample: Sample): ZoneCounts[] {
  return parseBuddyinfo(sample.buddyinfo);
}
