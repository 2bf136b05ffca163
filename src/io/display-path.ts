/**
 * Paths in messages: a hostile tree can make a path tens of kilobytes long (10k nested directories),
 * and printing it whole (twice, with the errno text that repeats it) buries the sentence. Long paths
 * keep their start and end with the middle elided.
 */

/** The longest path printed whole in a message. */
export const DISPLAY_PATH_MAX_CHARS = 240;

/** `path`, or its first and last parts around "…(N characters)…" when it is longer than the limit. */
export function displayPath(path: string, max = DISPLAY_PATH_MAX_CHARS): string {
  if (path.length <= max) return path;
  const keep = Math.floor((max - 24) / 2);
  return `${path.slice(0, keep)}…(${path.length - 2 * keep} characters)…${path.slice(path.length - keep)}`;
}
