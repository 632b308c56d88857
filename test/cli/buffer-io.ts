/** An in-process Io for running commands in tests: what they print is kept; the terminal is whatever the test says. */
import type { Io } from '../../lib/cli/io.ts';

export interface BufferIo {
  readonly io: Io;
  stdout(): string;
  stderr(): string;
}

export function bufferIo(
  options: {
    readonly env?: Record<string, string>;
    readonly isTty?: boolean;
    readonly columns?: number;
    readonly stdin?: string;
  } = {},
): BufferIo {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: (text) => {
        out += text;
      },
      stderr: (text) => {
        err += text;
      },
      readStdin: async () => options.stdin ?? '',
      isTty: options.isTty ?? false,
      ...(options.columns === undefined ? {} : { columns: options.columns }),
      env: options.env ?? { NO_COLOR: '1' },
    },
    stdout: () => out,
    stderr: () => err,
  };
}

/** Runs `fleetscan ARGS` in-process with a buffer Io: its exit code and what it printed. */
export async function runMain(
  args: readonly string[],
  options: Parameters<typeof bufferIo>[0] = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../lib/cli/main.ts');
  const buffer = bufferIo(options);
  const code = await main(args, buffer.io);
  return { code, stdout: buffer.stdout(), stderr: buffer.stderr() };
}
