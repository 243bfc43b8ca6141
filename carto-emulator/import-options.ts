// The creation options of POST /api/v1/imports, parsed and validated as `default_creation_options` does.
import { isPresent, rubyToInt, type Params } from './request-params';

export interface ImportOptions {
  createVisualization: boolean;
  typeGuessing: boolean;
  quotedFieldsGuessing: boolean;
  contentGuessing: boolean;
  privacy: 'public' | 'private' | 'link' | null;
  collisionStrategy: 'skip' | 'overwrite' | null;
  append: boolean;
  tableName: string | null;
  fromQuery: string | null;
  /** Stored as a JSON string and presented that way. */
  userDefinedLimits: string;
}

/** A create error: the message becomes `{"errors":{"imports":"<message>"}}` with status 400. */
export class ImportRequestError extends Error {}

/**
 * Booleans follow the server exactly: `create_vis` and `content_guessing` are true only for `"true"` or JSON `true`
 * (so carto-python's `"True"` is false), while the type and quoted-field guessers are true unless `"false"`/`false`.
 * Errors are raised in the server's order: service_item_id, then privacy.
 */
export function parseImportOptions(params: Params): ImportOptions {
  const limits = params.get('user_defined_limits');
  const userDefinedLimits: Record<string, unknown> =
    limits !== null && typeof limits === 'object' && !Array.isArray(limits) ? { ...limits } : {};
  const credits = userDefinedLimits.twitter_credits_limit;
  userDefinedLimits.twitter_credits_limit = isPresent(credits) ? rubyToInt(credits) : 0;

  const serviceItemId = params.get('service_item_id');
  if (serviceItemId !== undefined && serviceItemId !== null && typeof serviceItemId !== 'string') {
    throw new ImportRequestError('service_item_id field should be empty or a string');
  }
  const isTrue = (value: unknown) => value === 'true' || value === true;
  const isFalse = (value: unknown) => value === 'false' || value === false;
  return {
    createVisualization: isTrue(params.get('create_vis')),
    typeGuessing: !isFalse(params.get('type_guessing')),
    quotedFieldsGuessing: !isFalse(params.get('quoted_fields_guessing')),
    contentGuessing: isTrue(params.get('content_guessing')),
    privacy: parsePrivacy(params.get('privacy')),
    collisionStrategy: parseCollisionStrategy(params.get('collision_strategy')),
    append: params.get('append') === 'true',
    tableName: presentString(params.get('table_name')),
    fromQuery: presentString(params.get('sql')) ?? presentString(params.get('table_copy')),
    userDefinedLimits: JSON.stringify(userDefinedLimits),
  };
}

function parsePrivacy(value: unknown): ImportOptions['privacy'] {
  if (!isPresent(value)) return null;
  const text = String(value);
  const privacy = text.toLowerCase();
  if (privacy === 'public' || privacy === 'private' || privacy === 'link') return privacy;
  throw new ImportRequestError(
    `Unknown value '${text}' for 'privacy'. Allowed values are: private, public and link`,
  );
}

/** The DataImport model validates this on save; Sequel words the failure `<column> <message>`. */
function parseCollisionStrategy(value: unknown): ImportOptions['collisionStrategy'] {
  if (value === undefined || value === null) return null;
  if (value === 'skip' || value === 'overwrite') return value;
  throw new ImportRequestError('collision_strategy Invalid collision strategy');
}

function presentString(value: unknown): string | null {
  return typeof value === 'string' && isPresent(value) ? value : null;
}
