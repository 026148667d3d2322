// TLS material for the HTTPS listener: the user's certificate and key, or a server certificate from the mock's own
// local CA, made with node-forge. The CA is kept in a directory so that a client trusts it once.
import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { pki } from 'node-forge'
import { ConfigError, type Config } from './config.js'

export const CA_CERT_FILE = 'ca.pem'
export const CA_KEY_FILE = 'ca-key.pem'

/** Names every generated server certificate covers, whatever --tls-hostnames adds. */
export const DEFAULT_HOSTNAMES = ['localhost', '127.0.0.1', '::1'] as const

/** The CA lives ten years: a client that trusts it once should not have to again. */
const CA_VALIDITY_DAYS = 3650
/** Browsers and Apple's TLS stack refuse a server certificate valid for 398 days or more. */
export const SERVER_VALIDITY_DAYS = 397
/** A server certificate is made at every start; this slack covers a client clock a little behind ours. */
const BACKDATE_MS = 60 * 60 * 1000
const DAY_MS = 24 * 60 * 60 * 1000

export interface TlsMaterial {
  /** PEM private key and certificate (chain) the HTTPS listener serves. */
  key: string
  cert: string
  /** The mock's own CA certificate (PEM), for clients to trust; null when the user brought the certificate. */
  caCert: string | null
  /** Where that CA certificate is on disk; null when the user brought the certificate. */
  caCertPath: string | null
}

/**
 * Where the CLI keeps its CA unless told: the per-user cache directory (XDG on Linux, Library/Caches on macOS,
 * LOCALAPPDATA on Windows). `env`, `platform` and `home` are the process's; they are parameters so a test can give others.
 */
export function userCaDir (env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string {
  const xdg = env.XDG_CACHE_HOME
  const cache = xdg !== undefined && xdg !== ''
    ? xdg
    : platform === 'darwin'
      ? join(home, 'Library', 'Caches')
      : platform === 'win32' ? env.LOCALAPPDATA ?? join(home, 'AppData', 'Local') : join(home, '.cache')
  return join(cache, 'thrive-audience-mock', 'ca')
}

let processCaDir: string | undefined

/**
 * The CA directory of an in-process mock that names none: one temporary directory for the whole process, so every
 * mock a test run starts shares one CA, and nothing is written into the user's home. Removed when the process exits.
 */
export function temporaryCaDir (): string {
  if (processCaDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'thrive-mock-ca-'))
    processCaDir = dir
    process.once('exit', () => { rmSync(dir, { recursive: true, force: true }) })
  }
  return processCaDir
}

function readPem (what: string, file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`${what} "${file}": cannot read it: ${(err as Error).message}`)
  }
}

/** Checks that a certificate file and a key file are PEM and belong together; one line naming the file otherwise. */
function checkPair (certFile: string, cert: string, keyFile: string, key: string): void {
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(cert)
  } catch (err) {
    throw new ConfigError(`TLS certificate file "${certFile}": not a PEM certificate (${(err as Error).message})`)
  }
  let privateKey
  try {
    privateKey = createPrivateKey(key)
  } catch (err) {
    // RFC 7468's "ENCRYPTED PRIVATE KEY", or OpenSSL's older "Proc-Type: 4,ENCRYPTED": a passphrase the mock is not given.
    const why = key.includes('ENCRYPTED')
      ? 'the key is encrypted with a passphrase: give it unencrypted (e.g. openssl pkey -in key.pem -out key-plain.pem)'
      : `not a PEM private key (${(err as Error).message})`
    throw new ConfigError(`TLS key file "${keyFile}": ${why}`)
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new ConfigError(`TLS key file "${keyFile}" does not match the certificate in "${certFile}"`)
  }
}

/** The certificate and key the user brought (--tls-cert, --tls-key). */
function broughtMaterial (certFile: string, keyFile: string): TlsMaterial {
  const cert = readPem('TLS certificate file', certFile)
  const key = readPem('TLS key file', keyFile)
  checkPair(certFile, cert, keyFile, key)
  return { key, cert, caCert: null, caCertPath: null }
}

type Forge = typeof import('node-forge')

function rsaKeyPair (forge: Forge): { pem: string, privateKey: pki.rsa.PrivateKey, publicKey: pki.rsa.PublicKey } {
  // Node's native key generation: node-forge's own, in JavaScript, takes seconds for 2048 bits.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' }
  })
  return { pem: privateKey, privateKey: forge.pki.privateKeyFromPem(privateKey), publicKey: forge.pki.publicKeyFromPem(publicKey) as pki.rsa.PublicKey }
}

/** A positive serial number of 16 random bytes (RFC 5280 §4.1.2.2: at most 20 octets, non-negative). */
function serialNumber (): string {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0] as number) & 0x7f
  return bytes.toString('hex')
}

/** A certificate for a new key pair, valid from a little before now for `days`, with a random serial number. */
function newCertificate (forge: Forge, days: number): { cert: pki.Certificate, keys: ReturnType<typeof rsaKeyPair> } {
  const keys = rsaKeyPair(forge)
  const cert = forge.pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = serialNumber()
  const now = Date.now()
  cert.validity.notBefore = new Date(now - BACKDATE_MS)
  cert.validity.notAfter = new Date(now + days * DAY_MS)
  return { cert, keys }
}

