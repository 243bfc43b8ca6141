// Who may see a visualization or read a table: CARTO's privacy rules, without sharing or organizations.
import type { Account, UserTable, Visualization } from './catalog';

/**
 * `is_viewable_by_user?`: owners see everything; public and link-shared maps are open to anyone (the emulator's maps
 * are all published); private and password-protected maps are closed to everyone else.
 */
export function canView(visualization: Visualization, viewer: Account | undefined): boolean {
  if (viewer && viewer.name === visualization.owner) return true;
  return visualization.privacy === 'PUBLIC' || visualization.privacy === 'LINK';
}

/** `related_tables_readable_by`: an anonymous or foreign export only carries public (or link) data. */
export function canRead(table: UserTable, viewer: Account | undefined): boolean {
  if (viewer && viewer.name === table.owner) return true;
  return table.privacy === 'PUBLIC' || table.privacy === 'LINK';
}

/** Owners get the private presentation of a visualization, everyone else the public subset. */
export function isOwner(visualization: Visualization, viewer: Account | undefined): boolean {
  return viewer !== undefined && viewer.name === visualization.owner;
}
