import type { EngineProperties } from './backend.js'

/** The enigma schema structs the face hands out (QLIK-PROTOCOLS §0.4: exact struct names). */
export type EngineStruct =
  | 'Global'
  | 'Doc'
  | 'GenericObject'
  | 'GenericDimension'
  | 'GenericMeasure'
  | 'GenericBookmark'
  | 'GenericVariable'
  | 'Field'

/** What a handle points at. Data is looked up in the backend on every call, so it stays live. */
export type HandleTarget =
  | { struct: 'Global' }
  | { struct: 'Doc'; appId: string }
  | { struct: 'GenericObject'; appId: string; id: string; genericType: string; session?: EngineProperties }
  | {
      struct: 'GenericDimension' | 'GenericMeasure' | 'GenericBookmark' | 'GenericVariable'
      appId: string
      id: string
      genericType: string
    }
  | { struct: 'Field'; appId: string; name: string }

/** The object reference a method returns as `qReturn` (QLIK-PROTOCOLS §2.3.2). */
export interface ObjectRef {
  qType: EngineStruct
  qHandle: number
  qGenericType?: string
  qGenericId: string
}

export const GLOBAL_HANDLE = -1

/**
 * The handle table of one socket. QLIK-PROTOCOLS §2.6: Global is -1, the doc gets 1, later objects
 * 2, 3, …; a number is never reused within the socket, because enigma caches APIs by handle.
 * Opening the same object twice may return its existing handle, which enigma's cache expects.
 */
export class HandleTable {
  private next = 1
  private readonly targets = new Map<number, HandleTarget>([[GLOBAL_HANDLE, { struct: 'Global' }]])
  private readonly byKey = new Map<string, number>()

  get(handle: number): HandleTarget | undefined {
    return this.targets.get(handle)
  }

  /** The handle of an already-open object, or a fresh one. Session objects always get a fresh one. */
  open(target: Exclude<HandleTarget, { struct: 'Global' }>): number {
    const key = keyOf(target)
    const existing = key === undefined ? undefined : this.byKey.get(key)
    if (existing !== undefined) return existing
    const handle = this.next++
    this.targets.set(handle, target)
    if (key !== undefined) this.byKey.set(key, handle)
    return handle
  }

  release(handle: number): void {
    const target = this.targets.get(handle)
    if (target === undefined || target.struct === 'Global') return
    this.targets.delete(handle)
    const key = keyOf(target)
    if (key !== undefined && this.byKey.get(key) === handle) this.byKey.delete(key)
  }

  refOf(handle: number): ObjectRef | undefined {
    const target = this.targets.get(handle)
    if (target === undefined || target.struct === 'Global') return undefined
    if (target.struct === 'Doc') return { qType: 'Doc', qHandle: handle, qGenericId: target.appId }
    if (target.struct === 'Field') return { qType: 'Field', qHandle: handle, qGenericId: target.name }
    return { qType: target.struct, qHandle: handle, qGenericType: target.genericType, qGenericId: target.id }
  }
}

function keyOf(target: Exclude<HandleTarget, { struct: 'Global' }>): string | undefined {
  if (target.struct === 'Doc') return `Doc:${target.appId}`
  if (target.struct === 'Field') return `Field:${target.name}`
  if (target.struct === 'GenericObject' && target.session !== undefined) return undefined
  return `${target.struct}:${target.id}`
}
