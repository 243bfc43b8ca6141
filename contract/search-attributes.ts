// Search attributes carto-ferry upserts, so exports can be found in the Web UI and with `temporal workflow list --query`.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CartoAccount = defineSearchAttributeKey('CartoAccount', SearchAttributeType.KEYWORD);
export const CartoVisualizationId = defineSearchAttributeKey(
  'CartoVisualizationId',
  SearchAttributeType.KEYWORD,
);
export const CartoExportId = defineSearchAttributeKey('CartoExportId', SearchAttributeType.KEYWORD);
export const CartoPhase = defineSearchAttributeKey('CartoPhase', SearchAttributeType.KEYWORD);

/** Every key, with its type name as the dev server's `--search-attribute Name=Type` flag spells it. */
export const SEARCH_ATTRIBUTES = {
  CartoAccount: 'Keyword',
  CartoVisualizationId: 'Keyword',
  CartoExportId: 'Keyword',
  CartoPhase: 'Keyword',
} as const;
