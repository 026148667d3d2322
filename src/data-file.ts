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

export function readJsonFile (kind: DataFileKind, file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code as string
    throw new DataFileError(kind, file, '$', code === 'ENOENT' ? 'no such file or directory' : `cannot read file (${code})`)
  }
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new DataFileError(kind, file, '$', `invalid JSON: ${(err as Error).message}`)
  }
}
