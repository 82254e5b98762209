import { EMPTY_GUID } from '../../ids.js'
import type { SimModel } from '../../model/store.js'
import type { SimApp } from '../../model/types.js'
import { auditFields, customPropertiesOf, streamCondensed, tagsOf, userCondensed, type Json } from './common.js'

function streamOf(model: SimModel, app: SimApp): Json | null {
  const stream = app.streamId ? model.streams.get(app.streamId) : undefined
  return stream ? streamCondensed(stream) : null
}

/** AppCondensed: the `app` member of a reload task (§1.10 a) and `GET /qrs/app` elements. */
export function appCondensed(model: SimModel, app: SimApp): Json {
  return {
    id: app.id,
    name: app.name,
    appId: '',
    publishTime: app.publishTime,
    published: app.streamId !== null,
    stream: streamOf(model, app),
    savedInProductVersion: app.savedInProductVersion,
    migrationHash: app.migrationHash,
    availabilityStatus: app.availabilityStatus,
    privileges: null,
  }
}

/** App (full): `GET /qrs/app/{id}` and `app/full` elements, field set of §1.10 d. */
export function appFull(model: SimModel, app: SimApp): Json {
  const owner = model.users.get(app.ownerId)
  return {
    id: app.id,
    ...auditFields(app),
    customProperties: customPropertiesOf(model, app.customProperties),
    owner: owner ? userCondensed(owner) : null,
    name: app.name,
    appId: '',
    sourceAppId: EMPTY_GUID,
    targetAppId: EMPTY_GUID,
    publishTime: app.publishTime,
    published: app.streamId !== null,
    tags: tagsOf(model, app.tagIds),
    description: app.description,
    stream: streamOf(model, app),
    fileSize: app.fileSize,
    lastReloadTime: app.lastReloadTime,
    thumbnail: app.thumbnail,
    savedInProductVersion: app.savedInProductVersion,
    migrationHash: app.migrationHash,
    dynamicColor: app.dynamicColor,
    availabilityStatus: app.availabilityStatus,
    privileges: null,
    schemaPath: 'App',
  }
}
