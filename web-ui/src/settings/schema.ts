// Reads the JSON Schema that pydantic writes for the configuration and turns it into form fields.
// Only what the form needs: sections (top-level objects) holding fields of simple kinds; anything
// richer is edited as JSON so that a new setting never needs a new form.

import type { JsonSchema } from '../api/types'

export type FieldKind = 'boolean' | 'integer' | 'number' | 'enum' | 'string' | 'string-list' | 'secret' | 'json'

export interface FieldSpec {
  section: string
  name: string
  /** `section.name`, the form of `error.param` in the server's answers. */
  path: string
  kind: FieldKind
  title: string
  description: string
  nullable: boolean
  options: unknown[]
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  default?: unknown
}

export interface SectionSpec {
  name: string
  title: string
  description: string
  /** Whether a change applies without a restart; undefined when the schema does not say. */
  live?: boolean
  fields: FieldSpec[]
}

/** Follow `$ref` (to `#/$defs/...` or `#/definitions/...`) and single-entry `allOf` wrappers. */
export function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let current = schema
  for (let depth = 0; depth < 32; depth++) {
    if (current.$ref) {
      const target = lookup(current.$ref, root)
      const { $ref: _ref, ...rest } = current
      current = { ...target, ...rest }
    } else if (current.allOf && current.allOf.length === 1) {
      const { allOf, ...rest } = current
      current = { ...resolve(allOf[0], root), ...rest }
    } else {
      return current
    }
  }
  throw new Error('configuration schema: $ref cycle')
}

function lookup(ref: string, root: JsonSchema): JsonSchema {
  if (!ref.startsWith('#/')) throw new Error(`configuration schema: external $ref ${ref}`)
  let node: unknown = root
  for (const part of ref.slice(2).split('/')) {
    node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  if (!node || typeof node !== 'object') throw new Error(`configuration schema: ${ref} not found`)
  return node as JsonSchema
}

function isNull(s: JsonSchema): boolean {
  return s.type === 'null'
}

/** The schema with `null` taken out of `anyOf`/`oneOf`/`type` lists, and whether it was there. */
function withoutNull(schema: JsonSchema, root: JsonSchema): { inner: JsonSchema; nullable: boolean } {
  const s = resolve(schema, root)
  const union = s.anyOf ?? s.oneOf
  if (union) {
    const others = union.filter((u) => !isNull(resolve(u, root)))
    if (others.length === 1 && others.length < union.length) {
      const { anyOf: _a, oneOf: _o, ...rest } = s
      return { inner: { ...resolve(others[0], root), ...rest }, nullable: true }
    }
    return { inner: s, nullable: false }
  }
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t) => t !== 'null')
    return { inner: { ...s, type: types.length === 1 ? types[0] : types }, nullable: types.length < s.type.length }
  }
  return { inner: s, nullable: false }
}

function isSecret(s: JsonSchema): boolean {
  return s.writeOnly === true || s.format === 'password'
}

export function fieldOf(section: string, name: string, schema: JsonSchema, root: JsonSchema): FieldSpec {
  const { inner, nullable } = withoutNull(schema, root)
  const items = inner.items ? resolve(inner.items, root) : undefined
  let kind: FieldKind
  if (isSecret(inner) || (items && isSecret(items))) kind = 'secret'
  else if (inner.enum) kind = 'enum'
  else if (inner.type === 'boolean' && !nullable) kind = 'boolean'
  else if (inner.type === 'integer') kind = 'integer'
  else if (inner.type === 'number') kind = 'number'
  else if (inner.type === 'string') kind = 'string'
  else if (inner.type === 'array' && items?.type === 'string' && !items.enum) kind = 'string-list'
  else kind = 'json'
  return {
    section,
    name,
    path: `${section}.${name}`,
    kind,
    title: inner.title ?? name,
    description: inner.description ?? '',
    nullable,
    options: inner.enum ?? [],
    minimum: inner.minimum,
    maximum: inner.maximum,
    exclusiveMinimum: inner.exclusiveMinimum,
    exclusiveMaximum: inner.exclusiveMaximum,
    default: inner.default,
  }
}

/** The configuration's sections: every top-level property whose schema is an object with properties. */
export function sectionsOf(root: JsonSchema): SectionSpec[] {
  const top = resolve(root, root)
  const live = root['x-live-sections']
  return Object.entries(top.properties ?? {}).flatMap(([name, raw]) => {
    const s = resolve(raw, root)
    if (!s.properties) return []
    return [
      {
        name,
        title: s.title && !/Settings$/.test(s.title) ? s.title : titleCase(name),
        description: s.description ?? '',
        live: live ? live.includes(name) : undefined,
        fields: Object.entries(s.properties).map(([field, fs]) => fieldOf(name, field, fs, root)),
      },
    ]
  })
}

function titleCase(name: string): string {
  return name.replace(/_/g, ' ').replace(/^\w/, (c) => c.toUpperCase())
}

export type Draft = string | boolean

/** The text (or checkbox state) a field's input shows for a configuration value. */
export function toDraft(field: FieldSpec, value: unknown): Draft {
  switch (field.kind) {
    case 'boolean':
      return value === true
    case 'string-list':
      return Array.isArray(value) ? value.join('\n') : ''
    case 'json':
      return value === undefined ? '' : JSON.stringify(value, null, 2)
    case 'secret':
      return Array.isArray(value) ? value.join(', ') : value == null ? '' : String(value)
    default:
      return value == null ? '' : String(value)
  }
}

export type Parsed = { ok: true; value: unknown } | { ok: false; error: string }

/** The configuration value a field's input stands for, or why it stands for none. */
export function parseDraft(field: FieldSpec, draft: Draft): Parsed {
  if (typeof draft === 'boolean') return { ok: true, value: draft }
  const text = draft.trim()
  if (text === '' && field.kind !== 'string-list' && field.kind !== 'string') {
    return field.nullable ? { ok: true, value: null } : { ok: false, error: 'A value is required.' }
  }
  switch (field.kind) {
    case 'integer': {
      const n = Number(text)
      return Number.isInteger(n) ? { ok: true, value: n } : { ok: false, error: 'Must be a whole number.' }
    }
    case 'number': {
      const n = Number(text)
      return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, error: 'Must be a number.' }
    }
    case 'enum': {
      const match = field.options.find((o) => String(o) === text)
      return match === undefined ? { ok: false, error: 'Pick one of the choices.' } : { ok: true, value: match }
    }
    case 'string':
      return { ok: true, value: text === '' && field.nullable ? null : draft }
    case 'string-list':
      return {
        ok: true,
        value: draft
          .split('\n')
          .map((line) => line.trim())
          .filter((line) => line !== ''),
      }
    case 'json':
      try {
        return { ok: true, value: JSON.parse(text) }
      } catch {
        return { ok: false, error: 'Not valid JSON.' }
      }
    default:
      return { ok: false, error: 'This setting is edited in the configuration file.' }
  }
}

/** The field key (`section.name`) a server `error.param` points at, if any. */
export function fieldForParam(param: string | null, sections: SectionSpec[]): string | null {
  if (!param) return null
  const parts = param.split(/[.[\]]+/).filter(Boolean)
  if (parts[0] === 'body') parts.shift()
  const [section, name] = parts
  const found = sections.find((s) => s.name === section)?.fields.find((f) => f.name === name)
  return found ? found.path : null
}

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}
