import { connect } from 'node:net';
import { createInterface } from 'node:readline';

/** One command as the server ran it: its name in lower case, then its arguments. */
export type RedisCommand = readonly string[];

export interface RedisMonitor {
  /** Every command the server has run since monitoring began, in order. */
  readonly commands: readonly RedisCommand[];
  /**
   * Resolves once `check` holds for the commands run so far (checked as each one arrives): an event to
   * wait on instead of a guess at how long another process takes.
   */
  until(check: (commands: readonly RedisCommand[]) => boolean): Promise<void>;
  /** Resolves once one key, not among `before`, has had `times` commands matching `test` (the key is the first argument). */
  keyHit(test: (command: RedisCommand) => boolean, times: number, before?: ReadonlySet<string>): Promise<string>;
  /** The keys that commands matching `test` have named so far. */
  keys(test: (command: RedisCommand) => boolean): Set<string>;
  close(): void;
}

/** The arguments of one MONITOR line: `+<time> [<db> <client>] "arg" "arg" …`, with Redis's escapes. */
function parseMonitorLine(line: string): string[] | undefined {
  const open = line.indexOf('] ');
  if (!line.startsWith('+') || open < 0) return undefined;
  const args: string[] = [];
  let i = open + 2;
  while (i < line.length) {
    if (line[i] !== '"') return undefined;
    let arg = '';
    for (i++; i < line.length && line[i] !== '"'; i++) {
      if (line[i] !== '\\') {
        arg += line[i];
        continue;
      }
      const next = line[++i];
      if (next === 'x') {
        arg += String.fromCharCode(parseInt(line.slice(i + 1, i + 3), 16));
        i += 2;
      } else arg += next === 'n' ? '\n' : next === 'r' ? '\r' : next === 't' ? '\t' : next;
    }
    args.push(arg);
    i += 2;
  }
  return args;
}

/**
 * Watches every command a Redis server of the suite's own runs, with MONITOR on a plain connection of its
 * own (a client library's monitor mode can mistake the feed for answers while it is still starting).
 */
export async function monitorRedis(url: string): Promise<RedisMonitor> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const commands: RedisCommand[] = [];
  const waiting = new Set<{ check: (commands: readonly RedisCommand[]) => boolean; resolve: () => void }>();
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', () => {});
  socket.write('MONITOR\r\n');
  const started = new Promise<void>((resolve) => {
    createInterface({ input: socket, crlfDelay: Infinity }).on('line', (line) => {
      if (line === '+OK') return resolve();
      const args = parseMonitorLine(line);
      if (!args?.length) return;
      commands.push([args[0]!.toLowerCase(), ...args.slice(1)]);
      for (const waiter of waiting) {
        if (!waiter.check(commands)) continue;
        waiting.delete(waiter);
        waiter.resolve();
      }
    });
  });
  await started;
  const until = (check: (commands: readonly RedisCommand[]) => boolean): Promise<void> =>
    check(commands) ? Promise.resolve() : new Promise((resolve) => waiting.add({ check, resolve }));
  return {
    commands,
    until,
    async keyHit(test, times, before = new Set()) {
      let hit = '';
      await until((all) => {
        const counts = new Map<string, number>();
        for (const command of all) {
          const key = command[1];
          if (key === undefined || before.has(key) || !test(command)) continue;
          const n = (counts.get(key) ?? 0) + 1;
          counts.set(key, n);
          if (n >= times) return Boolean((hit = key));
        }
        return false;
      });
      return hit;
    },
    keys: (test) => new Set(commands.filter(test).map((command) => command[1]!)),
    close() {
      socket.destroy();
    },
  };
}
