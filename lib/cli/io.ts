/** What a command needs of the process, so tests can run commands in-process as well as spawned. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Reads all of standard input. */
  readStdin(): Promise<string>;
  /** Whether stdout is a terminal (colours, progress). */
  readonly isTty: boolean;
  /** The terminal's width when stdout is one. */
  readonly columns?: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Asks that the first Ctrl-C (SIGINT) abort the returned signal rather than end the process, so that a long
   * command stops at its next safe point; a second Ctrl-C still ends it. Without this, Ctrl-C ends a command at once.
   */
  readonly graceful?: () => AbortSignal;
}

export interface CommandModule {
  run(args: readonly string[], io: Io): Promise<number>;
}

/** The exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

/**
 * The real process. A reader that goes away (`fleetscan demo | head -1`) closes stdout: the EPIPE that follows
 * is not an error of ours, so later output is dropped and the command ends as it would have.
 */
export function processIo(): Io {
  let stdoutClosed = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') {
      stdoutClosed = true;
      return;
    }
    throw error;
  });
  process.stderr.on('error', () => {});
  let interrupt: AbortController | undefined;
  return {
    stdout: (text) => {
      if (!stdoutClosed) process.stdout.write(text);
    },
    stderr: (text) => process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    isTty: process.stdout.isTTY === true,
    ...(process.stdout.isTTY === true && process.stdout.columns > 0 ? { columns: process.stdout.columns } : {}),
    env: process.env,
    graceful: () => {
      if (interrupt === undefined) {
        const controller = new AbortController();
        interrupt = controller;
        process.on('SIGINT', () => {
          if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
          controller.abort();
        });
      }
      return interrupt.signal;
    },
  };
}