function newCa (forge: Forge): { cert: string, key: string } {
  const { cert, keys } = newCertificate(forge, CA_VALIDITY_DAYS)
  const name = [
    { name: 'commonName', value: 'thrive-audience-mock local development CA' },
    { name: 'organizationName', value: 'thrive-audience-mock' }
  ]
  cert.setSubject(name)
  cert.setIssuer(name)
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' }
  ])
  cert.sign(keys.privateKey, forge.md.sha256.create())
  return { cert: forge.pki.certificateToPem(cert), key: keys.pem }
}

/**
 * `mkdir -p`, owner-only, one level at a time: Node 20's recursive mkdirSync never returns for a path it cannot
 * create under /proc, where creating each level gives the error instead.
 */
function makeDirectory (dir: string): void {
  const parent = dirname(dir)
  if (!existsSync(parent)) makeDirectory(parent)
  try {
    mkdirSync(dir, { mode: 0o700 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(dir).isDirectory()) throw err
  }
}

/**
 * The CA in `dir`, made on first use. The key file is created exclusively and owner-only (0600, in a 0700
 * directory), so two mocks starting at once agree on one CA and no other user can read its key.
 */
async function loadOrCreateCa (forge: Forge, dir: string): Promise<{ cert: string, key: string, certPath: string }> {
  const certPath = join(dir, CA_CERT_FILE)
  const keyPath = join(dir, CA_KEY_FILE)
  try {
    makeDirectory(dir)
  } catch (err) {
    throw new ConfigError(`TLS CA directory "${dir}": cannot create it: ${(err as Error).message}`)
  }
  if (!existsSync(keyPath) && existsSync(certPath)) {
    // A client may trust that certificate: making a new CA would silently replace it.
    throw new ConfigError(`TLS CA directory "${dir}": ${CA_CERT_FILE} is there without its key ${CA_KEY_FILE}: put the key beside it, or remove ${certPath} to make a new CA (and trust it again)`)
  }
  if (!existsSync(keyPath)) {
    const ca = newCa(forge)
    try {
      writeFileSync(keyPath, ca.key, { mode: 0o600, flag: 'wx' })
      writeFileSync(certPath, ca.cert, { mode: 0o644 })
      return { ...ca, certPath }
    } catch (err) {
      // Another mock made the key first: use its CA, once its certificate is written (it writes it right after).
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigError(`TLS CA directory "${dir}": cannot write the CA: ${(err as Error).message}`)
      for (let i = 0; i < 20 && !existsSync(certPath); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const cert = readPem('TLS CA certificate file', certPath)
  const key = readPem('TLS CA key file', keyPath)
  checkPair(certPath, cert, keyPath, key)
  const notAfter = Date.parse(new X509Certificate(cert).validTo)
  if (notAfter < Date.now() + SERVER_VALIDITY_DAYS * DAY_MS) {
    throw new ConfigError(`TLS CA certificate file "${certPath}" expires on ${new Date(notAfter).toISOString()}, before a server certificate made now would: delete ${certPath} and ${keyPath} to make a new CA (and trust it again)`)
  }
  return { cert, key, certPath }
}

/** A server certificate for localhost, 127.0.0.1, ::1 and `hostnames`, signed by the CA. */
function serverCertificate (forge: Forge, ca: { cert: string, key: string }, hostnames: readonly string[]): { cert: string, key: string } {
  const caCert = forge.pki.certificateFromPem(ca.cert)
  const caKey = forge.pki.privateKeyFromPem(ca.key)
  const { cert, keys } = newCertificate(forge, SERVER_VALIDITY_DAYS)
  cert.setSubject([{ name: 'commonName', value: 'localhost' }, { name: 'organizationName', value: 'thrive-audience-mock' }])
  cert.setIssuer(caCert.subject.attributes)
  const names = [...new Set([...DEFAULT_HOSTNAMES, ...hostnames])]
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    // RFC 6125 §6.4.4: clients match the subjectAltName, never the common name, when it is present.
    { name: 'subjectAltName', altNames: names.map((n) => isIP(n) === 0 ? { type: 2, value: n } : { type: 7, ip: n }) },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() }
  ])
  cert.sign(caKey, forge.md.sha256.create())
  return { cert: forge.pki.certificateToPem(cert), key: keys.pem }
}

/**
 * The key and certificate the HTTPS listener serves: the user's own when given, else a fresh server certificate from
 * the CA in `caDir` (a per-process temporary one when null). Failures are ConfigErrors naming the file.
 */
export async function loadTlsMaterial (https: Config['https']): Promise<TlsMaterial> {
  if (https.cert !== null && https.key !== null) return broughtMaterial(https.cert, https.key)
  // Loaded only when the mock makes its own certificate: the CLI's start does not pay for it otherwise.
  const { default: forge } = await import('node-forge')
  const ca = await loadOrCreateCa(forge, https.caDir ?? temporaryCaDir())
  const server = serverCertificate(forge, ca, https.hostnames)
  return { key: server.key, cert: server.cert, caCert: ca.cert, caCertPath: ca.certPath }
}
