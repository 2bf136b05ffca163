/**
 * The exit code of the command being run. Commander actions cannot return a value, so each command
 * records its code here and `main` reads it after parsing. Kept apart from main.ts so that commands
 * never import the module that loads them.
 */
let current = 0;

/** Commands call this with their exit code. */
export function setExitCode(code: number): void {
  current = code;
}

/** The code the last command recorded; resets to 0 for the next run (tests run several in one process). */
export function takeExitCode(): number {
  const code = current;
  current = 0;
  return code;
}
