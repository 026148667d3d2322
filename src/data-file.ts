// Reading and validating the JSON files the mock starts from (fixtures, fault rules), with errors naming file and JSON path.
import { readFileSync } from 'node:fs'
import type { TSchema } from 'typebox'
import type { Validator } from 'typebox/compile'

export type DataFileKind = 'fixture' | 'faults file'

/** A data file problem: names the source, the JSON path and what is wrong, so start-up can stop with one clear line. */
export class DataFileError extends Error {
  readonly kind: DataFileKind
  readonly source: string
  readonly path: string

  constructor (kind: DataFileKind, source: string, path: string, problem: string) {
    super(`${source}: ${path}: ${problem}`)
    this.name = 'DataFileError'
    this.kind = kind
    this.source = source
    this.path = path
  }
}

/** JSON pointer (/tenants/0/name) to the JSONPath form people read ($.tenants[0].name). */
export function toJsonPath (pointer: string, root = '$'): string {
  let out = root
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    out += /^\d+$/.test(part) ? `[${part}]` : /^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`
  }
  return out
}

function describeValue (value: unknown): string {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function valueAt (data: unknown, pointer: string): unknown {
  let current = data
  for (const raw of pointer.split('/').slice(1)) {
    current = (current as Record<string, unknown>)[raw.replaceAll('~1', '/').replaceAll('~0', '~')]
  }
  return current
}

/** The first schema violation as [JSON pointer, readable problem], or null when the data is valid. */
export function firstProblem (validator: Validator<any, TSchema>, data: unknown): [string, string] | null {
  if (validator.Check(data)) return null
  // Typebox reports an unknown field twice (as a false sub-schema and as additionalProperties); keep the readable one.
  const first = [...validator.Errors(data)].find((e) => e.keyword !== 'boolean')
  /* c8 ignore next - Check() failed, so at least one readable error exists */
  if (first === undefined) return ['', 'does not match the schema']
  if (first.keyword === 'additionalProperties') {
    const extra = (first.params as { additionalProperties: [string] }).additionalProperties[0]
    return [`${first.instancePath}/${extra}`, `unknown field "${extra}"`]
  }
  if (first.keyword === 'required') {
    const missing = (first.params as { requiredProperties: [string] }).requiredProperties[0]
    return [`${first.instancePath}/${missing}`, 'required field is missing']
  }
  const params = first.params as { allowedValues?: unknown[] }
  const allowed = params.allowedValues === undefined ? '' : ` (one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')})`
  return [first.instancePath, `${first.message}${allowed}, got ${describeValue(valueAt(data, first.instancePath))}`]
}

export function validateDocument<T> (kind: DataFileKind, validator: Validator<any, TSchema>, source: string, data: unknown): T {
  const problem = firstProblem(validator, data)
  if (problem !== null) throw new DataFileError(kind, source, toJsonPath(problem[0]), problem[1])
  return data as T
}

class JsonStop {
  constructor (readonly offset: number, readonly problem: string) {}
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r'])
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't'])

/**
 * Where a text breaks the JSON grammar (RFC 8259), and how; null when it does not. JSON.parse's own messages
 * cannot be relied on for this: Node 20 gives no position for an unexpected token, and Node 22 words them
 * differently. Iterative, so a deeply nested file cannot overflow the stack.
 */
export function locateJsonError (text: string): { offset: number, problem: string } | null {
  let i = 0
  const stop = (expected: string): never => {
    const found = i >= text.length ? 'unexpected end of input' : `unexpected character ${JSON.stringify(text[i])}`
    throw new JsonStop(i, `${found}, expected ${expected}`)
  }
  const skipWhitespace = () => { while (WHITESPACE.has(text[i] as string)) i++ }
  const digits = (expected: string) => {
    if (!/[0-9]/.test(text[i] ?? '')) stop(expected)
    while (/[0-9]/.test(text[i] ?? '')) i++
  }
  const string = () => {
    i++
    for (;;) {
      const c = text[i]
      if (c === undefined) stop('a closing \'"\'')
      if (c === '"') break
      if ((c as string) < ' ') stop('an escaped control character (\\n, \\t, \\u0001...)')
      if (c === '\\') {
        i++
        if (text[i] === 'u') {
          for (let k = 0; k < 4; k++) { i++; if (!/[0-9A-Fa-f]/.test(text[i] ?? '')) stop('four hex digits after \\u') }
        } else if (!ESCAPES.has(text[i] as string)) stop('an escape: \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\u')
      }
      i++
    }
    i++
  }
  const member = () => {
    skipWhitespace()
    if (text[i] !== '"') stop('a property name in double quotes')
    string()
    skipWhitespace()
    if (text[i] !== ':') stop('\':\' after a property name')
    i++
  }
  const scalar = () => {
    const c = text[i]
    if (c === '"') return string()
    if (c === '-' || /[0-9]/.test(c ?? '')) {
      if (c === '-') i++
      if (text[i] === '0') i++
      else digits('a digit')
      if (text[i] === '.') { i++; digits('a digit after the decimal point') }
      if (text[i] === 'e' || text[i] === 'E') {
        i++
        if (text[i] === '+' || text[i] === '-') i++
        digits('a digit in the exponent')
      }
      return
    }
    const word = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : undefined
    if (word === undefined) stop('a value')
    for (const letter of word as string) {
      if (text[i] !== letter) stop(`"${word as string}"`)
      i++
    }
  }
  const open: Array<'}' | ']'> = []
  try {
    for (;;) {
      skipWhitespace()
      const c = text[i]
      if (c === '{' || c === '[') {
        i++
        skipWhitespace()
        const close = c === '{' ? '}' : ']'
        if (text[i] !== close) {
          open.push(close)
          if (close === '}') member()
          continue
        }
        i++
      } else {
        scalar()
      }
      // A value ended: close what it completes, then find where the next value starts.
      for (;;) {
        skipWhitespace()
        const close = open.at(-1)
        if (close === undefined) {
          if (i < text.length) stop('the end of the file after the JSON value')
          return null
        }
        if (text[i] === close) {
          i++
          open.pop()
          continue
        }
        if (text[i] !== ',') stop(`',' or '${close}'`)
        i++
        if (close === '}') member()
        break
      }
    }
  } catch (err) {
    /* c8 ignore next - only a JsonStop is thrown inside */
    if (!(err instanceof JsonStop)) throw err
    return { offset: err.offset, problem: err.problem }
  }
}

/** 1-based line and column of a UTF-16 offset, as editors count them. */
export function lineAndColumn (text: string, offset: number): { line: number, column: number } {
  const before = text.slice(0, offset)
  const lastBreak = before.lastIndexOf('\n')
  return { line: before.split('\n').length, column: offset - lastBreak }
}

export function readJsonFile (kind: DataFileKind, file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code as string
    throw new DataFileError(kind, file, '$', code === 'ENOENT' ? 'no such file or directory' : `cannot read file (${code})`)
  }
  // Editors on Windows save UTF-8 with a byte order mark; JSON.parse refuses it and RFC 8259 §8.1 lets a parser ignore it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    const yaml = /\.ya?ml$/i.test(file) ? ' (YAML is not read: write the file as JSON)' : ''
    const where = locateJsonError(text)
    /* c8 ignore next - JSON.parse fails on valid JSON only past V8's string size limit, which readFileSync reaches first */
    if (where === null) throw new DataFileError(kind, file, '$', `invalid JSON: ${(err as Error).message}${yaml}`)
    const { line, column } = lineAndColumn(text, where.offset)
    throw new DataFileError(kind, file, '$', `invalid JSON at line ${line}, column ${column}: ${where.problem}${yaml}`)
  }
}
