import { useEffect, useState, type ComponentType } from 'react'
import type { ApiClient } from './api/client'
import { ApiProvider } from './api/context'
import { Login } from './Login'
import { LogsPage } from './pages/LogsPage'
import { ModelsPage } from './pages/ModelsPage'
import { PlaygroundPage } from './pages/PlaygroundPage'
import { SettingsPage } from './pages/SettingsPage'
import { StatusPage } from './pages/StatusPage'

export const PAGES: { path: string; title: string; component: ComponentType }[] = [
  { path: 'status', title: 'Status', component: StatusPage },
  { path: 'logs', title: 'Logs', component: LogsPage },
  { path: 'models', title: 'Models', component: ModelsPage },
  { path: 'settings', title: 'Settings', component: SettingsPage },
  { path: 'playground', title: 'Playground', component: PlaygroundPage },
]

// Hash routes: the server only has to serve one page.
function currentPath(): string {
  const path = window.location.hash.replace(/^#\/?/, '')
  return PAGES.some((p) => p.path === path) ? path : 'status'
}

export function App({ client }: { client: ApiClient }) {
  const [path, setPath] = useState(currentPath)
  const [needsKey, setNeedsKey] = useState(false)
  // A new session remounts the pages, so each fetches again with the new key.
  const [session, setSession] = useState(0)

  useEffect(() => {
    const onHash = () => setPath(currentPath())
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [])

  useEffect(() => client.onUnauthorized(() => setNeedsKey(true)), [client])

  const page = PAGES.find((p) => p.path === path) ?? PAGES[0]
  const Page = page.component
  return (
    <ApiProvider client={client}>
      <header className="top">
        <h1>Pylot</h1>
        <nav aria-label="Pages">
          {PAGES.map((p) => (
            <a key={p.path} href={`#/${p.path}`} aria-current={p.path === page.path ? 'page' : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
        {client.apiKey && !needsKey && (
          <button
            type="button"
            className="link"
            onClick={() => {
              client.apiKey = null
              setSession((s) => s + 1)
            }}
          >
            Forget key
          </button>
        )}
      </header>
      <main>
        {needsKey ? (
          <Login
            client={client}
            onLoggedIn={() => {
              setNeedsKey(false)
              setSession((s) => s + 1)
            }}
          />
        ) : (
          <Page key={`${page.path}-${session}`} />
        )}
      </main>
    </ApiProvider>
  )
}
