import type { PollDeps } from '../../lib/poll/run-poll';

/**
 * What a process that died looks like from the outside: once tripped, every further call to any wrapped port throws,
 * so nothing after the crash point reaches Atlas, S3 or Slack (in particular the state is not saved). The use case
 * itself keeps running, which is harmless: it can no longer change anything.
 */
export class CrashError extends Error {
  override readonly name = 'CrashError';
  constructor() {
    super('the process died here');
  }
}

export type PortName = 'atlas' | 'archive' | 'stateStore' | 'indexStore' | 'notifier';

export interface CrashPoint {
  /** Trip right after the `nth` (1-based) successful call of `port.method`; a label never called never trips. */
  readonly after: string;
  readonly nth?: number;
}

export interface CrashSwitch {
  readonly tripped: boolean;
  /** Every port call made, in order, as `port.method`, including the ones refused after the crash. */
  readonly calls: readonly string[];
}

/** Wrap the ports of `deps` so the run crashes at `point`. */
export function withCrash(deps: PollDeps, point: CrashPoint): { deps: PollDeps; crash: CrashSwitch } {
  const calls: string[] = [];
  const counts = new Map<string, number>();
  const state = { tripped: false };
  const wrap = <T extends object>(name: PortName, port: T): T =>
    new Proxy(port, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        const label = `${name}.${String(property)}`;
        return async (...args: unknown[]) => {
          calls.push(label);
          if (state.tripped) throw new CrashError();
          const result = await value.apply(target, args);
          const count = (counts.get(label) ?? 0) + 1;
          counts.set(label, count);
          if (label === point.after && count === (point.nth ?? 1)) state.tripped = true;
          return result;
        };
      },
    });
  return {
    deps: {
      ...deps,
      atlas: wrap('atlas', deps.atlas),
      archive: wrap('archive', deps.archive),
      stateStore: wrap('stateStore', deps.stateStore),
      indexStore: wrap('indexStore', deps.indexStore),
      notifier: wrap('notifier', deps.notifier),
    },
    crash: {
      get tripped() {
        return state.tripped;
      },
      calls,
    },
  };
}
