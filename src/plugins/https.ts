// The HTTPS listener: a second server in the same process, feeding the same Fastify routing, so HTTP and HTTPS share
// routes, state, faults and the journal. A plain HTTP request on its port gets a clear 400 and a close.
import { once } from 'node:events'
import { createServer, type Server } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { TLSSocket } from 'node:tls'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { reasonPhrase } from '../errors.js'
import type { TlsMaterial } from '../tls.js'
import { clientErrorHandler, errorBody } from './errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The HTTPS listener and what it serves; null when the mock serves plain HTTP only. */
    https: HttpsListener | null
  }
}

export interface HttpsListener {
  server: Server
  tls: TlsMaterial
  /** Listens on host and port (0: a free one) and resolves with its origin, e.g. https://127.0.0.1:8443. */
  listen: (host: string, port: number) => Promise<{ url: string, port: number }>
}

/** The first byte of every TLS connection: a handshake record (RFC 8446 §5.1, ContentType handshake = 22). */
const TLS_HANDSHAKE = 0x16

export const PLAIN_HTTP_MESSAGE = 'This port serves HTTPS only: send the request to https:// on this port (or plain http:// to the HTTP port)'

/** The TCP connection a request arrived on, under TLS when there is TLS: only that one can be reset. */
export function tcpSocket (socket: Socket): Socket {
  // A TLS socket made from an accepted TCP socket keeps it as _parent (node:_tls_wrap), and a reset needs the TCP handle.
  return socket instanceof TLSSocket ? (socket as TLSSocket & { _parent: Socket })._parent : socket
}

const UNSPECIFIED = new Set(['0.0.0.0', '::'])

/** The origin clients use: an unspecified address is reached as localhost, which the certificate covers. */
function origin (address: AddressInfo): string {
  const host = UNSPECIFIED.has(address.address)
    ? 'localhost'
    : address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `https://${host}:${address.port}`
}

/** Answers a connection whose first byte is not a TLS handshake: one JSON 400 in Thrive's error shape, then a close. */
function refusePlainHttp (socket: Socket): void {
  const body = JSON.stringify(errorBody(400, PLAIN_HTTP_MESSAGE))
  socket.end(`HTTP/1.1 400 ${reasonPhrase(400)}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
}

async function httpsPlugin (fastify: FastifyInstance, opts: { tls: TlsMaterial | null, limits: { requestTimeoutMs: number, keepAliveTimeoutMs: number, headersTimeoutMs: number, connectionsCheckingIntervalMs: number, maxHeaderSize: number, maxHeadersCount: number } }) {
  if (opts.tls === null) {
    fastify.decorate('https', null)
    return
  }
  const { limits } = opts
  // The limits of the HTTP server (app.ts LIMITS), so a slow or idle client costs the same on either port.
  const server = createServer({
    key: opts.tls.key,
    cert: opts.tls.cert,
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
    maxHeaderSize: limits.maxHeaderSize
  }, (req, res) => { fastify.routing(req, res) })
  server.keepAliveTimeout = limits.keepAliveTimeoutMs
  server.maxHeadersCount = limits.maxHeadersCount
  server.on('clientError', clientErrorHandler)
  // A failed handshake (a client that does not trust the CA, say) is the client's business, not a server error.
  server.on('tlsClientError', (err, socket) => { fastify.log.debug({ err: err.message }, 'TLS handshake failed'); socket.destroy() })

  // Every connection is looked at before TLS starts: a handshake goes on to TLS; anything else is plain HTTP sent
  // to the wrong port, which would otherwise end in an unexplained reset.
  const [startTls] = server.listeners('connection') as Array<(socket: Socket) => void>
  server.removeAllListeners('connection')
  // Connections not (yet) handed to TLS: the HTTP server does not know them, so closing the app ends them here.
  const untracked = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    untracked.add(socket)
    socket.once('close', () => untracked.delete(socket))
    // A client that connects and says nothing is dropped when its headers would have been due.
    socket.setTimeout(limits.headersTimeoutMs, () => socket.destroy())
    socket.on('error', () => socket.destroy())
    socket.once('readable', function sniff () {
      const chunk = socket.read() as Buffer | null
      if (chunk === null) {
        socket.once('readable', sniff)
        return
      }
      // Put back what was read: TLS reads it from the socket's buffer first (node:_tls_wrap initRead).
      socket.unshift(chunk)
      if (chunk[0] === TLS_HANDSHAKE) {
        socket.setTimeout(0)
        untracked.delete(socket)
        ;(startTls as (socket: Socket) => void).call(server, socket)
      } else {
        refusePlainHttp(socket)
      }
    })
  })

  fastify.decorate('https', {
    server,
    tls: opts.tls,
    async listen (host: string, port: number) {
      // once() rejects on 'error' (EADDRINUSE, say), so a failed listen rejects here.
      server.listen(port, host)
      await once(server, 'listening')
      const address = server.address() as AddressInfo
      const url = origin(address)
      fastify.log.info({ url }, `HTTPS listening at ${url}`)
      return { url, port: address.port }
    }
  })

  // Closed with the app, so SIGTERM drains both listeners: in-flight requests finish, idle keep-alive connections go.
  fastify.addHook('onClose', async function () {
    if (!server.listening) return
    const closed = once(server, 'close')
    server.close()
    for (const socket of untracked) socket.destroy()
    // close() ends the connections idle now; one busy now goes when its last response is sent, not a keep-alive later.
    const sweep = setInterval(() => { server.closeIdleConnections() }, 50)
    try {
      await closed
    } finally {
      clearInterval(sweep)
    }
  })
}

export default fp(httpsPlugin, { name: 'https', dependencies: ['errors'] })
