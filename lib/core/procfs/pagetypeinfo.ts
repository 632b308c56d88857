/**
 * /proc/pagetypeinfo (mm/vmstat.c: pagetypeinfo_showfree, pagetypeinfo_showblockitemcount), parsed into the shape
 * the gather report carries. Pure; reading the file is lib/core/read-local.ts's job.
 *
 *   Free pages count per migrate type at order       0      1 ...
 *   Node    0, zone   Normal, type    Unmovable      1     13 ...     (free blocks per order, per migrate type)
 *   Number of blocks type     Unmovable      Movable ...
 *   Node 0, zone   Normal           46          437 ...              (pageblocks per migrate type)
 *
 * Since 5.4 a free-list walk stops at 100000 entries and prints `>100000` (Michal Hocko, "mm, vmstat: reduce
 * zone->lock holding time by /proc/pagetypeinfo"; the cap that broke Metricbeat, elastic/beats#32026): such a sum is a
 * lower bound and its type is listed in `cappedTypes`. Old kernels name Reserve instead of HighAtomic, some lack CMA
 * or Isolate: the header says which. A "Number of mixed blocks" section (page_owner) is skipped.
 */
import { checkZoneName, splitLines } from '../buddyinfo.ts';
import { ParseError } from '../errors.ts';
import { MIGRATE_TYPE_NAME, type Pagetypes, type PagetypeZone } from '../report.ts';

const COUNT = /^>?[0-9]{1,20}$/;

function count(line: number, token: string): { value: number; capped: boolean } {
  if (!COUNT.test(token)) throw new ParseError('bad-token', line, token, 'pagetypeinfo count is not a number');
  const capped = token.startsWith('>');
  const value = Number(capped ? token.slice(1) : token);
  if (!Number.isSafeInteger(value))
    throw new ParseError('count-too-large', line, token, 'pagetypeinfo count is too large');
  return { value, capped };
}

function checkTypeName(line: number, type: string): void {
  if (!MIGRATE_TYPE_NAME.test(type)) {
    throw new ParseError('bad-token', line, type, 'migrate type is not a name like Unmovable');
  }
}

/** Parses /proc/pagetypeinfo. Throws only {@link ParseError}; a file with no blocks section has `types` from the free section. */
export function parsePagetypeinfo(text: string): Pagetypes {
  let section: 'free' | 'blocks' | 'other' = 'other';
  let orders = 0;
  let blockTypes: string[] | null = null;
  const freeTypes: string[] = [];
  const zones = new Map<
    string,
    {
      node: number;
      zone: string;
      blocks: Record<string, number>;
      free: Record<string, number> | null;
      capped: Set<string>;
    }
  >();
  const entry = (node: number, zone: string) => {
    const key = `${node}/${zone}`;
    let found = zones.get(key);
    if (found === undefined) {
      found = { node, zone, blocks: {}, free: null, capped: new Set() };
      zones.set(key, found);
    }
    return found;
  };
  splitLines(text).forEach((raw, index) => {
    const no = index + 1;
    const line = raw.trim();
    if (line === '') return;
    const tokens = line.split(/\s+/);
    if (line.startsWith('Free pages count per migrate type at order')) {
      section = 'free';
      orders = tokens.length - 8;
      return;
    }
    if (line.startsWith('Number of blocks type')) {
      section = 'blocks';
      blockTypes = tokens.slice(4);
      for (const type of blockTypes) checkTypeName(no, type);
      return;
    }
    if (line.startsWith('Number of') || line.startsWith('Page block order') || line.startsWith('Pages per block')) {
      if (line.startsWith('Number of')) section = 'other';
      return;
    }
    if (tokens[0] !== 'Node' || section === 'other') return;
    const node = Number((tokens[1] ?? '').replace(/,$/, ''));
    if (!Number.isInteger(node) || !/^[0-9]+,$/.test(tokens[1] ?? '')) {
      throw new ParseError('bad-token', no, tokens[1] ?? '', "expected '<n>,' after 'Node'");
    }
    if (section === 'free') {
      const zone = (tokens[3] ?? '').replace(/,$/, '');
      const type = tokens[5] ?? '';
      if (tokens[2] !== 'zone' || tokens[4] !== 'type' || type === '') {
        throw new ParseError(
          'bad-token',
          no,
          tokens[4] ?? '',
          "expected 'Node <n>, zone <zone>, type <type> <counts>'",
        );
      }
      checkZoneName(no, zone);
      checkTypeName(no, type);
      const counts = tokens.slice(6);
      if (counts.length !== orders) {
        throw new ParseError(
          'column-mismatch',
          no,
          counts[counts.length - 1] ?? '',
          `free row has ${counts.length} orders, the header ${orders}`,
        );
      }
      const e = entry(node, zone);
      let pages = 0;
      counts.forEach((token, order) => {
        const c = count(no, token);
        if (c.capped) e.capped.add(type);
        pages += c.value * 2 ** order;
      });
      e.free = { ...(e.free ?? {}), [type]: pages };
      if (!freeTypes.includes(type)) freeTypes.push(type);
      return;
    }
    const types = blockTypes ?? [];
    const zone = tokens[3] ?? '';
    const counts = tokens.slice(4);
    if (tokens[2] !== 'zone' || counts.length !== types.length) {
      throw new ParseError(
        'column-mismatch',
        no,
        counts[counts.length - 1] ?? line,
        `blocks row has ${counts.length} values for ${types.length} migrate types`,
      );
    }
    checkZoneName(no, zone);
    const e = entry(node, zone);
    types.forEach((type, i) => {
      e.blocks[type] = count(no, counts[i] ?? '').value;
    });
  });
  const types: string[] = blockTypes ?? freeTypes;
  if (types.length === 0) throw new ParseError('empty', 1, '', 'no pagetypeinfo section found');
  const out: PagetypeZone[] = [...zones.values()].map((z) => ({
    node: z.node,
    zone: z.zone,
    blocks: z.blocks,
    freePages: z.free === null ? null : Object.fromEntries(types.map((t) => [t, z.free?.[t] ?? 0])),
    cappedTypes: types.filter((t) => z.capped.has(t)),
  }));
  return { types, zones: out };
}
