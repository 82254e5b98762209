import type { SimModel } from '../../model/store.js'
import type { Audit, SimCustomPropertyValue, SimStream, SimTag, SimUser } from '../../model/types.js'

/**
 * Building blocks shared by the QRS entity serialisers (QLIK-PROTOCOLS §1.10). `privileges` is always
 * null: the simulator does not implement `?privileges=true` (§1.5).
 */

export type Json = Record<string, unknown>

export function auditFields(a: Audit): Json {
  return { createdDate: a.createdDate, modifiedDate: a.modifiedDate, modifiedByUserName: a.modifiedByUserName }
}

/** §1.10 e: tags inside other entities are `{id, name, privileges}`. */
export function tagCondensed(tag: SimTag): Json {
  return { id: tag.id, name: tag.name, privileges: null }
}

export function tagsOf(model: SimModel, tagIds: string[]): Json[] {
  return tagIds.flatMap((id) => {
    const tag = model.tags.get(id)
    return tag ? [tagCondensed(tag)] : []
  })
}

/** §1.10 a: a CustomPropertyValue with its condensed definition. */
export function customPropertiesOf(model: SimModel, values: SimCustomPropertyValue[]): Json[] {
  return values.flatMap((v) => {
    const def = model.customPropertyDefinitions.get(v.definitionId)
    if (!def) return []
    return [
      {
        id: v.id,
        ...auditFields(v),
        value: v.value,
        definition: {
          id: def.id,
          name: def.name,
          valueType: def.valueType,
          choiceValues: [...def.choiceValues],
          privileges: null,
        },
        schemaPath: 'CustomPropertyValue',
      },
    ]
  })
}

/** §1.10 d `owner`: UserCondensed. */
export function userCondensed(user: SimUser): Json {
  return {
    id: user.id,
    userId: user.userId,
    userDirectory: user.userDirectory,
    userDirectoryConnectorName: user.userDirectoryConnectorName,
    name: user.name,
    privileges: null,
  }
}

/** §1.10 d: a published app's `stream` is `{id, name, privileges}`. */
export function streamCondensed(stream: SimStream): Json {
  return { id: stream.id, name: stream.name, privileges: null }
}
