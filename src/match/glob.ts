/**
 * A glob matcher over POSIX relative paths that runs in linear time in the path length for a fixed
 * pattern (O(path × pattern) in all): the pattern is a sequence of tokens and matching simulates all
 * positions at once (a Thompson NFA), so no input backtracks. A RegExp compiled from a glob (the
 * former `globToRegExp`) backtracks exponentially on patterns with many `*` (issue 11 item 7: 34 `*`
 * took 0.66 s, 200 never finished).
 *
 * Syntax: `**` any number of path components (`a/**` everything under a; `**` + `/` at a component start
 * also matches no component), `*` any run of characters within one component, `?` one character
 * within a component, `[...]` / `[!...]` a character class; anything else is literal.
 */

type Token =
  | { t: 'lit'; c: string }
  | { t: 'one' }
  | { t: 'class'; re: RegExp }
  | { t: 'star' }
  | { t: 'globstar' }
  /** `**` followed by `/` at a component start: empty, or anything ending with '/'. */
  | { t: 'dirs' };

/** A compiled glob. */
export interface GlobMatcher {
  readonly source: string;
  /** True when the whole of `path` matches. */
  test(path: string): boolean;
}

function escapeClass(cls: string): string {
  return cls.replace(/\\/g, '\\\\');
}

function tokenize(glob: string): Token[] {
  const g = Array.from(glob); // code points, as the 'u' RegExp did
  const out: Token[] = [];
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === '*') {
      if (g[i + 1] === '*') {
        const atStart = i === 0 || g[i - 1] === '/';
        if (atStart && g[i + 2] === '/') {
          out.push({ t: 'dirs' });
          i += 2;
        } else {
          out.push({ t: 'globstar' });
          i += 1;
        }
      } else if (out[out.length - 1]?.t !== 'star') out.push({ t: 'star' }); // `**` is handled above; `*` runs are one star
    } else if (c === '?') out.push({ t: 'one' });
    else if (c === '[') {
      const close = g.indexOf(']', i + 2);
      if (close < 0) out.push({ t: 'lit', c });
      else {
        let cls = g.slice(i + 1, close).join('');
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        // a one-character class RegExp cannot backtrack
        out.push({ t: 'class', re: new RegExp('^[' + escapeClass(cls) + ']$', 'u') });
        i = close;
      }
    } else out.push({ t: 'lit', c });
  }
  return out;
}

/**
 * Compiles `glob`. Throws a SyntaxError for an invalid character class (callers turn it into their
 * usage error).
 */
export function compileGlob(glob: string): GlobMatcher {
  const tokens = tokenize(glob);
  const m = tokens.length;
  // Epsilon closure: star, globstar and dirs may match nothing.
  const close = (set: Uint8Array, stack: number[]): void => {
    while (stack.length > 0) {
      const s = stack.pop()!;
      const tok = tokens[s];
      if (tok && (tok.t === 'star' || tok.t === 'globstar' || tok.t === 'dirs') && !set[s + 1]) {
        set[s + 1] = 1;
        stack.push(s + 1);
      }
    }
  };
  return {
    source: glob,
    test(path: string): boolean {
      let cur = new Uint8Array(m + 1);
      let next = new Uint8Array(m + 1);
      cur[0] = 1;
      close(cur, [0]);
      for (const ch of path) {
        next.fill(0);
        const stack: number[] = [];
        const add = (s: number) => {
          if (!next[s]) {
            next[s] = 1;
            stack.push(s);
          }
        };
        let any = false;
        for (let s = 0; s < m; s++) {
          if (!cur[s]) continue;
          const tok = tokens[s]!;
          switch (tok.t) {
            case 'lit':
              if (ch === tok.c) add(s + 1);
              break;
            case 'one':
              if (ch !== '/') add(s + 1);
              break;
            case 'class':
              if (tok.re.test(ch)) add(s + 1);
              break;
            case 'star':
              if (ch !== '/') add(s);
              break;
            case 'globstar':
              add(s);
              break;
            case 'dirs':
              add(s);
              if (ch === '/') add(s + 1);
              break;
          }
        }
        close(next, stack);
        for (let s = 0; s <= m; s++) if (next[s]) any = true;
        if (!any) return false;
        [cur, next] = [next, cur];
      }
      return cur[m] === 1;
    },
  };
}
