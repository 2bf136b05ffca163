/**
 * A closed stdout (`modelseal hash m | head -1`) ends the process quietly instead of with an
 * unhandled EPIPE stack trace (issue 11 item 14). The exit status is that of a process killed by
 * SIGPIPE (141), as shells report it: the output was not delivered, so it is not success.
 */

/** Exit status when stdout or stderr was closed by the reader (128 + SIGPIPE). */
export const EXIT_PIPE_CLOSED = 141;

let installed = false;

/** Installs the EPIPE handlers on process.stdout and process.stderr (once). */
export function endQuietlyOnClosedOutput(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') process.exit(EXIT_PIPE_CLOSED);
      // anything else on our own output streams cannot be reported on them either
      process.exit(70);
    });
  }
}
