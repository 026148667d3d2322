// TLS material: a brought certificate is checked (readable, PEM, key matches); the mock's own CA is made once, kept,
// and refused with one clear line when it cannot be used. Certificate fields are RFC 5280's.
import { generateKeyPairSync } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import forge from 'node-forge'
import t from 'tap'
import { ConfigError, type Config } from '../src/config.js'
import { CA_CERT_FILE, CA_KEY_FILE, loadTlsMaterial, temporaryCaDir, userCaDir } from '../src/tls.js'

function tempDir (): string {
  return mkdtempSync(join(tmpdir(), 'tls-test-'))
}

const generated = (caDir: string): Config['https'] => ({ port: 0, cert: null, key: null, caDir, hostnames: [] })
const brought = (cert: string, key: string): Config['https'] => ({ port: 0, cert, key, caDir: null, hostnames: [] })

/** A certificate and its key from a fresh CA, written to files, as a user would bring them. */
async function pairFiles (): Promise<{ dir: string, cert: string, key: string }> {
  const dir = tempDir()
  const material = await loadTlsMaterial(generated(join(dir, 'ca')))
  writeFileSync(join(dir, 'cert.pem'), material.cert)
  writeFileSync(join(dir, 'key.pem'), material.key)
  return { dir, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }
}

t.test('the per-user CA directory follows each platform\'s cache convention', async (t) => {
  t.equal(userCaDir({ XDG_CACHE_HOME: '/xdg' }, 'linux', '/home/u'), join('/xdg', 'thrive-audience-mock', 'ca'))
  t.equal(userCaDir({ XDG_CACHE_HOME: '' }, 'linux', '/home/u'), join('/home/u', '.cache', 'thrive-audience-mock', 'ca'))
  t.equal(userCaDir({}, 'darwin', '/Users/u'), join('/Users/u', 'Library', 'Caches', 'thrive-audience-mock', 'ca'))
  t.equal(userCaDir({ LOCALAPPDATA: 'C:\\Local' }, 'win32', 'C:\\Users\\u'), join('C:\\Local', 'thrive-audience-mock', 'ca'))
  t.equal(userCaDir({}, 'win32', 'C:\\Users\\u'), join('C:\\Users\\u', 'AppData', 'Local', 'thrive-audience-mock', 'ca'))
})

t.test('the in-process CA directory is one temporary directory for the whole process', async (t) => {
  const dir = temporaryCaDir()
  t.equal(temporaryCaDir(), dir)
  t.match(dir, /thrive-mock-ca-/)
})

t.test('a brought certificate and key that belong together are served as given, with no CA of the mock\'s', async (t) => {
  const files = await pairFiles()
  const material = await loadTlsMaterial(brought(files.cert, files.key))
  t.match(material, { caCert: null, caCertPath: null, cert: /^-----BEGIN CERTIFICATE-----/, key: /^-----BEGIN RSA PRIVATE KEY-----/ })
})

t.test('a brought certificate or key that cannot be used stops start-up with one line naming the file', async (t) => {
  const files = await pairFiles()
  const missing = join(files.dir, 'missing.pem')
  const notPem = join(files.dir, 'not.pem')
  writeFileSync(notPem, 'hello\n')
  const other = join(files.dir, 'other-key.pem')
  writeFileSync(other, generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey)
  const encrypted = join(files.dir, 'encrypted-key.pem')
  writeFileSync(encrypted, generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey)
  const cases: Array<[string, string, RegExp]> = [
    [files.cert, encrypted, new RegExp(`^TLS key file "${encrypted}": the key is encrypted with a passphrase: give it unencrypted`)],
    [missing, files.key, new RegExp(`^TLS certificate file "${missing}": cannot read it: ENOENT`)],
    [files.cert, missing, new RegExp(`^TLS key file "${missing}": cannot read it: ENOENT`)],
    [notPem, files.key, new RegExp(`^TLS certificate file "${notPem}": not a PEM certificate \\(`)],
    [files.cert, notPem, new RegExp(`^TLS key file "${notPem}": not a PEM private key \\(`)]
  ]
  for (const [cert, key, message] of cases) {
    await t.rejects(loadTlsMaterial(brought(cert, key)), { name: 'ConfigError', message })
  }
  await t.rejects(loadTlsMaterial(brought(files.cert, other)), new ConfigError(`TLS key file "${other}" does not match the certificate in "${files.cert}"`))
})

