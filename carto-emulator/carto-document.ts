// Builds the `<uuid>.carto.json` visualization document (export format 2.1.4) for a map and its tables.
import { deterministicUuid } from './ids';

export const CARTO_EXPORT_VERSION = '2.1.4';

export interface CartoDocumentInput {
  id: string;
  name: string;
  description: string;
  /** Upper-case as the API reports it; the document stores it lower-case. */
  privacy: string;
  owner: string;
  tableNames: string[];
  createdAt: string;
  updatedAt: string;
}

/** Key order follows CARTO's exporter so the document reads like a real one. */
export function buildCartoDocument(input: CartoDocumentInput): Buffer {
  const layerId = (position: number) => deterministicUuid('layer', input.id, String(position));
  const dataLayers = input.tableNames.map((table, position) => ({
    options: {
      id: layerId(position + 1),
      layer_name: table,
      table_name: table,
      user_name: input.owner,
      source: `a${position}`,
      query: '',
      cartocss: `#layer { marker-width: 7; marker-fill: #EE4D5A; marker-line-color: #FFFFFF; }`,
      cartocss_version: '2.1.1',
      interactivity: 'cartodb_id',
      visible: true,
      type: 'CartoDB',
    },
    kind: 'carto',
    infowindow: {
      fields: [],
      template_name: 'table/views/infowindow_light',
      template: '',
      alternative_names: {},
    },
    tooltip: { fields: [], template_name: 'tooltip_light', template: '', alternative_names: {} },
    widgets:
      position === 0
        ? [
            {
              options: { column: 'cartodb_id', aggregation: 'count', sync_on_data_change: true },
              type: 'formula',
              title: `${table} count`,
              source_id: `a${position}`,
              order: 0,
              style: { widget_style: { definition: { color: { fixed: '#9DE0AD', opacity: 1 } } } },
            },
          ]
        : [],
    legends: [
      {
        definition: { color: '#EE4D5A' },
        post_html: '',
        pre_html: '',
        title: table,
        type: 'bubble',
      },
    ],
  }));
  const basemap = {
    options: {
      id: layerId(0),
      name: 'Voyager',
      className: 'voyager',
      urlTemplate: 'https://{s}.basemaps.cartocdn.com/rastertiles/voyager_nolabels/{z}/{x}/{y}.png',
      subdomains: 'abcd',
      category: 'CARTO',
      type: 'Tiled',
      order: 0,
    },
    kind: 'tiled',
    infowindow: null,
    tooltip: null,
    widgets: [],
    legends: [],
  };
  const document = {
    version: CARTO_EXPORT_VERSION,
    visualization: {
      id: input.id,
      name: input.name,
      description: input.description,
      version: 3,
      type: 'derived',
      tags: [],
      privacy: input.privacy.toLowerCase(),
      source: '',
      license: '',
      title: '',
      kind: 'geom',
      attributions: '',
      bbox: null,
      display_name: null,
      map: {
        provider: 'leaflet',
        bounding_box_sw: '[-85.0511, -179]',
        bounding_box_ne: '[85.0511, 179]',
        center: '[40.4168, -3.7038]',
        zoom: 4,
        view_bounds_sw: '[35.1, -10.5]',
        view_bounds_ne: '[44.6, 4.6]',
        scrollwheel: false,
        legends: true,
        options: { dashboard_menu: true, layer_selector: false, legends: true, scrollwheel: false },
      },
      layers: [basemap, ...dataLayers],
      overlays: [
        { options: { display: true, x: 20, y: 20 }, type: 'zoom', template: '' },
        { options: { display: true }, type: 'search', template: '' },
      ],
      analyses: input.tableNames.map((table, position) => ({
        analysis_definition: {
          id: `a${position}`,
          type: 'source',
          params: { query: `SELECT * FROM ${table}` },
          options: { table_name: table },
        },
      })),
      user: { username: input.owner },
      state: { json: { map: { zoom: 4 } } },
      permission: { access_control_list: [] },
      synchronization: null,
      user_table: null,
      uses_vizjson2: false,
      mapcap: null,
      external_source: null,
      created_at: input.createdAt,
      updated_at: input.updatedAt,
      locked: false,
    },
  };
  return Buffer.from(JSON.stringify(document));
}
