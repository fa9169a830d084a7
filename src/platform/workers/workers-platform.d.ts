/**
 * The slice of the Workers platform flowgate uses, declared by hand so the worker files type-check
 * under the repository's DOM+Node tsconfig. `tsconfig.workers.json` checks the same files against
 * the real `@cloudflare/workers-types` instead (and leaves this file out).
 */
declare module 'cloudflare:workers' {
  export interface DurableObjectStorage {
    get<T = unknown>(key: string): Promise<T | undefined>;
    get<T = unknown>(keys: string[]): Promise<Map<string, T>>;
    put<T>(key: string, value: T): Promise<void>;
    put<T>(entries: Record<string, T>): Promise<void>;
    delete(key: string): Promise<boolean>;
    delete(keys: string[]): Promise<number>;
    deleteAll(): Promise<void>;
    list<T = unknown>(options?: { prefix?: string; limit?: number }): Promise<Map<string, T>>;
    getAlarm(): Promise<number | null>;
    setAlarm(scheduledTime: number | Date): Promise<void>;
  }

  export interface DurableObjectState {
    readonly storage: DurableObjectStorage;
    blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
  }

  export abstract class DurableObject<Env = unknown> {
    protected ctx: DurableObjectState;
    protected env: Env;
    constructor(ctx: DurableObjectState, env: Env);
    alarm?(): void | Promise<void>;
  }

  /** Extends the current request's lifetime, like `ctx.waitUntil`, without having `ctx` at hand. */
  export function waitUntil(promise: Promise<unknown>): void;
}
