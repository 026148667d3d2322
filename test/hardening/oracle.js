// The documented error shapes and the secret check, as lists of problems: the hardening tests (through
// contract.ts) throw on them and scripts/fuzz.mjs counts them. Plain JavaScript because the fuzz script runs with
// plain node on the build, and this is the one statement of the contract both use.

/** What Node's HTTP parser rejects reaches the client error handler, before any route: always Thrive's shape. */
export const PARSER_MESSAGES = ['The request is not valid HTTP', 'The request headers (or URL) are larger than this server accepts', 'The request was not received in time']

/**
 * The checks, given the reason phrases and OAuth error codes the server is built with: the tests pass the
 * sources, the fuzz script the build it runs.
 */
export function contractOracle ({ reasonPhrase, oauthErrors }) {
  /** The body of an error answer, or the problems that keep it from being one. */
  function parse (res) {
    const problems = []
    if (!/^application\/json/.test(String(res.headers['content-type']))) problems.push('an error must be application/json')
    let body
    try {
      body = JSON.parse(res.body)
    } catch {
      return { problems: [...problems, 'an error body must be JSON'] }
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { problems: [...problems, 'an error body must be an object'] }
    return { body, problems }
  }

  /** The body of an error answer with exactly `keys` (sorted, comma-separated), or the problems that keep it from being one. */
  function errorBody (res, statuses, keys, exactly) {
    if (res.statusCode < 400 || res.statusCode > 599) return { problems: ['expected an error status'] }
    if (statuses !== undefined && !statuses.includes(res.statusCode)) return { problems: [`expected one of ${statuses.join(', ')}`] }
    const { body, problems } = parse(res)
    if (body === undefined) return { problems }
    if (Object.keys(body).sort().join() !== keys) return { problems: [...problems, exactly] }
    return { body, problems }
  }

  /** Thrive's documented error: exactly {status, error, message}, status repeated, the docs' reason phrase, JSON. */
  function thriveErrorProblems (res, statuses) {
    const { body, problems } = errorBody(res, statuses, 'error,message,status', 'an error body has exactly status, error and message')
    if (body === undefined) return problems
    if (body.status !== res.statusCode) problems.push('body.status must repeat the status')
    if (body.error !== reasonPhrase(res.statusCode)) problems.push('body.error must be the reason phrase')
    if (typeof body.message !== 'string' || body.message === '') problems.push('body.message must be a non-empty string')
    if (res.statusCode === 401 && res.headers['www-authenticate'] === undefined) problems.push('a 401 carries WWW-Authenticate')
    return problems
  }

  /** RFC 6749 §5.2: exactly {error, error_description}, a registered code, JSON, not cacheable. */
  function oauthErrorProblems (res, statuses) {
    const { body, problems } = errorBody(res, statuses, 'error,error_description', 'an OAuth error body has exactly error and error_description')
    if (body === undefined) return problems
    if (!oauthErrors.includes(body.error)) problems.push('error must be an RFC 6749 §5.2 code')
    if (typeof body.error_description !== 'string' || body.error_description === '') problems.push('error_description must be a non-empty string')
    if (res.headers['cache-control'] !== 'no-store') problems.push('an OAuth error is not cacheable')
    if (res.statusCode === 401 && !/^Basic /.test(String(res.headers['www-authenticate']))) problems.push('a 401 invalid_client carries a Basic challenge')
    return problems
  }

  /**
   * An error answer from a route speaking `dialect` ("thrive" or "oauth"). The token route's answers come in
   * RFC 6749 form, except what Node's parser refused before any route ran.
   */
  function errorProblems (res, dialect) {
    if (dialect === 'thrive') return thriveErrorProblems(res)
    const { body } = parse(res)
    if (body !== undefined && PARSER_MESSAGES.includes(body.message)) return thriveErrorProblems(res)
    return oauthErrorProblems(res)
  }

  return { thriveErrorProblems, oauthErrorProblems, errorProblems }
}

/** Problems unless the response (body and headers) is free of every given secret in the forms the caller lists. */
export function secretProblems (res, secrets) {
  const text = `${res.body}\n${JSON.stringify(res.headers)}`
  return secrets.filter((secret) => secret.length >= 6 && text.includes(secret)).map((secret) => `the response echoes the secret ${JSON.stringify(secret.slice(0, 20))}`)
}
