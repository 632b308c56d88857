/**
 * `-o yaml`: the same JSON views as `-o json`, in YAML 1.2 block style. Only JSON values occur (objects, arrays,
 * strings, finite numbers, booleans, null), so a small emitter suffices: a string is written plain when YAML would
 * read it back as that same string, and double-quoted (JSON's escapes are valid YAML) otherwise.
 */

/** Plain scalars YAML would read as something other than a string, or that need quoting to parse at all. */
const RESERVED =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const NUMBER_LIKE = /^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?$|^0[xob]/;
const SAFE = /^[A-Za-z0-9_./@(][A-Za-z0-9_ ./@()+=,;-]*$/;

function scalar(value: string): string {
  const plain =
    value !== '' &&
    SAFE.test(value) &&
    !value.endsWith(' ') &&
    !RESERVED.test(value) &&
    !NUMBER_LIKE.test(value) &&
    !value.includes(': ') &&
    !value.includes(' #');
  return plain ? value : JSON.stringify(value);
}

function key(name: string): string {
  return scalar(name);
}

function isCollection(value: unknown): value is object {
  return (
    typeof value === 'object' &&
    value !== null &&
    (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0)
  );
}

function inline(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return scalar(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return '[]';
  return '{}';
}

function lines(value: unknown, indent: string): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (!isCollection(item)) return [`${indent}- ${inline(item)}`];
      const [first = '', ...rest] = lines(item, `${indent}  `);
      return [`${indent}- ${first.slice(indent.length + 2)}`, ...rest];
    });
  }
  return Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .flatMap(([name, item]) =>
      isCollection(item)
        ? [`${indent}${key(name)}:`, ...lines(item, `${indent}  `)]
        : [`${indent}${key(name)}: ${inline(item)}`],
    );
}

/** A JSON value as a YAML document (one trailing newline). */
export function toYaml(value: unknown): string {
  if (!isCollection(value)) return `${inline(value)}\n`;
  return `${lines(value, '').join('\n')}\n`;
}