t.test('a CA directory that cannot be made or written is one clear line naming it', async (t) => {
  const dir = tempDir()
  const file = join(dir, 'a-file')
  writeFileSync(file, '')
  await t.rejects(loadTlsMaterial(generated(join(file, 'ca'))), { name: 'ConfigError', message: new RegExp(`^TLS CA directory "${join(file, 'ca')}": cannot create it: ENOTDIR`) })
  // The directory's own name taken by a file.
  await t.rejects(loadTlsMaterial(generated(file)), { name: 'ConfigError', message: new RegExp(`^TLS CA directory "${file}": cannot create it: EEXIST`) })
  // Under /proc, where Node 20's recursive mkdir never returns: each level is made in turn, so this fails at once.
  if (process.platform === 'linux') {
    await t.rejects(loadTlsMaterial(generated('/proc/no-such-dir/ca')), { name: 'ConfigError', message: /^TLS CA directory "\/proc\/no-such-dir\/ca": cannot create it: ENOENT/ })
  }
  // The certificate's name is a link into a directory that does not exist: the CA cannot be written.
  const blocked = join(dir, 'blocked')
  mkdirSync(blocked)
  symlinkSync(join(dir, 'no-such-dir', 'ca.pem'), join(blocked, CA_CERT_FILE))
  await t.rejects(loadTlsMaterial(generated(blocked)), { name: 'ConfigError', message: new RegExp(`^TLS CA directory "${blocked}": cannot write the CA: ENOENT`) })
})

t.test('a CA directory is made with its missing parents, owner-only', async (t) => {
  const dir = join(tempDir(), 'several', 'levels', 'ca')
  const material = await loadTlsMaterial(generated(dir))
  t.equal(material.caCertPath, join(dir, CA_CERT_FILE))
  t.equal(statSync(dir).mode & 0o777, 0o700)
  t.equal(statSync(join(dir, '..')).mode & 0o777, 0o700)
})

t.test('a kept CA certificate without its key is refused, never silently replaced (clients may trust it)', async (t) => {
  const dir = join(tempDir(), 'ca')
  await loadTlsMaterial(generated(dir))
  const before = readFileSync(join(dir, CA_CERT_FILE), 'utf8')
  rmSync(join(dir, CA_KEY_FILE))
  await t.rejects(loadTlsMaterial(generated(dir)), new ConfigError(`TLS CA directory "${dir}": ${CA_CERT_FILE} is there without its key ${CA_KEY_FILE}: put the key beside it, or remove ${join(dir, CA_CERT_FILE)} to make a new CA (and trust it again)`))
  t.equal(readFileSync(join(dir, CA_CERT_FILE), 'utf8'), before, 'the certificate is left as it was')
})

t.test('a kept CA that is damaged is refused, naming the file, never silently replaced (clients trust it)', async (t) => {
  const dir = join(tempDir(), 'ca')
  await loadTlsMaterial(generated(dir))
  writeFileSync(join(dir, CA_KEY_FILE), 'not a key\n')
  await t.rejects(loadTlsMaterial(generated(dir)), { name: 'ConfigError', message: new RegExp(`^TLS key file "${join(dir, CA_KEY_FILE)}": not a PEM private key`) })
})

t.test('a kept CA that expires before a new server certificate would is refused, saying how to make a new one', async (t) => {
  const dir = join(tempDir(), 'ca')
  mkdirSync(dir, { recursive: true })
  const keys = forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001 })
  const cert = forge.pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = '01'
  cert.validity.notBefore = new Date(Date.now() - 86_400_000)
  cert.validity.notAfter = new Date(Date.now() + 30 * 86_400_000)
  cert.setSubject([{ name: 'commonName', value: 'short-lived CA' }])
  cert.setIssuer([{ name: 'commonName', value: 'short-lived CA' }])
  cert.setExtensions([{ name: 'basicConstraints', cA: true }])
  cert.sign(keys.privateKey, forge.md.sha256.create())
  writeFileSync(join(dir, CA_CERT_FILE), forge.pki.certificateToPem(cert))
  writeFileSync(join(dir, CA_KEY_FILE), forge.pki.privateKeyToPem(keys.privateKey), { mode: 0o600 })
  await t.rejects(loadTlsMaterial(generated(dir)), {
    name: 'ConfigError',
    message: `TLS CA certificate file "${join(dir, CA_CERT_FILE)}" expires on ${cert.validity.notAfter.toISOString().replace(/\.\d{3}Z$/, '.000Z')}, before a server certificate made now would: delete ${join(dir, CA_CERT_FILE)} and ${join(dir, CA_KEY_FILE)} to make a new CA (and trust it again)`
  })
})

t.test('when another start has taken the CA key\'s name, its CA is used; without its certificate, the error names the file', async (t) => {
  const dir = join(tempDir(), 'ca')
  mkdirSync(dir, { recursive: true })
  // A name that exists without being a file: the exclusive create fails as it does when another process won the race.
  symlinkSync(join(dir, 'nowhere'), join(dir, CA_KEY_FILE))
  await t.rejects(loadTlsMaterial(generated(dir)), { name: 'ConfigError', message: new RegExp(`^TLS CA certificate file "${join(dir, CA_CERT_FILE)}": cannot read it: ENOENT`) })
})
