/** What a command needs of the process, so tests can run commands in-process as well as spawned. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Reads all of standard input. */
  readStdin(): Promise<string>;
  /** Whether stdout is a terminal (colours, progress). */
  readonly isTty: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface CommandModule {
  readonly help: string;
  /** The help for these arguments, when a command's options change its usage (`scan --now`). */
  readonly helpFor?: (args: readonly string[]) => string;
  run(args: readonly string[], io: Io): Promise<number>;
}

export function processIo(): Io {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    isTty: process.stdout.isTTY === true,
    env: process.env,
  };
}

/** Colours only on a terminal and never when NO_COLOR is set (https://no-color.org). */
export function useColor(io: Io): boolean {
  return io.isTty && (io.env.NO_COLOR === undefined || io.env.NO_COLOR === '');
}
