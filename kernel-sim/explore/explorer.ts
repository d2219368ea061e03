/**
 * Runs schedules on one machine and classifies how each run ended.
 *
 * The machine is built once; each schedule restores the snapshot taken before the first step and
 * replays its decisions (Machine.setSchedule), so a schedule costs one run, not a kernel load.
 * A failure is its kind plus a signature: the kind and the innermost function names of the
 * panicking stack (no offsets, no addresses), or the hazard or hang in words without addresses,
 * so the same bug found through different schedules is one failure.
 */
import type { Machine, MachineSnapshot } from '../machine/machine';
import { Schedule, preemptions, type Decision } from '../machine/schedule';
import type { RunShape } from './strategies';

export type FailureKind = 'panic' | 'assert' | 'hazard' | 'deadlock' | 'leak';
export const FAILURE_KINDS: readonly FailureKind[] = ['panic', 'assert', 'hazard', 'deadlock', 'leak'];

export interface Failure {
  kind: FailureKind;
  message: string;
  signature: string;
}

/** A failing schedule and the key explore keeps the best of: fewest preemptions, then fewest decisions, then first found. */
export interface Found extends Failure {
  decisions: Decision[];
  /** Index of the schedule in the search that first gave this failure with this key. */
  index: number;
  preemptions: number;
}

export function betterThan(a: Found, b: Found): boolean {
  if (a.preemptions !== b.preemptions) return a.preemptions < b.preemptions;
  if (a.decisions.length !== b.decisions.length) return a.decisions.length < b.decisions.length;
  return a.index < b.index;
}

/** Stack frames in a signature: enough to tell call paths apart, few enough to merge loops. */
const SIGNATURE_FRAMES = 6;

/** Hex addresses and numbers in a message, replaced so runs at other addresses compare equal. */
function scrub(s: string): string {
  return s.replace(/\b[0-9a-f]{16}\b/g, 'ADDR').replace(/\b0x[0-9a-f]+\b/g, 'N');
}

export class Explorer {
  private readonly start: MachineSnapshot;

  constructor(
    readonly m: Machine,
    readonly until: ReadonlySet<FailureKind>,
    public maxSteps: number,
  ) {
    m.sink = null;
    m.policy = null;
    m.onConsole = null;
    this.start = m.snapshot();
  }

  /** Runs one schedule from the start; returns its failure, if it is one of `until`. */
  run(decisions: Decision[]): Failure | null {
    const m = this.m;
    m.restore(this.start);
    m.setSchedule(decisions.length ? new Schedule(decisions) : null);
    const r = m.run(this.maxSteps);
    return this.classify(r.kind);
  }

  /** The ordinary run's shape (run it first: it is schedule 0). */
  shape(): RunShape {
    const m = this.m;
    m.restore(this.start);
    m.setSchedule(null);
    m.run(this.maxSteps);
    return { steps: m.stats.steps, rounds: m.rounds, allocs: m.allocSeq, disps: m.dispSeq, cpus: m.cpus.length };
  }

  private classify(outcome: string): Failure | null {
    const m = this.m;
    if (outcome === 'panic') {
      const p = m.panicInfo!;
      const kind: FailureKind = /^assertion failed/.test(p.message) ? 'assert' : 'panic';
      if (!this.until.has(kind)) return null;
      const frames = p.stack.slice(0, SIGNATURE_FRAMES).map((f) => f.replace(/[+(].*$/, ''));
      return { kind, message: p.message, signature: `${kind}: ${frames.join(' < ')}` };
    }
    if (this.until.has('hazard') && m.hazards.length) {
      const h = m.hazards[0]!;
      const thread = m.names.get(h.thread) ?? '?';
      return { kind: 'hazard', message: h.message, signature: `hazard: ${h.id} in ${thread}: ${scrub(h.message.replace(/ on thread .*?\)/, ''))}` };
    }
    if (outcome === 'deadlock' && this.until.has('deadlock')) {
      return { kind: 'deadlock', message: m.deadlock!, signature: `deadlock: ${scrub(m.deadlock!)}` };
    }
    if (outcome === 'end' && this.until.has('leak')) {
      const { findLeaks } = require('../mdb/leaky') as typeof import('../mdb/leaky');
      const leaks = findLeaks(m).leaks;
      if (leaks.length) {
        const l = leaks[0]!;
        const message = `${leaks.reduce((n, x) => n + x.count, 0)} leaked buffer(s); first: ${l.cache} allocated by ${l.caller}`;
        const where = l.stack.slice(0, SIGNATURE_FRAMES).map((f) => f.replace(/\+.*$/, ''));
        return { kind: 'leak', message, signature: `leak: ${l.cache} < ${where.join(' < ')}` };
      }
    }
    return null;
  }

  /**
   * The smallest schedule that still fails the same way: drops decisions one at a time (the
   * last first) while the failure keeps its signature. A pure function of its input, so every
   * process that minimises the same schedule gets the same answer.
   */
  minimise(f: Found): Found {
    let ds = f.decisions.slice();
    for (let i = ds.length - 1; i >= 0; i--) {
      const without = ds.slice(0, i).concat(ds.slice(i + 1));
      const g = this.run(without);
      if (g && g.signature === f.signature) ds = without;
    }
    const g = this.run(ds);
    return { ...f, message: g ? g.message : f.message, decisions: ds, preemptions: preemptions(ds) };
  }
}
