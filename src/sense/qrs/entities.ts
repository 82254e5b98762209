import { and, appFilter, assertGuid, eqString, type AppQuery } from './filter.js'
import { getEntity, getList } from './read.js'
import type { QrsTransport } from './transport.js'
import type { App, CustomPropertyDefinition, QrsAbout, Tag, User } from './types.js'

/** Reads of apps, users, tags and custom property definitions (QLIK-PROTOCOLS §1.6 Q7-Q8, Q15-Q17). */
export interface QrsEntityOperations {
  /** `GET /qrs/about`: the cheapest authenticated call, used as a health check. */
  about(): Promise<QrsAbout>
  /** Q16 `app/{id}`. */
  getApp(id: string): Promise<App>
  /** Q15 `app/full?filter=…`; no criteria lists every app. */
  findApps(query: AppQuery): Promise<App[]>
  /** Q17 `user/{id}`. */
  getUser(id: string): Promise<User>
  /** The user's first `Email` attribute (type compared case-insensitively, as Butler does), or null. */
  getUserEmail(id: string): Promise<string | null>
  /** `tag/full`, optionally only the tag with this name. */
  listTags(name?: string): Promise<Tag[]>
  /** Q7 `custompropertydefinition/full?filter=objectTypes eq '<type>'`; no type lists all. */
  listCustomPropertyDefinitions(objectType?: string, name?: string): Promise<CustomPropertyDefinition[]>
}

export function entityOperations(qrs: QrsTransport): QrsEntityOperations {
  async function getUser(id: string): Promise<User> {
    return getEntity<User>(qrs, `user/${assertGuid(id)}`)
  }

  return {
    about: async () => getEntity<QrsAbout>(qrs, 'about'),
    getApp: async (id) => getEntity<App>(qrs, `app/${assertGuid(id)}`),
    findApps: async (query) => getList<App>(qrs, 'app/full', appFilter(query)),
    getUser,
    getUserEmail: async (id) => {
      const user = await getUser(id)
      const email = (user.attributes ?? []).find((a) => a.attributeType?.toLowerCase() === 'email')
      return email?.attributeValue ?? null
    },
    listTags: async (name) => getList<Tag>(qrs, 'tag/full', name === undefined ? undefined : eqString('name', name)),
    listCustomPropertyDefinitions: async (objectType, name) => {
      const conditions: string[] = []
      if (objectType !== undefined) conditions.push(eqString('objectTypes', objectType))
      if (name !== undefined) conditions.push(eqString('name', name))
      return getList<CustomPropertyDefinition>(
        qrs,
        'custompropertydefinition/full',
        conditions.length === 0 ? undefined : and(conditions),
      )
    },
  }
}
