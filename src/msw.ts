// thrive-audience-mock/msw: the whole mock as Mock Service Worker handlers. A client's own fetch or node:http(s) call to
// a Thrive host is answered in process, with no port and no certificate: each request runs through the same Fastify
// app as over a socket (app.inject()), so auth, scopes, errors, violations, faults, coverage and the journal are the same.
import { http, HttpResponse, type HttpHandler } from 'msw'
import { buildApp } from './app.js'
import { ConfigError, libraryConfig } from './config.js'
import { mockControl, toSources, type MockControl, type MockServerOptions } from './index.js'
import { NoConnectionError } from './plugins/faults.js'

/** The documented Thrive hosts: REST and API tokens (public.api.*), webhook tokens (user.api.*). */
export const THRIVE_HOSTS: readonly string[] = [
  'public.api.learn.link',
  'public.api.mea.learn.tech',
  'public.api.learnstaging.link',
  'public.api.meastaging.learn.tech',
  'user.api.learn.link',
  'user.api.mea.learn.tech',
  'user.api.learnstaging.link',
  'user.api.meastaging.learn.tech'
]

/** The options of startMockServer that mean something without a socket, and the hosts to answer besides Thrive's. */
export interface ThriveHandlersOptions extends Pick<MockServerOptions, 'fixtures' | 'generate' | 'seed' | 'token' | 'faults' | 'adminToken' | 'journalSize' | 'strict' | 'logLevel' | 'logger'> {
  /** More hosts to answer, e.g. ['thrive.internal.test'] or ['localhost:3000'], on http and https. */
  hosts?: string[]
}

export interface ThriveHandlers extends MockControl {
  /** For setupServer(...handlers) from msw/node: every route of the mock on every host in `hosts`, http and https. */
  handlers: HttpHandler[]
  /** The hosts answered: Thrive's, then the option's. */
  hosts: string[]
}

/** Options of startMockServer that need a socket. */
const SOCKET_ONLY = ['port', 'host', 'https']
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/

function hostsOf (given: unknown): string[] {
  if (given === undefined) return []
  if (!Array.isArray(given) || !given.every((h) => typeof h === 'string' && HOST.test(h))) {
    throw new ConfigError(`hosts must be an array of host names (with an optional :port), e.g. ["thrive.internal.test"], got ${JSON.stringify(given)}`)
  }
  return given.map((h) => h.toLowerCase())
}

/** Builds the mock and returns its msw handlers with the control methods of startMockServer, sharing one state. */
export async function createThriveHandlers (options: ThriveHandlersOptions = {}): Promise<ThriveHandlers> {
  const { hosts: extra, faults, logger, ...rest } = options
  for (const key of SOCKET_ONLY) {
    if (key in rest) throw new ConfigError(`option "${key}" needs a socket, and the msw handlers have none: leave it out, or use startMockServer`)
  }
  const hosts = [...new Set([...THRIVE_HOSTS, ...hostsOf(extra)])]
  // Checked like startMockServer's options, before anything is built: a misspelt option is a ConfigError naming it.
  const config = libraryConfig({ ...rest, fixtures: toSources(rest.fixtures) }, [])
  const app = await buildApp(config, logger === undefined ? {} : { logger })
  for (const rule of faults ?? []) {
    try {
      app.faults.add(rule)
    } catch (err) {
      await app.close()
      throw err
    }
  }

  // Hung requests answer (as a broken connection) when the mock closes, so close never waits on them.
  const hanging = new Set<() => void>()
  app.addHook('onClose', async function () {
    for (const finish of hanging) finish()
  })

  /** A transport fault as a client without a connection sees it: a network error, at once or when the hang ends. */
  function brokenConnection (err: NoConnectionError, signal: AbortSignal): Response | Promise<Response> {
    if (err.transport !== 'hang') return HttpResponse.error()
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer)
        hanging.delete(finish)
        signal.removeEventListener('abort', finish)
        resolve(HttpResponse.error())
      }
      const timer = setTimeout(finish, err.hangMs)
      hanging.add(finish)
      signal.addEventListener('abort', finish)
    })
  }

  async function answer (request: Request): Promise<Response> {
    const url = new URL(request.url)
    const headers = Object.fromEntries(request.headers)
    // The Host the client addressed, as a socket would receive it.
    headers.host = url.host
    const payload = request.body === null ? undefined : Buffer.from(await request.arrayBuffer())
    let res
    try {
      res = await app.inject({ method: request.method as 'GET', url: `${url.pathname}${url.search}`, headers, ...(payload === undefined ? {} : { payload }) })
    } catch (err) {
      if (err instanceof NoConnectionError) return await brokenConnection(err, request.signal)
      throw err
    }
    const out = new Headers()
    for (const [name, value] of Object.entries(res.headers)) {
      for (const v of [value].flat()) out.append(name, String(v))
    }
    // No body is null, not an empty one: a Response refuses any body on a 204 or 304, and on a HEAD there is none.
    const body = res.rawPayload.length === 0 ? null : res.rawPayload
    return new HttpResponse(body, { status: res.statusCode, headers: out })
  }

  const handlers = hosts.flatMap((host) => ['https', 'http'].map((scheme) => http.all(`${scheme}://${host}/*`, async ({ request }) => await answer(request))))

  return {
    handlers,
    hosts,
    ...mockControl(app, async (tenantId, form) => {
      // Through the same path as a client's request, so rules and the journal see it and a transport fault rejects it.
      const res = await answer(new Request(`https://${THRIVE_HOSTS[0] as string}/oauth2/token/${encodeURIComponent(tenantId)}`, { method: 'POST', body: form }))
      if (res.type === 'error') throw new TypeError('fetch failed')
      return { status: res.status, body: await res.text() }
    })
  }
}
