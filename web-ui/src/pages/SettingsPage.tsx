import { useEffect, useState } from 'react'
import { useApi } from '../api/context'
import type { Config, JsonSchema } from '../api/types'
import { ErrorNotice } from '../components/Notice'
import { SettingsForm } from '../settings/SettingsForm'

export function SettingsPage() {
  const api = useApi()
  const [loaded, setLoaded] = useState<{ schema: JsonSchema; config: Config } | null>(null)
  const [error, setError] = useState<unknown>(null)

  useEffect(() => {
    let live = true
    Promise.all([api.configSchema(), api.config()]).then(
      ([schema, config]) => live && setLoaded({ schema, config }),
      (e) => live && setError(e),
    )
    return () => {
      live = false
    }
  }, [api])

  return (
    <section aria-labelledby="settings-title" aria-busy={loaded == null && error == null}>
      <h2 id="settings-title">Settings</h2>
      <p className="muted">Each section saves on its own; only the fields you changed are sent.</p>
      {error != null && <ErrorNotice error={error} what="Settings" />}
      {loaded && (
        <SettingsForm
          schema={loaded.schema}
          config={loaded.config}
          save={(section, values) => api.patchConfig(section, values)}
        />
      )}
      {!loaded && error == null && <p>Loading…</p>}
    </section>
  )
}
