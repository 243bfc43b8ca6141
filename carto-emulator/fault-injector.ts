// Decides which fault, if any, each request and each new export gets, and counts what fired.
import type { Interceptor } from './dispatch';
import type { ExportFault } from './export-jobs';
import {
  faultApplies,
  faultEndpointOf,
  isExportOutcomeRule,
  validateFaultRule,
  validateFaultRules,
  type FaultController,
  type FaultEndpoint,
  type FaultRule,
  type FaultStats,
  type RequestFaultRule,
} from './faults';
import { applyRequestFault } from './request-faults';
import { seededRandom } from './seeded-random';

interface ActiveRule {
  rule: FaultRule;
  random: () => number;
  /** Matching requests (or exports) seen so far. */
  seen: number;
  fired: number;
}

export class FaultInjector implements FaultController {
  readonly #seed: number;
  readonly #signal: AbortSignal;
  #rules: ActiveRule[] = [];
  readonly #stats: FaultStats = {};

  /** `rules` must already be valid (`validateFaultRules`); `signal` ends pending delays when the emulator closes. */
  constructor(options: { rules: FaultRule[]; seed: number; signal: AbortSignal }) {
    this.#seed = options.seed;
    this.#signal = options.signal;
    this.#rules = options.rules.map((rule, index) => this.#activate(rule, index));
  }

  set(rules: FaultRule[]): void {
    this.#rules = validateFaultRules(rules).map((rule, index) => this.#activate(rule, index));
  }

  add(rule: FaultRule): void {
    this.#rules.push(this.#activate(validateFaultRule(rule, 'fault rule'), this.#rules.length));
  }

  clear(): void {
    this.#rules = [];
  }

  stats(): FaultStats {
    return Object.fromEntries(
      Object.entries(this.#stats).map(([endpoint, counts]) => [endpoint, { ...counts }]),
    ) as FaultStats;
  }

  /** The dispatcher hook: applies the request fault that fires for this route, or lets it through. */
  readonly intercept: Interceptor = (route, req, res, proceed) => {
    const endpoint = faultEndpointOf(route.name);
    const rule = this.#fire(
      endpoint,
      (candidate): candidate is RequestFaultRule =>
        !isExportOutcomeRule(candidate) &&
        (candidate.endpoint === '*' || candidate.endpoint === endpoint) &&
        faultApplies(candidate.fault, endpoint),
    );
    return rule ? applyRequestFault(rule, req, res, proceed, this.#signal) : proceed();
  };

  /** How a new export of `visualizationId` must end, if a rule scripts it; called once per created export. */
  exportFault(visualizationId: string): ExportFault | undefined {
    const rule = this.#fire(
      'export.create',
      (candidate) =>
        isExportOutcomeRule(candidate) &&
        (candidate.visualizationId === undefined ||
          candidate.visualizationId.toLowerCase() === visualizationId.toLowerCase()),
    );
    if (rule === undefined) return undefined;
    return rule.fault === 'exportStuck' ? 'stuck' : 'failure';
  }

  /**
   * Every matching rule counts the event, so `after` and `times` mean "the Nth request to this endpoint" whatever
   * other rules do; each rate rule draws from its own seeded stream. The first rule that fires wins.
   */
  #fire<T extends FaultRule>(endpoint: FaultEndpoint, matches: (rule: FaultRule) => rule is T): T | undefined;
  #fire(endpoint: FaultEndpoint, matches: (rule: FaultRule) => boolean): FaultRule | undefined;
  #fire(endpoint: FaultEndpoint, matches: (rule: FaultRule) => boolean): FaultRule | undefined {
    let winner: ActiveRule | undefined;
    for (const active of this.#rules) {
      if (!matches(active.rule)) continue;
      active.seen += 1;
      const { rate, times, after = 0 } = active.rule;
      if (active.seen <= after || (times !== undefined && active.fired >= times)) continue;
      const fires = rate === undefined || active.random() < rate;
      if (fires && winner === undefined) winner = active;
    }
    if (!winner) return undefined;
    winner.fired += 1;
    const counts = (this.#stats[endpoint] ??= {});
    counts[winner.rule.fault] = (counts[winner.rule.fault] ?? 0) + 1;
    return winner.rule;
  }

  #activate(rule: FaultRule, index: number): ActiveRule {
    return { rule, random: seededRandom(this.#seed, index), seen: 0, fired: 0 };
  }
}
