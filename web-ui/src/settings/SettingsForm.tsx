import { useMemo, useState } from 'react'
import { ApiError } from '../api/client'
import type { Config, JsonSchema } from '../api/types'
import {
  fieldForParam,
  parseDraft,
  sameValue,
  sectionsOf,
  toDraft,
  type Draft,
  type FieldSpec,
  type SectionSpec,
} from './schema'

interface Props {
  schema: JsonSchema
  config: Config
  /** Send one section's changed values; answers the whole new configuration. */
  save: (section: string, values: Record<string, unknown>) => Promise<Config>
}

type Drafts = Record<string, Record<string, Draft>>

function draftsOf(sections: SectionSpec[], config: Config, only?: string, old?: Drafts): Drafts {
  const next: Drafts = { ...old }
  for (const s of sections) {
    if (only && s.name !== only) continue
    next[s.name] = Object.fromEntries(s.fields.map((f) => [f.name, toDraft(f, config[s.name]?.[f.name])]))
  }
  return next
}

/** A form generated from the configuration's JSON Schema: one fieldset and one Save per section. */
export function SettingsForm({ schema, config: initial, save }: Props) {
  const sections = useMemo(() => sectionsOf(schema), [schema])
  const [config, setConfig] = useState(initial)
  const [drafts, setDrafts] = useState<Drafts>(() => draftsOf(sections, initial))
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [notes, setNotes] = useState<Record<string, { text: string; error?: boolean }>>({})
  const [saving, setSaving] = useState<string | null>(null)

  const edit = (field: FieldSpec, value: Draft) => {
    setDrafts((d) => ({ ...d, [field.section]: { ...d[field.section], [field.name]: value } }))
    setErrors(({ [field.path]: _gone, ...rest }) => rest)
  }

  const submit = async (section: SectionSpec) => {
    const changes: Record<string, unknown> = {}
    const local: Record<string, string> = {}
    for (const field of section.fields) {
      if (field.kind === 'secret') continue
      const parsed = parseDraft(field, drafts[section.name][field.name])
      if (!parsed.ok) local[field.path] = parsed.error
      else if (!sameValue(parsed.value, config[section.name]?.[field.name])) changes[field.name] = parsed.value
    }
    const others = Object.fromEntries(Object.entries(errors).filter(([k]) => !k.startsWith(`${section.name}.`)))
    if (Object.keys(local).length > 0) {
      setErrors({ ...others, ...local })
      setNotes((n) => ({ ...n, [section.name]: { text: 'Fix the marked fields first.', error: true } }))
      return
    }
    if (Object.keys(changes).length === 0) {
      setNotes((n) => ({ ...n, [section.name]: { text: 'Nothing changed.' } }))
      return
    }
    setSaving(section.name)
    try {
      const next = await save(section.name, changes)
      setConfig(next)
      setDrafts((d) => draftsOf(sections, next, section.name, d))
      setErrors(others)
      setNotes((n) => ({ ...n, [section.name]: { text: `Saved ${Object.keys(changes).join(', ')}.` } }))
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e)
      const target = e instanceof ApiError ? fieldForParam(e.param, sections) : null
      if (target) setErrors({ ...others, [target]: message })
      setNotes((n) => ({
        ...n,
        [section.name]: { text: target ? 'The server refused a value: see the marked field.' : message, error: true },
      }))
    } finally {
      setSaving(null)
    }
  }

  return (
    <div className="settings">
      {sections.map((section) => (
        <form
          key={section.name}
          noValidate
          aria-label={`${section.title} settings`}
          onSubmit={(e) => {
            e.preventDefault()
            void submit(section)
          }}
        >
          <fieldset>
            <legend>{section.title}</legend>
            <p className="muted">
              {section.description}
              {section.live === true && ' Changes apply at once.'}
              {section.live === false && ' Changes apply at the next start of the server.'}
            </p>
            {section.fields.map((field) => (
              <Field
                key={field.name}
                field={field}
                draft={drafts[section.name]?.[field.name] ?? ''}
                error={errors[field.path]}
                onChange={(v) => edit(field, v)}
              />
            ))}
            <div className="form-actions">
              <button type="submit" disabled={saving === section.name}>
                Save {section.title.toLowerCase()}
              </button>
              <button
                type="button"
                onClick={() => {
                  setDrafts((d) => draftsOf(sections, config, section.name, d))
                  setErrors(Object.fromEntries(Object.entries(errors).filter(([k]) => !k.startsWith(`${section.name}.`))))
                  setNotes(({ [section.name]: _gone, ...rest }) => rest)
                }}
              >
                Revert
              </button>
              {notes[section.name] && (
                <span className={notes[section.name].error ? 'field-error' : 'muted'} role="status">
                  {notes[section.name].text}
                </span>
              )}
            </div>
          </fieldset>
        </form>
      ))}
    </div>
  )
}

function Field({
  field,
  draft,
  error,
  onChange,
}: {
  field: FieldSpec
  draft: Draft
  error?: string
  onChange: (value: Draft) => void
}) {
  const id = `field-${field.path}`
  const help = `${id}-help`
  const errorId = `${id}-error`
  const describedBy = [field.description ? help : null, error ? errorId : null].filter(Boolean).join(' ') || undefined
  const common = { id, 'aria-describedby': describedBy, 'aria-invalid': error ? true : undefined }

  let input
  switch (field.kind) {
    case 'boolean':
      input = <input {...common} type="checkbox" checked={draft === true} onChange={(e) => onChange(e.target.checked)} />
      break
    case 'integer':
    case 'number':
      input = (
        <input
          {...common}
          type="number"
          step={field.kind === 'integer' ? 1 : 'any'}
          min={field.minimum ?? field.exclusiveMinimum}
          max={field.maximum ?? field.exclusiveMaximum}
          placeholder={field.nullable ? 'default' : undefined}
          value={String(draft)}
          onChange={(e) => onChange(e.target.value)}
        />
      )
      break
    case 'enum':
      input = (
        <select {...common} value={String(draft)} onChange={(e) => onChange(e.target.value)}>
          {field.nullable && <option value="">(default)</option>}
          {field.options.map((o) => (
            <option key={String(o)} value={String(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      )
      break
    case 'string-list':
    case 'json':
      input = (
        <textarea
          {...common}
          rows={field.kind === 'json' ? 4 : 2}
          placeholder={field.kind === 'string-list' ? 'one per line' : 'JSON'}
          value={String(draft)}
          onChange={(e) => onChange(e.target.value)}
        />
      )
      break
    case 'secret':
      input = <input {...common} type="text" readOnly value={String(draft) || '(none)'} />
      break
    default:
      input = (
        <input
          {...common}
          type="text"
          placeholder={field.nullable ? 'default' : undefined}
          value={String(draft)}
          onChange={(e) => onChange(e.target.value)}
        />
      )
  }

  return (
    <div className={`field${error ? ' has-error' : ''}`} data-field={field.path}>
      <label htmlFor={id}>
        {field.title} <code className="muted">{field.name}</code>
      </label>
      {input}
      {field.description && (
        <small id={help} className="muted">
          {field.description}
          {field.kind === 'secret' ? ' Secrets are set in the configuration file.' : ''}
        </small>
      )}
      {error && (
        <small id={errorId} className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  )
}
