import { Redis } from 'ioredis';

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

/** Watches every command a Redis server of the suite's own runs (MONITOR), from a connection of its own. */
export async function monitorRedis(url: string): Promise<RedisMonitor> {
  const client = new Redis(url);
  const monitor = await client.monitor();
  const commands: RedisCommand[] = [];
  const waiting = new Set<{ check: (commands: readonly RedisCommand[]) => boolean; resolve: () => void }>();
  monitor.on('monitor', (_time: string, args: unknown[]) => {
    commands.push([String(args[0]).toLowerCase(), ...args.slice(1).map(String)]);
    for (const waiter of waiting) {
      if (!waiter.check(commands)) continue;
      waiting.delete(waiter);
      waiter.resolve();
    }
  });
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
      monitor.disconnect();
      client.disconnect();
    },
  };
}
