/** Fetching lists for commands: one page, or every page with --all; a note on stderr when more exist. */
import type {ModelSecurityClient, PageFetcher} from '../airs/client.js'

export interface PagingFlags { limit?: number; skip?: number; all?: boolean }

export async function fetchList<T>(client: ModelSecurityClient, fetch: PageFetcher<T>, flags: PagingFlags,
  note: (message: string) => void): Promise<T[]> {
  if (flags.all) {
    const items: T[] = []
    for await (const item of client.paginate(fetch, {skip: flags.skip ?? 0, limit: flags.limit ?? 100})) items.push(item)
    return items
  }
  const page = await fetch({skip: flags.skip, limit: flags.limit})
  const total = page.pagination.total_items
  const shownTo = (flags.skip ?? 0) + page.items.length
  if (typeof total === 'number' && total > shownTo) {
    note(`Showing ${page.items.length} of ${total} (from ${(flags.skip ?? 0) + 1}). Use --all for every item, or --skip ${shownTo} for the next page.`)
  }
  return page.items
}
