// Resolves the account aliases that workflows carry into CARTO clients holding the real URL and API key.
import { ApplicationFailure } from '@temporalio/common';
import { CartoClient } from '../carto-api/carto-client';
import { FailureType } from '../contract/export-visualization';

export interface CartoAccountConfig {
  baseUrl: string;
  apiKey: string;
}

export class CartoAccounts {
  readonly #configs: ReadonlyMap<string, CartoAccountConfig>;
  readonly #clients = new Map<string, CartoClient>();
  readonly #timeoutMs: number | undefined;

  constructor(accounts: Record<string, CartoAccountConfig>, options: { timeoutMs?: number } = {}) {
    this.#configs = new Map(Object.entries(accounts));
    this.#timeoutMs = options.timeoutMs;
  }

  get aliases(): string[] {
    return [...this.#configs.keys()];
  }

  /** The client for an alias; an unknown alias is a configuration problem that no retry fixes. */
  client(alias: string): CartoClient {
    const cached = this.#clients.get(alias);
    if (cached) return cached;
    const config = this.#configs.get(alias);
    if (!config) {
      throw ApplicationFailure.nonRetryable(
        `Unknown CARTO account '${alias}'. This worker knows: ${this.aliases.join(', ') || '(none)'}. Add it to CARTO_ACCOUNTS or CARTO_ACCOUNTS_FILE on the worker.`,
        FailureType.UnknownAccount,
      );
    }
    const client = new CartoClient({
      baseUrl: config.baseUrl,
      apiKey: config.apiKey,
      timeoutMs: this.#timeoutMs,
    });
    this.#clients.set(alias, client);
    return client;
  }
}
