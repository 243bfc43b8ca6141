// HTTP handlers of GET /api/v1/viz (paged listing) and /api/v1/viz/:id_or_name, enough for a backup tool.
import type { Account, Catalog, Visualization } from './catalog';
import type { RouteBinding } from './dispatch';
import { sendCartoError, sendJson, sendJsonp } from './http-responses';
import { isUuid } from './ids';
import { isPresent, rubyToInt, stringParam, type Params } from './request-params';
import { inspectSymbols } from './ruby-inspect';
import { canView } from './visibility';
import { DEFAULT_PRESENTER_OPTIONS, presentVisualization, type PresenterOptions } from './viz-presenter';

const VALID_ORDERS = [
  'name',
  'updated_at',
  'size',
  'mapviews',
  'favorited',
  'estimated_row_count',
  'privacy',
  'dependent_visualizations',
] as const;
/** Orders computed outside the database cannot be combined with others. */
const OFF_DATABASE_ORDERS = ['size', 'mapviews', 'likes', 'estimated_row_count'];
const COMBINABLE_ORDERS = VALID_ORDERS.filter((order) => !OFF_DATABASE_ORDERS.includes(order));

class ParamError extends Error {}

export function vizRoutes(options: {
  catalog: Catalog;
  origin: () => string;
  /** Lets imports that completed meanwhile register their maps before a listing. */
  beforeRead: () => void;
}): Record<'viz.index' | 'viz.show', RouteBinding> {
  const { catalog, origin, beforeRead } = options;

  return {
    'viz.index': {
      body: 'params',
      async handle(context) {
        beforeRead();
        const { params, viewer } = context;
        const owner = context.account as Account;
        let page: number;
        let perPage: number;
        let orders: string[];
        let direction: 'asc' | 'desc';
        const types = requestedTypes(params);
        try {
          page = positive(params, 'page', 1);
          perPage = positive(params, 'per_page', 20);
          orders = orderParam(params);
          direction = directionParam(params);
          if (params.get('bbox') !== undefined && (types.length > 1 || !types.includes('table'))) {
            throw new ParamError('Filter by bbox is only supported for type table');
          }
        } catch (error) {
          if (!(error instanceof ParamError)) throw error;
          sendJsonp(context.res, 400, { error: error.message }, params.get('callback'));
          return;
        }
        const matching = catalog
          .visualizations(owner.name)
          .filter((visualization) => types.includes(visualization.type))
          .filter((visualization) =>
            viewer ? ownFilters(visualization, params) : visualization.privacy === 'PUBLIC',
          )
          .filter(() => sharedFilters(params, viewer))
          .filter((visualization) => nameFilter(visualization, params));
        const sorted = sortVisualizations(matching, orders, direction, catalog);
        const presenterOptions = presenterOptionsFrom(params);
        const visualizations = sorted
          .slice((page - 1) * perPage, page * perPage)
          .map((visualization) =>
            presentVisualization(visualization, viewer, catalog, origin(), presenterOptions),
          );
        const body: Record<string, unknown> = { visualizations, total_entries: matching.length };
        if (viewer && String(params.get('load_totals')) !== 'false') {
          body.total_user_entries = catalog
            .visualizations(viewer.name)
            .filter((v) => types.includes(v.type)).length;
          body.total_locked = 0;
          body.total_likes = 0;
          body.total_shared = 0;
        }
        sendJsonp(context.res, 200, body, params.get('callback'));
      },
    },

    'viz.show': {
      body: 'params',
      async handle(context) {
        beforeRead();
        const { params, viewer } = context;
        const owner = context.account as Account;
        // `schema.name` names another user's table-visualization; the id part is the last one.
        const raw = context.route.params.id;
        const [schema, idOrName] = raw.includes('.')
          ? [raw.slice(0, raw.lastIndexOf('.')), raw.slice(raw.lastIndexOf('.') + 1)]
          : [undefined, raw];
        const visualization = isUuid(idOrName)
          ? catalog.visualization(idOrName)
          : catalog.visualizations(schema ?? owner.name).find((candidate) => candidate.name === idOrName);
        if (!visualization) {
          sendCartoError(context.res, 404, 'Visualization does not exist');
          return;
        }
        if (!canView(visualization, viewer)) {
          if (visualization.privacy === 'PASSWORD') {
            sendJson(context.res, 403, {
              errors: 'Visualization not viewable',
              errors_cause: 'privacy_password',
              visualization: { privacy: 'password', user: { google_maps_query_string: null } },
            });
          } else {
            sendCartoError(context.res, 403, 'Visualization not viewable');
          }
          return;
        }
        // The URL must name the owner, or be the viewer's own URL (shared maps): no crossing of users.
        if (owner.name !== visualization.owner && viewer?.name !== owner.name) {
          sendCartoError(context.res, 404, 'Visualization of that user does not exist');
          return;
        }
        const presenterOptions: PresenterOptions = {
          ...DEFAULT_PRESENTER_OPTIONS,
          showLiked: params.get('show_liked') === 'true',
          showPermission: params.get('show_permission') === 'true',
          showStats: params.get('show_stats') === 'true',
          showAuthTokens: params.get('show_auth_tokens') === 'true',
          withDependentVisualizations: rubyToInt(params.get('with_dependent_visualizations')),
        };
        sendJsonp(
          context.res,
          200,
          presentVisualization(visualization, viewer, catalog, origin(), presenterOptions),
          params.get('callback'),
        );
      },
    },
  };
}

