// The importer's error catalogue (`IMPORTER_ERROR_CODES`): what `get_error_text` shows for an `error_code`.

export interface ErrorText {
  title: string;
  what_about: string;
  source: 'cartodb' | 'user' | 'external';
}

type Source = 'C' | 'U' | 'E';

/** Titles and sources as the server has them; explanations are short paraphrases. 1010 is deliberately absent. */
const CODES: Record<number, [title: string, source: Source, whatAbout?: string]> = {
  1: ['Install error', 'C'],
  1000: ['File I/O error', 'C'],
  1001: [
    'Download error',
    'U',
    'The file could not be downloaded from the given URL. Check that it is reachable.',
  ],
  1002: [
    'Unsupported/Unrecognized file type',
    'U',
    'The file type is not supported, or the archive does not hold a layout the importer recognizes.',
  ],
  1003: [
    'Decompression error',
    'U',
    'The compressed file could not be unpacked. It may be corrupt or not an archive.',
  ],
  1004: ['XLS/XLSX Error', 'U'],
  1005: ['Empty file', 'U', 'The file (or a dataset inside it) has no data.'],
  1006: ['Invalid SHP file', 'U'],
  1007: ['Too many nodes', 'U'],
  1008: ['GDrive access forbidden', 'U'],
  1009: ['Twitter Server Error', 'E'],
  1011: ['Error retrieving data from datasource', 'U'],
  1012: ['Error connecting to datasource', 'E'],
  1013: ['Invalid ArcGIS version', 'U'],
  1014: ['Invalid name', 'U'],
  1015: ['No results', 'U'],
  1016: ['Dropbox permission revoked', 'U'],
  1017: ['GDrive file was deleted', 'U'],
  1018: ['File is password protected', 'U', 'The archive is encrypted; upload it without a password.'],
  1019: ['Too Many Layers', 'U'],
  1020: ['Download timeout', 'U'],
  1021: ['Box permission revoked', 'U'],
  1022: [
    'All tables were skipped',
    'U',
    'Every table already existed and collision_strategy=skip kept the existing ones.',
  ],
  1023: ['ArcGIS server misconfiguration', 'U'],
  1100: ['Download file not found', 'U', 'The URL answered 404: there is no file there.'],
  1101: ['Forbidden file URL', 'U', 'The URL answered 401: the file needs credentials.'],
  1102: ['Unknown server URL', 'U', 'The host of the URL could not be resolved.'],
  1103: ['Partial file error', 'U', 'The download ended before the announced length was received.'],
  1500: ['Connector error', 'U'],
  1501: ['Connectors disabled', 'U', 'Connectors are not available on this account.'],
  1502: ['Connector invalid parameters', 'U'],
  2001: ['Unable to load data', 'U'],
  2002: ['Encoding detection error', 'U'],
  2003: ['Malformed CSV', 'U'],
  2004: ['Too many columns', 'U'],
  2005: ['Duplicated column', 'U'],
  2006: ['Encoding error', 'U'],
  2007: ['Encoding error', 'U'],
  2008: ['Malformed XLS', 'U'],
  2009: ['KML without style Id', 'U'],
  2010: ['Incompatible CARTO table', 'U'],
  2011: ['Invalid cartodb_id column', 'U'],
  2012: ['Incompatible schemas', 'U'],
  2013: ['Cannot overwrite table', 'U'],
  2014: ['Invalid geometries', 'U'],
  3007: ['JSON may not be valid GeoJSON', 'U'],
  3008: ['Unknown SRID', 'U'],
  3009: ['SHP Normalization error', 'U'],
  3101: ['Missing projection (.prj) file', 'U'],
  3201: ['Geometry Collection not supported', 'U'],
  3202: ['Empty KML', 'U'],
  6666: ['Dataset too big', 'U'],
  6667: ['Import timed out', 'C'],
  6668: ['Too many table rows', 'U'],
  6669: ['Too many concurrent imports', 'U'],
  6670: ['Too many named map templates', 'U'],
  6671: ['Stuck import job', 'C'],
  8001: ['Over account storage limit, please upgrade', 'U'],
  8002: [
    'You have reached the limit of datasets for your plan. Upgrade your account to get unlimited datasets',
    'U',
  ],
  8003: [
    'Error creating table from SQL query',
    'U',
    'The emulator has no database to run the query against.',
  ],
  8004: ['Merge with unmatching column types', 'U'],
  8005: ['Max layers per map reached', 'U'],
  8006: ['Not enough Twitter credits', 'U'],
  8007: ['Over account maps limit, please upgrade', 'U'],
  8008: ['Over account datasets limit or publication is disabled in your account', 'U'],
  99999: ['Unknown', 'C', 'The import failed for a reason the importer does not classify.'],
};

const SOURCES: Record<Source, ErrorText['source']> = { C: 'cartodb', U: 'user', E: 'external' };

/** `get_error_text`: null without a code, and null for a code the table lacks (1010 "Not a file"). */
export function errorText(code: number | null): ErrorText | null {
  if (code === null) return null;
  const entry = CODES[code];
  if (!entry) return null;
  const [title, source, whatAbout] = entry;
  return { title, what_about: whatAbout ?? title, source: SOURCES[source] };
}
