// One-time cluster setup: registers carto-ferry's search attributes through the operator API, idempotently.
import { isGrpcServiceError, type ConnectionLike } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../contract/search-attributes';

const { IndexedValueType } = temporal.api.enums.v1;
/** gRPC status code ALREADY_EXISTS. */
const ALREADY_EXISTS = 6;

/** The contract's type names (as `temporal server start-dev --search-attribute` spells them) in the operator API. */
const INDEXED_VALUE_TYPES = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Text: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
} as const;

export interface SearchAttributeRegistration {
  name: string;
  type: string;
  /** `added` by this call, or `present` already (registered earlier, or concurrently by someone else). */
  outcome: 'added' | 'present';
}

/** A search attribute exists under the same name with another type; Temporal cannot change it in place. */
export class SearchAttributeConflictError extends Error {
  override name = 'SearchAttributeConflictError';
}

/**
 * Registers CartoAccount, CartoVisualizationId, CartoExportId and CartoPhase (Keyword) in `namespace`. Safe to run
 * again: attributes already present are reported as such. Throws SearchAttributeConflictError when a name is taken by
 * another type. Needs a cluster whose operator API the caller may use (self-hosted or the dev server).
 */
export async function registerSearchAttributes(
  connection: Pick<ConnectionLike, 'operatorService'>,
  namespace: string,
  attributes: Record<string, keyof typeof INDEXED_VALUE_TYPES> = SEARCH_ATTRIBUTES,
): Promise<SearchAttributeRegistration[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const custom = existing.customAttributes ?? {};
  const wanted = Object.entries(attributes).map(([name, type]) => ({ name, type }));
  for (const { name, type } of wanted) {
    if (name in custom && custom[name] !== INDEXED_VALUE_TYPES[type]) {
      throw new SearchAttributeConflictError(
        `Search attribute ${name} already exists in namespace ${namespace} as ${IndexedValueType[custom[name]]}, not ${type}; remove it or use another namespace`,
      );
    }
  }
  const missing = wanted.filter(({ name }) => !(name in custom));
  if (missing.length) {
    try {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(
          missing.map(({ name, type }) => [name, INDEXED_VALUE_TYPES[type]]),
        ),
      });
    } catch (error) {
      // Someone registered them between our list and our add: the outcome is the same.
      if (!(isGrpcServiceError(error) && error.code === ALREADY_EXISTS)) throw error;
    }
  }
  return wanted.map(({ name, type }) => ({
    name,
    type,
    outcome: missing.some((m) => m.name === name) ? 'added' : 'present',
  }));
}