/** `types` (comma list) wins over `type`; the default is `derived` (maps). */
function requestedTypes(params: Params): string[] {
  const types = (stringParam(params, 'types') ?? '').split(',').filter((type) => type !== '');
  if (types.length > 0) return types;
  const type = stringParam(params, 'type');
  return [isPresent(type) ? (type as string) : 'derived'];
}

/** `page_per_page_params`: `to_i` of the value (default when blank), which must be positive. */
function positive(params: Params, name: string, fallback: number): number {
  const raw = params.get(name);
  const value = isPresent(raw) ? rubyToInt(raw) : fallback;
  if (value <= 0) throw new ParamError(`Wrong '${name}' parameter value.`);
  return value;
}

function orderParam(params: Params): string[] {
  const raw = params.get('order');
  const order = isPresent(raw) ? String(raw) : 'updated_at';
  const values = order.split(',');
  if (values.length === 1) {
    if (!(VALID_ORDERS as readonly string[]).includes(order)) {
      throw new ParamError(
        `Wrong 'order' parameter value. Valid values are one of ${inspectSymbols(VALID_ORDERS)}`,
      );
    }
    return values;
  }
  if (values.some((value) => !(COMBINABLE_ORDERS as readonly string[]).includes(value))) {
    throw new ParamError(
      `Wrong 'order' parameter combination. Valid values to combine: ${inspectSymbols(COMBINABLE_ORDERS)}`,
    );
  }
  return values;
}

function directionParam(params: Params): 'asc' | 'desc' {
  const raw = params.get('order_direction');
  const direction = isPresent(raw) ? String(raw) : 'desc';
  // Both values are also "combinable", so the server accepts a list of them too; the first one decides here.
  if (!direction.split(',').every((value) => value === 'asc' || value === 'desc')) {
    throw new ParamError(
      `Wrong 'order_direction' parameter value. Valid values are one of ${inspectSymbols(['asc', 'desc'])}`,
    );
  }
  return direction.startsWith('asc') ? 'asc' : 'desc';
}

/** Filters that only apply to the authenticated owner: privacy, locked, tags, likes. */
function ownFilters(visualization: Visualization, params: Params): boolean {
  const privacy = stringParam(params, 'privacy');
  if (privacy && privacy.toLowerCase() !== visualization.privacy.toLowerCase()) return false;
  // Nothing is locked, tagged or liked in the emulator.
  if (params.get('locked') === 'true') return false;
  if (isPresent(params.get('tags'))) return false;
  if (params.get('only_liked') === 'true') return false;
  return true;
}

/** Nobody shares anything in the emulator: asking for only shared visualizations yields none. */
function sharedFilters(params: Params, viewer: Account | undefined): boolean {
  if (!viewer) return true;
  return params.get('only_shared') !== 'true' && params.get('shared') !== 'only';
}

function nameFilter(visualization: Visualization, params: Params): boolean {
  const q = stringParam(params, 'q');
  return !isPresent(q) || visualization.name.toLowerCase().includes((q as string).toLowerCase());
}

function sortVisualizations(
  visualizations: Visualization[],
  orders: string[],
  direction: 'asc' | 'desc',
  catalog: Catalog,
): Visualization[] {
  const sign = direction === 'asc' ? 1 : -1;
  const rows = (visualization: Visualization) =>
    visualization.tableIds.reduce((sum, id) => sum + (catalog.table(id)?.rowCount ?? 0), 0);
  const key = (visualization: Visualization, order: string): string | number => {
    switch (order) {
      case 'name':
        return visualization.name.toLowerCase();
      case 'privacy':
        return visualization.privacy;
      case 'size':
      case 'estimated_row_count':
        return rows(visualization);
      case 'dependent_visualizations':
        return visualization.type === 'table' ? catalog.dependentMaps(visualization.tableIds[0]).length : 0;
      case 'mapviews':
      case 'favorited':
        return 0;
      default:
        return visualization.updatedAt;
    }
  };
  return [...visualizations].sort((a, b) => {
    for (const order of orders) {
      const left = key(a, order);
      const right = key(b, order);
      if (left < right) return -sign;
      if (left > right) return sign;
    }
    return a.id.localeCompare(b.id);
  });
}

/** `presenter_options_from_hash`: any `<option>=false` turns that presenter option off; listings omit related tables. */
function presenterOptionsFrom(params: Params): PresenterOptions {
  const off = (name: string) => String(params.get(name)) === 'false';
  return {
    related: false,
    showStats: !off('show_stats'),
    showTable: !off('show_table'),
    showLiked: !off('show_liked'),
    showPermission: !off('show_permission'),
    showSynchronization: !off('show_synchronization'),
    showUsesBuilderFeatures: !off('show_uses_builder_features'),
    showTableSizeAndRowCount: !off('show_table_size_and_row_count'),
    showAuthTokens: !off('show_auth_tokens'),
    withDependentVisualizations: rubyToInt(params.get('with_dependent_visualizations')),
  };
}
