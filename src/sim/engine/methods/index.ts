import type { MethodTable } from '../context.js'
import { docDataMethods, fieldMethods } from './doc-data.js'
import { docObjectMethods } from './doc-objects.js'
import { docReadMethods } from './doc-read.js'
import { docReloadMethods } from './doc-reload.js'
import { genericObjectMethods } from './generic-object.js'
import { globalMethods } from './global.js'
import { bookmarkMethods, dimensionMethods, measureMethods, variableMethods } from './library.js'

/** The whole method table, by enigma struct name (QLIK-PROTOCOLS §4.4). Anything else is -32601. */
export const ENGINE_METHODS: MethodTable = {
  Global: globalMethods,
  Doc: { ...docReadMethods, ...docReloadMethods, ...docObjectMethods, ...docDataMethods },
  GenericObject: genericObjectMethods,
  GenericDimension: dimensionMethods,
  GenericMeasure: measureMethods,
  GenericBookmark: bookmarkMethods,
  GenericVariable: variableMethods,
  Field: fieldMethods,
}
