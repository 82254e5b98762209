import type { SimModel } from '../../model/store.js'
import type { SimCustomPropertyDefinition, SimNode, SimStream, SimTag, SimUser } from '../../model/types.js'
import { auditFields, customPropertiesOf, tagsOf, userCondensed, type Json } from './common.js'

/** Tag (full), §1.10 e. Condensed is `{id, name, privileges}`. */
export function tagFull(tag: SimTag): Json {
  return { id: tag.id, ...auditFields(tag), name: tag.name, privileges: null, schemaPath: 'Tag' }
}

export function customPropertyDefinitionCondensed(def: SimCustomPropertyDefinition): Json {
  return { id: def.id, name: def.name, valueType: def.valueType, choiceValues: [...def.choiceValues], privileges: null }
}

/** CustomPropertyDefinition (full), §1.10 f. */
export function customPropertyDefinitionFull(def: SimCustomPropertyDefinition): Json {
  return {
    id: def.id,
    ...auditFields(def),
    name: def.name,
    valueType: def.valueType,
    choiceValues: [...def.choiceValues],
    objectTypes: [...def.objectTypes],
    description: def.description,
    privileges: null,
    schemaPath: 'CustomPropertyDefinition',
  }
}

/** User (full), §1.10 g. Condensed is the `owner` shape. */
export function userFull(model: SimModel, user: SimUser): Json {
  return {
    id: user.id,
    ...auditFields(user),
    customProperties: customPropertiesOf(model, user.customProperties),
    userId: user.userId,
    userDirectory: user.userDirectory,
    userDirectoryConnectorName: user.userDirectoryConnectorName,
    name: user.name,
    roles: [...user.roles],
    attributes: user.attributes.map((a) => ({
      // §1.10 g: attributes carry created/modified dates but no modifiedByUserName.
      id: a.id,
      createdDate: a.createdDate,
      modifiedDate: a.modifiedDate,
      attributeType: a.attributeType,
      attributeValue: a.attributeValue,
      externalId: a.externalId,
      schemaPath: 'UserAttribute',
    })),
    inactive: user.inactive,
    removedExternally: user.removedExternally,
    blacklisted: user.blacklisted,
    deleteProhibited: user.deleteProhibited,
    tags: tagsOf(model, user.tagIds),
    privileges: null,
    schemaPath: 'User',
  }
}

export { userCondensed }

export function streamFull(model: SimModel, stream: SimStream): Json {
  const owner = stream.ownerId ? model.users.get(stream.ownerId) : undefined
  return {
    id: stream.id,
    ...auditFields(stream),
    customProperties: customPropertiesOf(model, stream.customProperties),
    owner: owner ? userCondensed(owner) : null,
    name: stream.name,
    tags: tagsOf(model, stream.tagIds),
    privileges: null,
    schemaPath: 'Stream',
  }
}

/** ServerNodeConfiguration, reduced to what a client may want: name and host name. */
export function nodeCondensed(node: SimNode): Json {
  return { id: node.id, name: node.name, hostName: node.hostName, privileges: null }
}

export function nodeFull(node: SimNode): Json {
  return {
    id: node.id,
    ...auditFields(node),
    name: node.name,
    hostName: node.hostName,
    isCentral: node.isCentral,
    privileges: null,
    schemaPath: 'ServerNodeConfiguration',
  }
}
