/**
 * `fleetscan completion zsh|fish` in the shells themselves (Debian's zsh and fish, installed by `.ci/run`; bash's is
 * tested in `npm test`, test/cli/conventions.test.ts). fish completes for real (`complete -C`); zsh's completion
 * system needs a terminal, so its script runs in zsh with the completion builtins it calls (`_describe`,
 * `_arguments`, `compdef`) recording their arguments: the script parses, registers itself and dispatches each
 * command to the flags the parser takes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allFlags, COMMANDS } from '../../lib/cli/commands.ts';
import { completionScript } from '../../lib/cli/completion.ts';
import { ROOT } from '../cli/run-cli.ts';

const dir = mkdtempSync(join(ROOT, '.tmp', 'completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function shell(program: 'zsh' | 'fish', script: string): string {
  const file = join(dir, `${program}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, script);
  return execFileSync(program, program === 'zsh' ? ['-f', file] : ['--no-config', file], { encoding: 'utf8' });
}

describe('Completion: zsh', () => {
  const script = join(dir, '_fleetscan');
  writeFileSync(script, completionScript('zsh'));
  const run = (words: string[]) =>
    shell(
      'zsh',
      [
        `compdef() { print -r -- "compdef $*" }`,
        `_describe() { print -r -- "describe"; print -rl -- "\${(@P)\${@[-1]}}" }`,
        `_arguments() { print -rl -- "arguments" "$@" }`,
        `source ${script}`,
        `words=(${words.map((word) => `'${word}'`).join(' ')}); CURRENT=${words.length}`,
        '_fleetscan',
      ].join('\n'),
    )
      .split('\n')
      // Sourcing registers the function first (compdef); what follows is _fleetscan's work.
      .filter((line) => !line.startsWith('compdef '));

  it('parses, and registers itself for fleetscan', () => {
    expect(execFileSync('zsh', ['-n', script], { encoding: 'utf8' })).toBe('');
    expect(shell('zsh', `compdef() { print -r -- "compdef $*" }\nsource ${script}`).trim()).toBe(
      'compdef _fleetscan fleetscan',
    );
  });

  it('offers every command, with its summary', () => {
    const offered = run(['fleetscan', '']);
    expect(offered[0]).toBe('describe');
    for (const command of COMMANDS) expect(offered.some((line) => line.startsWith(`${command.name}:`))).toBe(true);
  });

  it('gives each command exactly its declared flags, enumerated values listed', () => {
    for (const command of COMMANDS) {
      const specs = run(['fleetscan', command.name, '']);
      expect(specs[0], command.name).toBe('arguments');
      for (const flag of allFlags(command).filter((entry) => entry.hidden !== true)) {
        const spec = specs.find((line) => line.includes(`--${flag.name}[`));
        expect(spec, `${command.name} --${flag.name}`).toBeDefined();
        if (flag.values !== undefined) expect(spec).toContain(`:(${flag.values.join(' ')})`);
      }
    }
    expect(run(['fleetscan', 'inspect', '']).some((line) => line.endsWith(':_files'))).toBe(true);
  });
});

describe('Completion: fish', () => {
  const script = join(dir, 'fleetscan.fish');
  writeFileSync(script, completionScript('fish'));
  const complete = (line: string) =>
    shell('fish', `source ${script}\ncomplete -C '${line}'`)
      .trim()
      .split('\n')
      .map((entry) => entry.split('\t')[0]);

  it('completes commands, flags and their values as fish itself does', () => {
    expect(complete('fleetscan sc').sort()).toEqual(['scan', 'scans']);
    expect(complete('fleetscan scans -o ').sort()).toEqual(['json', 'table', 'tsv', 'wide', 'yaml']);
    expect(complete('fleetscan scan --st').sort()).toEqual(['--stack', '--status']);
    expect(complete('fleetscan demo --c')).toEqual(['--color']);
    expect(complete('fleetscan completion ').sort()).toEqual(['bash', 'fish', 'zsh']);
    expect(complete('fleetscan help f')).toEqual(['fleet']);
  });
});
